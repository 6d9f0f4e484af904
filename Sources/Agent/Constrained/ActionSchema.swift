import Foundation

// MARK: - A small grammar over characters

/// A grammar for constrained decoding, small enough to match by hand: literals, JSON strings,
/// numbers, sequences, choices, optional parts and separated lists.
indirect enum GrammarNode: Sendable {
  case literal([Unicode.Scalar])
  /// A JSON string, quotes included, of at most `maxLength` characters inside.
  case string(maxLength: Int)
  /// `-?` 1-6 digits, optionally `.` and 1-3 digits.
  case number
  case sequence([GrammarNode])
  case choice([GrammarNode])
  case optional(GrammarNode)
  /// One to `maxCount` `element`s separated by `separator`.
  case list(GrammarNode, separator: [Unicode.Scalar], maxCount: Int)

  static func lit(_ s: String) -> GrammarNode { .literal(Array(s.unicodeScalars)) }
}

/// How far a text gets in a grammar.
public enum SchemaMatch: Sendable, Equatable {
  /// No sentence of the grammar starts with the text.
  case invalid
  /// The text can still be continued into a sentence.
  case prefix
  /// The text is a whole sentence (and, for the action schema, cannot be continued).
  case complete
}

/// The JSON actions of docs/actions.md in one canonical spelling (key order, `": "` and `", "`),
/// with the thought first: `{"thought": "...", "action": "click", "target": {"point": [x, y]}}`.
/// A model whose every token keeps its output a prefix of this grammar always ends with an
/// action `JSONActionGrammar` parses.
public struct ActionSchema: Sendable {
  let root: GrammarNode
  public let maxStringLength: Int

  /// The longest string value that lets any action finish within `maxTokens` tokens, since a
  /// token writes at least one character: up to three strings (a drag's thought and two element
  /// targets) and at most 80 characters of structure.
  public static func stringLength(fitting maxTokens: Int) -> Int {
    max(8, (maxTokens - 80) / 3)
  }

  /// - Parameters:
  ///   - points: whether targets may be points (a VLM) or only element descriptions.
  ///   - maxStringLength: the longest string value, so that a rambling model must close it.
  public init(points: Bool, maxStringLength: Int = 200) {
    self.maxStringLength = maxStringLength
    let str = GrammarNode.string(maxLength: maxStringLength)
    let element = GrammarNode.sequence([.lit(#"{"element": "#), str, .lit("}")])
    let point = GrammarNode.sequence([.lit(#"{"point": ["#), .number, .lit(", "), .number, .lit("]}")])
    let target: GrammarNode = points ? .choice([point, element]) : element
    func action(_ name: String, _ rest: [GrammarNode]) -> GrammarNode {
      .sequence([.lit("\"\(name)\"")] + rest + [.lit("}")])
    }
    let directions = GrammarNode.choice(ScrollDirection.allCases.map { .lit("\"\($0.rawValue)\"") })
    let actions: [GrammarNode] = [
      action("click", [.lit(#", "target": "#), target]),
      action("double_click", [.lit(#", "target": "#), target]),
      action("right_click", [.lit(#", "target": "#), target]),
      action("drag", [.lit(#", "from": "#), target, .lit(#", "to": "#), target]),
      action("scroll", [.lit(#", "direction": "#), directions,
                        .optional(.sequence([.lit(#", "target": "#), target])),
                        .optional(.sequence([.lit(#", "amount": "#), .number]))]),
      action("type", [.lit(#", "text": "#), str]),
      action("hotkey", [.lit(#", "keys": ["#), .list(.string(maxLength: 24), separator: Array(", ".unicodeScalars), maxCount: 4), .lit("]")]),
      action("wait", [.lit(#", "seconds": "#), .number]),
      action("finished", [.lit(#", "summary": "#), str]),
      action("call_user", [.lit(#", "question": "#), str]),
    ]
    root = .sequence([.lit(#"{"thought": "#), str, .lit(#", "action": "#), .choice(actions)])
  }

  /// Whether `text` is a sentence of the schema, the start of one, or neither.
  public func match(_ text: String) -> SchemaMatch {
    let s = Array(text.unicodeScalars)
    let flags = Matcher(s: s).match(root, 0) { end in end == s.count ? [.prefix, .complete] : [] }
    if flags.contains(.complete) { return .complete }
    return flags.contains(.prefix) ? .prefix : .invalid
  }
}

// MARK: - Matching

/// Continuation-passing matcher: each node calls `k` with every position it can end at;
/// running out of input inside a node means the text is a prefix.
private struct Matcher {
  struct Flags: OptionSet {
    let rawValue: Int
    static let prefix = Flags(rawValue: 1)
    static let complete = Flags(rawValue: 2)
  }

  let s: [Unicode.Scalar]

  func match(_ node: GrammarNode, _ pos: Int, _ k: (Int) -> Flags) -> Flags {
    switch node {
    case let .literal(lit):
      return literal(lit, pos, k)
    case let .string(maxLength):
      return string(maxLength, pos, k)
    case .number:
      return number(pos, k)
    case let .sequence(nodes):
      func from(_ i: Int, _ p: Int) -> Flags {
        i == nodes.count ? k(p) : match(nodes[i], p) { from(i + 1, $0) }
      }
      return from(0, pos)
    case let .choice(nodes):
      return nodes.reduce(into: Flags()) { $0.formUnion(match($1, pos, k)) }
    case let .optional(inner):
      return k(pos).union(match(inner, pos, k))
    case let .list(element, separator, maxCount):
      func rest(_ p: Int, _ count: Int) -> Flags {
        match(element, p) { e in
          count == maxCount ? k(e) : k(e).union(literal(separator, e) { rest($0, count + 1) })
        }
      }
      return rest(pos, 1)
    }
  }

  private func literal(_ lit: [Unicode.Scalar], _ pos: Int, _ k: (Int) -> Flags) -> Flags {
    for (i, c) in lit.enumerated() {
      if pos + i == s.count { return .prefix }
      if s[pos + i] != c { return [] }
    }
    return k(pos + lit.count)
  }

  private func string(_ maxLength: Int, _ pos: Int, _ k: (Int) -> Flags) -> Flags {
    if pos == s.count { return .prefix }
    guard s[pos] == "\"" else { return [] }
    var j = pos + 1, length = 0
    while true {
      if j == s.count { return .prefix }
      let c = s[j]
      if c == "\"" { return k(j + 1) }
      guard length < maxLength, c.value >= 0x20 else { return [] }
      length += 1
      if c == "\\" {
        if j + 1 == s.count { return .prefix }
        let e = s[j + 1]
        if "\"\\/bfnrt".unicodeScalars.contains(e) { j += 2; continue }
        guard e == "u" else { return [] }
        for h in 0..<4 {
          if j + 2 + h == s.count { return .prefix }
          guard s[j + 2 + h].properties.isASCIIHexDigit else { return [] }
        }
        j += 6
      } else {
        j += 1
      }
    }
  }

  private func number(_ pos: Int, _ k: (Int) -> Flags) -> Flags {
    var j = pos
    if j < s.count, s[j] == "-" { j += 1 }
    if j == s.count { return .prefix }
    var flags = Flags()
    var digits = 0
    while j < s.count, digits < 6, isDigit(s[j]) {
      j += 1
      digits += 1
      flags.formUnion(k(j))
    }
    guard digits > 0 else { return [] }
    if j == s.count { return flags.union(.prefix) }
    guard s[j] == "." else { return flags }
    j += 1
    if j == s.count { return flags.union(.prefix) }
    var fraction = 0
    while j < s.count, fraction < 3, isDigit(s[j]) {
      j += 1
      fraction += 1
      flags.formUnion(k(j))
    }
    return flags
  }

  private func isDigit(_ c: Unicode.Scalar) -> Bool { c.value >= 0x30 && c.value <= 0x39 }
}
