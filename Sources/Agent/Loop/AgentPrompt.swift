import Foundation

// MARK: - The planner prompt

/// The user prompt a model planner gets each step: the task, the recent steps, the last
/// failure, and the answer format (the JSON action grammar of docs/actions.md).
public enum AgentPrompt {
  /// How targets are to be given: by element description only (a text planner, whose actions a
  /// grounding model locates), or by point in the screenshot or by description (a VLM planner).
  public enum Targets: Sendable {
    case elements
    case pointsOrElements
    /// A text planner shown a screen parser's element list (`ScreenParse.promptLines()`): it
    /// names an element of the list by number, anything else by description.
    case listedElements(String)
  }

  public static func render(task: String, history: [HistoryEntry], feedback: String?,
                            screenWidth: Int, screenHeight: Int, targets: Targets) -> String {
    var out = "You operate a computer's graphical desktop (\(screenWidth)x\(screenHeight) pixels) to do a task.\n"
    out += "Task: \(task)\n"
    if !history.isEmpty {
      out += "\nYour previous steps, oldest first:\n"
      for (i, h) in history.enumerated() {
        out += "\(i + 1). "
        if let t = h.thought, !t.isEmpty { out += "Thought: \(t) " }
        out += "Action: \(h.action) Result: \(h.result)\n"
      }
    }
    if let feedback {
      out += "\nYour last answer could not be used: \(feedback)\nAnswer again, in the format below.\n"
    }
    out += "\nAnswer with one JSON object: a short thought and the next action, for example\n"
    switch targets {
    case .elements:
      out += #"{"thought": "The dialog has a Save button.", "action": "click", "target": {"element": "the Save button"}}"# + "\n"
      out += "Name targets by what they look like or say; do not give coordinates.\n"
    case .pointsOrElements:
      out += #"{"thought": "The Save button is at the top.", "action": "click", "target": {"point": [512, 300]}}"# + "\n"
      out += #"A target is {"point": [x, y]} in the screenshot or {"element": "a description"}."# + "\n"
    case let .listedElements(lines):
      out += #"{"thought": "Element 3 is the Save button.", "action": "click", "target": {"element_id": 3}}"# + "\n"
      out += #"A target is {"element_id": N} for element N of the list below, or {"element": "a description"} "#
        + "for something the list lacks; do not give coordinates.\n"
      out += "Elements read on the screen ([number] \"text\" at (centre x, y) width x height):\n\(lines)\n"
    }
    out += """
      Actions: click, double_click, right_click ("target"); drag ("from", "to"); \
      scroll ("direction": up|down|left|right, optional "target", "amount"); type ("text"); \
      hotkey ("keys": ["ctrl", "s"]); wait ("seconds"); finished ("summary") when the task is done; \
      call_user ("question") when you need the person.
      """
    return out
  }
}
