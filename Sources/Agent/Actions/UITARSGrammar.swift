import Foundation

/// The action grammar of the UI-TARS family (ByteDance UI-TARS 1.0/1.5 and models tuned on it).
///
/// ```text
/// Thought: The Save button is at the top right.
/// Action: click(start_box='<|box_start|>(512,300)<|box_end|>')
/// ```
///
/// - Sections: `Thought:`, `Reflection:`, `Action_Summary:` (each to the next section), then the
///   first line that starts with `Action:`; everything after it is actions, separated by blank
///   lines. Text before any section heading counts as the thought.
/// - Actions and arguments: `click`/`left_single`, `left_double`/`double_click`,
///   `right_single`/`right_click` (`start_box=`); `drag`/`select` (`start_box=`, `end_box=`);
///   `scroll(start_box=, direction='up|down|left|right')`; `type(content=)`;
///   `hotkey(key='ctrl s')` and `press(key=)` (keys separated by spaces, or by `+` as in `'ctrl+s'`); `wait()`;
///   `finished(content=)` and `finished()`; `call_user()`.
/// - Points: `'(x,y)'`, a box `'(x1,y1,x2,y2)'` (its center is the point), with or without the
///   `<|box_start|>`/`<|box_end|>` tokens, `[x,y]`, or `point='<point>x y</point>'`
///   (`start_point=`/`end_point=` for drag). Numbers are kept as printed: model coordinates.
/// - Our extensions, which UI-TARS models do not print but which round-trip every action:
///   `element='the Save button'` (and `start_element=`/`end_element=` for drag) in place of a box,
///   a description for a grounding model to locate; `scroll(..., amount='3')`;
///   `wait(seconds='2')`; `call_user(content='question')`.
/// - Quoting: see ``CallLexer``; `type(content='it\'s')` and `'line\n'` unescape.
public enum UITARSGrammar {
  // MARK: - Parsing

  /// Parses a model response; never throws, malformed output is a `.failure`.
  public static func parse(_ text: String) -> ParseResult {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    guard let actionLine = lines.firstIndex(where: { $0.drop(while: \.isWhitespace).hasPrefix("Action:") }) else {
      return .failure(ParseFailure(.noActionLine, "no 'Action:' line in the response '\(text.prefix(60))'"))
    }
    var response = sections(lines[..<actionLine])
    let first = lines[actionLine].drop(while: \.isWhitespace).dropFirst("Action:".count)
    let actionText = ([first] + lines[(actionLine + 1)...]).joined(separator: "\n")
    let calls: [ActionCall]
    switch CallLexer.calls(in: Substring(actionText)) {
    case let .success(c): calls = c
    case let .failure(f): return .failure(f)
    }
    guard !calls.isEmpty else { return .failure(ParseFailure(.emptyAction, "the 'Action:' line names no action")) }
    do {
      response.actions = try calls.map(action)
    } catch let failure as ParseFailure {
      return .failure(failure)
    } catch {
      return .failure(ParseFailure(.syntax, "\(error)"))
    }
    return .success(response)
  }

  private static let headings = ["Thought:", "Reflection:", "Action_Summary:"]

  /// Splits the lines above `Action:` into the named sections.
  private static func sections(_ lines: ArraySlice<Substring>) -> ParsedResponse {
    var found: [String: [Substring]] = [:]
    var current = ""
    for line in lines {
      let trimmed = line.drop(while: \.isWhitespace)
      if let h = headings.first(where: { trimmed.hasPrefix($0) }) {
        current = h
        found[h, default: []].append(trimmed.dropFirst(h.count))
      } else {
        found[current, default: []].append(line)
      }
    }
    func text(_ key: String) -> String? {
      guard let parts = found[key] else { return nil }
      let s = parts.joined(separator: "\n").trimmingSpaces()
      return s.isEmpty ? nil : s
    }
    return ParsedResponse(thought: text("Thought:") ?? text(""), reflection: text("Reflection:"),
                          actionSummary: text("Action_Summary:"), actions: [])
  }

  // MARK: - Calls to actions

  private static func action(_ call: ActionCall) throws -> AgentAction {
    guard let kind = ActionKind(spelling: call.name) else {
      throw ParseFailure(.unknownAction(call.name), "unknown action '\(call.name)'")
    }
    let args = call.arguments
    func required(_ keys: [String]) throws -> String {
      guard let v = keys.lazy.compactMap({ args[$0] }).first else {
        throw ParseFailure(.missingArgument(action: call.name, argument: keys[0]),
                           "action '\(call.name)' is missing argument '\(keys[0])'")
      }
      return v
    }
    switch kind {
    case .click: return .click(try requiredTarget(call, first: true))
    case .doubleClick: return .doubleClick(try requiredTarget(call, first: true))
    case .rightClick: return .rightClick(try requiredTarget(call, first: true))
    case .drag: return .drag(from: try requiredTarget(call, first: true), to: try requiredTarget(call, first: false))
    case .scroll:
      let text = try required(["direction"])
      guard let direction = ScrollDirection(rawValue: text.trimmingSpaces().lowercased()) else {
        throw ParseFailure(.badArgument(action: call.name, argument: "direction", value: text),
                           "action '\(call.name)' has direction '\(text)', expected up, down, left or right")
      }
      var amount = AgentAction.defaultScrollAmount
      if let a = args["amount"] {
        guard let n = Int(a.trimmingSpaces()) else {
          throw ParseFailure(.badArgument(action: call.name, argument: "amount", value: a),
                             "action '\(call.name)' has amount '\(a)', expected a whole number")
        }
        amount = n
      }
      return .scroll(at: try target(call, first: true), direction: direction, amount: amount)
    case .type: return .type(try required(["content", "text"]))
    case .hotkey:
      let text = try required(["key", "keys", "hotkey"])
      let keys = splitKeys(text)
      guard !keys.isEmpty else {
        throw ParseFailure(.badArgument(action: call.name, argument: "key", value: text),
                           "action '\(call.name)' names no key")
      }
      return .hotkey(keys)
    case .wait:
      guard let s = args["seconds"] else { return .wait(seconds: AgentAction.defaultWaitSeconds) }
      guard let seconds = Double(s.trimmingSpaces()), seconds.isFinite, seconds >= 0 else {
        throw ParseFailure(.badArgument(action: call.name, argument: "seconds", value: s),
                           "action '\(call.name)' has seconds '\(s)', expected a number of seconds")
      }
      return .wait(seconds: seconds)
    case .finished: return .finished(summary: args["content"] ?? args["summary"] ?? "")
    case .callUser: return .callUser(question: args["content"] ?? args["question"] ?? "")
    }
  }

  /// UI-TARS separates keys with spaces (`'ctrl s'`); other models write `'ctrl+s'`, which is
  /// split on `+` when there are no spaces (a trailing `++` keeps the plus key).
  static func splitKeys(_ text: String) -> [String] {
    let words = text.split(whereSeparator: \.isWhitespace).map(String.init)
    guard words.count == 1, let word = words.first, word.count > 1, word.contains("+") else { return words }
    var keys = word.split(separator: "+").map(String.init)
    if word.hasSuffix("++") { keys.append("+") }
    return keys
  }

  private static let firstTargetKeys = ["start_box", "point", "start_point", "box"]
  private static let secondTargetKeys = ["end_box", "end_point"]

  private static func requiredTarget(_ call: ActionCall, first: Bool) throws -> ActionTarget {
    guard let t = try target(call, first: first) else {
      let key = first ? firstTargetKeys[0] : secondTargetKeys[0]
      throw ParseFailure(.missingArgument(action: call.name, argument: key),
                         "action '\(call.name)' is missing argument '\(key)'")
    }
    return t
  }

  /// The first (or second, for drag's end) target of a call; nil when absent or empty.
  private static func target(_ call: ActionCall, first: Bool) throws -> ActionTarget? {
    let elementKeys = first ? ["element", "start_element"] : ["end_element"]
    if let e = elementKeys.lazy.compactMap({ call.arguments[$0] }).first, !e.trimmingSpaces().isEmpty {
      return .element(e)
    }
    if let key = elementKeys.first(where: { call.arguments[$0 + "_id"] != nil }), let v = call.arguments[key + "_id"] {
      guard let n = Int(v.trimmingSpaces()), n >= 1 else {
        throw ParseFailure(.badArgument(action: call.name, argument: key + "_id", value: v),
                           "action '\(call.name)' has \(key)_id='\(v)', expected an element's number (1 or more)")
      }
      return .elementNumber(n)
    }
    for key in first ? firstTargetKeys : secondTargetKeys {
      guard let v = call.arguments[key], !v.trimmingSpaces().isEmpty else { continue }
      guard let p = modelPoint(v) else {
        throw ParseFailure(.badArgument(action: call.name, argument: key, value: v),
                           "action '\(call.name)' has \(key)='\(v)', expected (x,y) or (x1,y1,x2,y2)")
      }
      return .point(p)
    }
    return nil
  }

  /// Reads `(x,y)`, `(x1,y1,x2,y2)`, `[x, y]`, `<point>x y</point>`, with or without box tokens.
  static func modelPoint(_ text: String) -> ModelPoint? {
    var s = text
    for token in ["<|box_start|>", "<|box_end|>", "<point>", "</point>", "<bbox>", "</bbox>"] {
      s = s.replacingOccurrences(of: token, with: " ")
    }
    let numbers = s.split(whereSeparator: { " \t\n,()[]".contains($0) }).map { Double($0) }
    guard numbers.allSatisfy({ $0?.isFinite == true }) else { return nil }
    let v = numbers.compactMap { $0 }
    switch v.count {
    case 2: return ModelPoint(x: v[0], y: v[1])
    case 4: return ModelPoint(box: ModelBox(x1: v[0], y1: v[1], x2: v[2], y2: v[3]))
    default: return nil
    }
  }
}
