import Foundation

// MARK: - The text an instruction names

/// The on-screen text an instruction most likely names, for matching against OCR.
///
/// "click the Save button" names "Save"; "switch to the Network tab" names "Network";
/// "the text field labelled Name" names "Name". An instruction with quoted text names the quote.
/// Candidates come shortest-first after the quote: the matcher tries each in turn and keeps the
/// first that OCR finds, so a label that really is "Save button" is still found by the longer form.
public enum InstructionLabel {
  /// Leading verbs and phrases of grounding instructions (ScreenSpot's and the agent's).
  static let leading = [
    "click on", "click", "double click", "double-click", "right click", "right-click", "press", "tap", "select",
    "choose", "check", "uncheck", "toggle", "open", "switch to", "go to", "type in", "type into", "enter",
    "focus", "find", "locate", "hover over", "point to", "the text", "the field showing", "the field labelled",
    "the field labeled", "the", "a", "an",
  ]
  /// Trailing role nouns and places.
  static let trailing = [
    "column header", "combo box", "text field", "text box", "input field", "menu item", "in the list",
    "in the menu", "in the toolbar", "button", "checkbox", "check box", "option", "menu", "tab", "item",
    "heading", "field", "box", "dropdown", "column", "link", "icon", "label", "entry", "radio button",
  ]

  /// The labels to try, most specific first; never empty for a non-blank instruction.
  public static func candidates(_ instruction: String) -> [String] {
    let whole = instruction.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    var out: [String] = []
    func add(_ s: String) {
      let t = s.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: ".,:;!?")))
      if !t.isEmpty, !out.contains(t) { out.append(t) }
    }
    for q in quoted(whole) { add(q) }
    var stripped: [String] = []
    var s = whole
    var changed = true
    while changed {
      changed = false
      if let p = leading.first(where: { hasWordPrefix(s, $0) }) {
        s = String(s.dropFirst(p.count)).trimmingCharacters(in: .whitespaces)
        changed = true
      }
      if let t = trailing.first(where: { hasWordSuffix(s, $0) }) {
        s = String(s.dropLast(t.count)).trimmingCharacters(in: .whitespaces)
        changed = true
      }
      if changed, !s.isEmpty { stripped.append(s) }
    }
    // Shortest (most stripped) first, then the less stripped forms, then the whole.
    for c in stripped.reversed() { add(c) }
    add(whole)
    return out
  }

  /// Text between matching quotes: "…", '…', “…”, ‘…’.
  static func quoted(_ s: String) -> [String] {
    var out: [String] = []
    for (open, close) in [("\"", "\""), ("“", "”"), ("‘", "’"), ("'", "'")] {
      var rest = Substring(s)
      while let a = rest.range(of: open), let b = rest[a.upperBound...].range(of: close) {
        let inner = rest[a.upperBound..<b.lowerBound]
        // A lone apostrophe ("don't ... it's") is not a quote: require a word boundary outside.
        if !inner.isEmpty, open != "'" || (a.lowerBound == rest.startIndex || rest[rest.index(before: a.lowerBound)] == " ") {
          out.append(String(inner))
        }
        rest = rest[b.upperBound...]
      }
    }
    return out
  }

  static func hasWordPrefix(_ s: String, _ p: String) -> Bool {
    guard s.count > p.count, s.lowercased().hasPrefix(p) else { return false }
    return s[s.index(s.startIndex, offsetBy: p.count)] == " "
  }

  static func hasWordSuffix(_ s: String, _ t: String) -> Bool {
    guard s.count > t.count, s.lowercased().hasSuffix(t) else { return false }
    return s[s.index(s.endIndex, offsetBy: -t.count - 1)] == " "
  }
}
