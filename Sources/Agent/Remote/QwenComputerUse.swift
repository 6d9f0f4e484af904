import Foundation

/// Qwen2.5-VL's and Qwen3-VL's computer-use tool calls, read as actions of the JSON action
/// grammar: `<tool_call>{"name": "computer_use", "arguments": {"action": "left_click",
/// "coordinate": [x, y]}}</tool_call>` (the function the Qwen cookbooks' `computer_use` tool
/// declares). Coordinates stay the model's; the planner's point space maps them.
enum QwenComputerUse {
  /// The JSON action the tool call asks for, with the text before the call as its thought;
  /// nil when `text` holds no computer-use call or one this agent cannot do (then the JSON
  /// grammar reads `text` itself and reports what is wrong).
  static func translate(_ text: String) -> String? {
    guard text.contains("\"arguments\""), case let .success(json) = JSONActionGrammar.extractJSON(text),
          let root = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
          let args = root["arguments"] as? [String: Any], let name = args["action"] as? String else { return nil }
    func point(_ key: String) -> ActionTarget? {
      guard let v = args[key] as? [Double], v.count == 2 else { return nil }
      return .at(v[0], v[1])
    }
    let action: AgentAction
    switch name {
    case "left_click", "click": guard let t = point("coordinate") else { return nil }; action = .click(t)
    case "double_click": guard let t = point("coordinate") else { return nil }; action = .doubleClick(t)
    case "right_click": guard let t = point("coordinate") else { return nil }; action = .rightClick(t)
    case "left_click_drag":
      guard let from = point("start_coordinate"), let to = point("coordinate") else { return nil }
      action = .drag(from: from, to: to)
    case "type": guard let s = args["text"] as? String else { return nil }; action = .type(s)
    case "key": guard let keys = args["keys"] as? [String], !keys.isEmpty else { return nil }; action = .hotkey(keys)
    case "scroll":
      // Qwen's `pixels`: positive scrolls up; one wheel click per 100 pixels, at least one.
      guard let pixels = args["pixels"] as? Double else { return nil }
      let clicks = max(1, Int((abs(pixels) / 100).rounded()))
      action = .scroll(at: point("coordinate"), direction: pixels >= 0 ? .up : .down, amount: clicks)
    case "wait": action = .wait(seconds: args["time"] as? Double ?? AgentAction.defaultWaitSeconds)
    case "terminate": action = .finished(summary: args["status"] as? String ?? "")
    case "answer": action = .finished(summary: args["text"] as? String ?? "")
    default: return nil
    }
    let thought = JSONActionGrammar.leadingText(text[..<json.startIndex])?
      .replacingOccurrences(of: "<tool_call>", with: "").trimmingCharacters(in: .whitespacesAndNewlines)
    return JSONActionGrammar.serialize(action, thought: thought?.isEmpty == true ? nil : thought)
  }
}
