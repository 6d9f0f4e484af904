/// The grammars a model may print its actions in.
public enum ActionGrammar: String, Codable, Sendable, CaseIterable {
  /// `Thought: ...\nAction: click(start_box='(x,y)')`; see ``UITARSGrammar``.
  case uiTars = "ui-tars"
  /// `{"action": "click", "target": {"point": [x, y]}}`; see ``JSONActionGrammar``.
  case json

  /// Parses a response in this grammar; malformed output is a `.failure`, never a trap.
  public func parse(_ text: String) -> ParseResult {
    switch self {
    case .uiTars: UITARSGrammar.parse(text)
    case .json: JSONActionGrammar.parse(text)
    }
  }

  /// Prints a response in this grammar; `parse(serialize(r))` gives `r` back.
  public func serialize(_ response: ParsedResponse) -> String {
    switch self {
    case .uiTars: UITARSGrammar.serialize(response)
    case .json: JSONActionGrammar.serialize(response)
    }
  }

  /// Guesses the grammar of a response: UI-TARS when a line starts with `Action:`, JSON when the
  /// text holds a `{`, otherwise UI-TARS (whose failure then says that the `Action:` line is missing).
  public static func detect(_ text: String) -> ActionGrammar {
    let hasActionLine = text.split(separator: "\n").contains { $0.drop(while: \.isWhitespace).hasPrefix("Action:") }
    if hasActionLine { return .uiTars }
    return text.contains("{") ? .json : .uiTars
  }

  /// Parses a response in whichever grammar it looks like (see ``detect(_:)``).
  public static func parseAny(_ text: String) -> ParseResult { detect(text).parse(text) }
}
