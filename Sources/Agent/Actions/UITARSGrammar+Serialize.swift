// MARK: - Serializing

extension UITARSGrammar {
  /// Prints a response as UI-TARS would: `Reflection:`, `Thought:`, `Action_Summary:` sections
  /// that are present, then `Action:` and the actions separated by blank lines.
  /// - Parameter boxTokens: wrap points in `<|box_start|>`/`<|box_end|>` (UI-TARS 1.0 style).
  public static func serialize(_ response: ParsedResponse, boxTokens: Bool = false) -> String {
    var out = ""
    if let r = response.reflection { out += "Reflection: \(r)\n" }
    if let t = response.thought { out += "Thought: \(t)\n" }
    if let s = response.actionSummary { out += "Action_Summary: \(s)\n" }
    out += "Action: " + response.actions.map { serialize($0, boxTokens: boxTokens) }.joined(separator: "\n\n")
    return out
  }

  /// Prints one action as a UI-TARS call, e.g. `click(start_box='(512,300)')`.
  public static func serialize(_ action: AgentAction, boxTokens: Bool = false) -> String {
    func target(_ t: ActionTarget, box: String, element: String) -> String {
      switch t {
      case let .element(text): return "\(element)=\(quoted(text))"
      case let .elementNumber(n): return "\(element)_id='\(n)'"
      case let .point(p):
        let numbers = p.box.map { [$0.x1, $0.y1, $0.x2, $0.y2] } ?? [p.x, p.y]
        let tuple = "(" + numbers.map(formatNumber).joined(separator: ",") + ")"
        return "\(box)='" + (boxTokens ? "<|box_start|>\(tuple)<|box_end|>" : tuple) + "'"
      }
    }
    func call(_ name: String, _ args: [String]) -> String { "\(name)(" + args.joined(separator: ", ") + ")" }
    switch action {
    case let .click(t): return call("click", [target(t, box: "start_box", element: "element")])
    case let .doubleClick(t): return call("left_double", [target(t, box: "start_box", element: "element")])
    case let .rightClick(t): return call("right_single", [target(t, box: "start_box", element: "element")])
    case let .drag(from, to):
      return call("drag", [target(from, box: "start_box", element: "start_element"),
                           target(to, box: "end_box", element: "end_element")])
    case let .scroll(at, direction, amount):
      var args = at.map { [target($0, box: "start_box", element: "element")] } ?? []
      args.append("direction='\(direction.rawValue)'")
      if amount != AgentAction.defaultScrollAmount { args.append("amount='\(amount)'") }
      return call("scroll", args)
    case let .type(text): return call("type", ["content=\(quoted(text))"])
    case let .hotkey(keys): return call("hotkey", ["key=\(quoted(keys.joined(separator: " ")))"])
    case let .wait(seconds):
      return call("wait", seconds == AgentAction.defaultWaitSeconds ? [] : ["seconds='\(formatNumber(seconds))'"])
    case let .finished(summary): return call("finished", summary.isEmpty ? [] : ["content=\(quoted(summary))"])
    case let .callUser(question): return call("call_user", question.isEmpty ? [] : ["content=\(quoted(question))"])
    }
  }

  /// Single-quotes a value with the escapes ``CallLexer`` reads back.
  static func quoted(_ text: String) -> String {
    var out = "'"
    for ch in text {
      switch ch {
      case "\\": out += "\\\\"
      case "'": out += "\\'"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default: out.append(ch)
      }
    }
    return out + "'"
  }
}
