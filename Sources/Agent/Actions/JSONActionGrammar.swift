import Foundation

/// Our JSON action grammar: one object per action, the reasoning in an optional `"thought"`.
///
/// ```json
/// {"thought": "Save the file.", "action": "click", "target": {"point": [512, 300]}}
/// {"action": "click", "target": {"point": [512, 300], "box": [480, 290, 544, 310]}}
/// {"action": "double_click", "target": {"element": "the report.pdf icon"}}
/// {"action": "right_click", "target": {"box": [480, 290, 544, 310]}}
/// {"action": "drag", "from": {"point": [10, 20]}, "to": {"element": "the Trash"}}
/// {"action": "scroll", "target": {"point": [500, 500]}, "direction": "down", "amount": 3}
/// {"action": "type", "text": "hello\nworld"}
/// {"action": "hotkey", "keys": ["ctrl", "s"]}
/// {"action": "wait", "seconds": 1}
/// {"action": "finished", "summary": "Saved the file."}
/// {"action": "call_user", "question": "Which printer?"}
/// ```
///
/// - Targets: `"point": [x, y]` (model coordinates, raw numbers), optionally with
///   `"box": [x1, y1, x2, y2]`; a lone `"box"` means its center; `"element": "..."` is a
///   description to be grounded later; `"element_id": 3` is element 3 of the planner's parsed
///   element list.
/// - Optional fields and their defaults: scroll `target` (absent: where the pointer is),
///   `amount` (5), wait `seconds` (5), finished `summary` (""), call_user `question` ("").
/// - Action names also accept the UI-TARS spellings (`left_double`, `right_single`, `press`, ...).
/// - Several actions: a JSON array of such objects, the thought on the first.
/// - Without a `"thought"` field, text before the JSON (less code fences and a `Thought:`
///   heading) is the thought, for models that reason first and then print the object.
/// - Text around the JSON (a ```` ```json ```` fence, a sentence) is ignored: the parser reads the
///   first balanced `{...}` or `[...]`.
public enum JSONActionGrammar {
  // MARK: - Parsing

  /// Parses a model response; never throws, malformed output is a `.failure`.
  public static func parse(_ text: String) -> ParseResult {
    let json: Substring
    switch extractJSON(text) {
    case let .success(s): json = s
    case let .failure(f): return .failure(f)
    }
    let data = Data(json.utf8)
    let decoder = JSONDecoder()
    do {
      if json.first == "[" {
        let actions = try decoder.decode([AgentAction].self, from: data)
        guard !actions.isEmpty else { return .failure(ParseFailure(.emptyAction, "the JSON array holds no action")) }
        let thoughts = try decoder.decode([ThoughtField].self, from: data)
        let thought = thoughts.lazy.compactMap(\.thought).first ?? leadingText(text[..<json.startIndex])
        return .success(ParsedResponse(thought: thought, actions: actions))
      }
      let action = try decoder.decode(AgentAction.self, from: data)
      let thought = try decoder.decode(ThoughtField.self, from: data).thought ?? leadingText(text[..<json.startIndex])
      return .success(ParsedResponse(thought: thought, actions: [action]))
    } catch let failure as ParseFailure {
      return .failure(failure)
    } catch let error as DecodingError {
      return .failure(ParseFailure(.badJSON, describe(error)))
    } catch {
      return .failure(ParseFailure(.badJSON, "invalid JSON: \(error)"))
    }
  }

  /// Reasoning written before the JSON, used as the thought when the object has none: code-fence
  /// lines dropped, a leading `Thought:` removed; nil when nothing is left.
  static func leadingText(_ text: Substring) -> String? {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
      .filter { !$0.drop(while: \.isWhitespace).hasPrefix("```") }
    var s = lines.joined(separator: "\n").trimmingSpaces()
    if s.hasPrefix("Thought:") { s = String(s.dropFirst("Thought:".count)).trimmingSpaces() }
    return s.isEmpty ? nil : s
  }

  /// The first balanced JSON object or array in `text`, found by a scan that respects strings.
  static func extractJSON(_ text: String) -> Result<Substring, ParseFailure> {
    guard let start = text.firstIndex(where: { $0 == "{" || $0 == "[" }) else {
      return .failure(ParseFailure(.noJSON, "no JSON object in the response"))
    }
    var depth = 0
    var inString = false
    var escaped = false
    var i = start
    while i < text.endIndex {
      let ch = text[i]
      if inString {
        if escaped { escaped = false } else if ch == "\\" { escaped = true } else if ch == "\"" { inString = false }
      } else if ch == "\"" {
        inString = true
      } else if ch == "{" || ch == "[" {
        depth += 1
      } else if ch == "}" || ch == "]" {
        depth -= 1
        if depth == 0 { return .success(text[start...i]) }
      }
      i = text.index(after: i)
    }
    if inString { return .failure(ParseFailure(.unbalancedQuote, "unterminated string in the JSON action")) }
    return .failure(ParseFailure(.badJSON, "unbalanced braces: the JSON action is cut off"))
  }

  /// Reads the `"thought"` field beside an action.
  private struct ThoughtField: Decodable {
    var thought: String?
  }

  /// Writes an action's fields and its thought into one object.
  private struct Item: Encodable {
    var thought: String?
    var action: AgentAction

    private enum Key: String, CodingKey { case thought }

    func encode(to encoder: any Encoder) throws {
      try action.encode(to: encoder)
      var c = encoder.container(keyedBy: Key.self)
      try c.encodeIfPresent(thought, forKey: .thought)
    }
  }

  private static func describe(_ error: DecodingError) -> String {
    func path(_ c: DecodingError.Context) -> String {
      c.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
    switch error {
    case let .typeMismatch(type, c): return "field '\(path(c))' has the wrong type, expected \(type)"
    case let .valueNotFound(type, c): return "field '\(path(c))' is null, expected \(type)"
    case let .keyNotFound(key, c):
      return "missing field '\(key.stringValue)'" + (c.codingPath.isEmpty ? "" : " in '\(path(c))'")
    case let .dataCorrupted(c): return "invalid JSON: \(c.debugDescription)"
    @unknown default: return "invalid JSON: \(error)"
    }
  }

  // MARK: - Serializing

  /// Prints actions in this grammar: one object, or an array for several; the thought goes on the
  /// first. Keys are sorted so that output is stable.
  public static func serialize(_ response: ParsedResponse) -> String {
    let items = response.actions.enumerated().map { i, action in
      Item(thought: i == 0 ? response.thought : nil, action: action)
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    // Encoding plain strings, numbers and arrays cannot fail; an empty string is the fallback.
    let data = items.count == 1 ? try? encoder.encode(items[0]) : try? encoder.encode(items)
    return data.flatMap { String(data: $0, encoding: .utf8) } ?? ""
  }

  /// Prints one action as a JSON object.
  public static func serialize(_ action: AgentAction, thought: String? = nil) -> String {
    serialize(ParsedResponse(thought: thought, actions: [action]))
  }
}
