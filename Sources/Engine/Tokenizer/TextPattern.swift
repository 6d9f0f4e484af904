import Foundation

// MARK: - Patterns of Split, Replace

/// What a `Split` pre-tokenizer or a `Replace` normalizer/decoder looks for: tokenizers'
/// `SplitPattern` (`{"String": ...}` or `{"Regex": ...}`). The GPT-2, Llama-3 and Qwen2 regexes
/// run on hand-written scanners (exact and fast); other regexes run on ICU through
/// NSRegularExpression, whose syntax covers what tokenizer files use (`\p{L}`, lookahead).
public struct TextPattern: @unchecked Sendable {
  // NSRegularExpression is immutable and documented thread-safe, hence @unchecked.
  enum Kind {
    case literal([Unicode.Scalar])
    case scanner(PatternScanner)
    case regex(NSRegularExpression)
  }
  let kind: Kind
  /// The pattern as written in the file.
  public let source: String

  /// A pattern that matches the string itself.
  public static func literal(_ string: String) -> TextPattern {
    TextPattern(kind: .literal(Array(string.unicodeScalars)), source: string)
  }

  /// A regular expression (Oniguruma syntax in tokenizer files; ICU runs the unknown ones).
  public static func regex(_ pattern: String) throws -> TextPattern {
    if let scanner = PatternScanner.forPattern(pattern) {
      return TextPattern(kind: .scanner(scanner), source: pattern)
    }
    do {
      return TextPattern(kind: .regex(try NSRegularExpression(pattern: pattern)), source: pattern)
    } catch {
      throw EngineError.tokenizer("regex '\(pattern)' does not compile: \(error.localizedDescription)")
    }
  }

  // MARK: - Matching

  /// Non-overlapping matches, left to right, as ranges of scalar indices; empty matches skipped.
  func matches(in s: [Unicode.Scalar]) -> [Range<Int>] {
    switch kind {
    case let .scanner(scanner):
      return scanner.matches(in: s)
    case let .literal(lit):
      guard !lit.isEmpty, lit.count <= s.count else { return [] }
      var out: [Range<Int>] = []
      var i = 0
      while i + lit.count <= s.count {
        if s[i] == lit[0], Array(s[i..<(i + lit.count)]) == lit {
          out.append(i..<(i + lit.count))
          i += lit.count
        } else {
          i += 1
        }
      }
      return out
    case let .regex(re):
      return regexMatches(re, in: s)
    }
  }

  /// NSRegularExpression works in UTF-16 offsets; map them back to scalar indices.
  private func regexMatches(_ re: NSRegularExpression, in s: [Unicode.Scalar]) -> [Range<Int>] {
    var text = String.UnicodeScalarView()
    text.append(contentsOf: s)
    let string = String(text)
    // utf16ToScalar[u] = index of the scalar that starts at UTF-16 offset u. (utf16Count+1,)
    var utf16ToScalar: [Int] = []
    utf16ToScalar.reserveCapacity(s.count * 2 + 1)
    for (i, c) in s.enumerated() {
      utf16ToScalar.append(i)
      if c.value > 0xFFFF { utf16ToScalar.append(i) }
    }
    utf16ToScalar.append(s.count)
    let ns = NSRange(location: 0, length: utf16ToScalar.count - 1)
    return re.matches(in: string, options: [], range: ns).compactMap { m in
      let lo = utf16ToScalar[m.range.location], hi = utf16ToScalar[m.range.location + m.range.length]
      return lo < hi ? lo..<hi : nil
    }
  }

  /// The input cut into pieces that tile it, each flagged as a match or not; tokenizers'
  /// `Pattern::find_matches`.
  func split(_ s: [Unicode.Scalar]) -> [(range: Range<Int>, isMatch: Bool)] {
    var out: [(range: Range<Int>, isMatch: Bool)] = []
    var prev = 0
    for m in matches(in: s) {
      if prev < m.lowerBound { out.append((prev..<m.lowerBound, false)) }
      out.append((m, true))
      prev = m.upperBound
    }
    if prev < s.count { out.append((prev..<s.count, false)) }
    return out
  }

  /// Every match replaced by `content`.
  func replacingMatches(in s: [Unicode.Scalar], with content: [Unicode.Scalar]) -> [Unicode.Scalar] {
    var out: [Unicode.Scalar] = []
    out.reserveCapacity(s.count)
    for piece in split(s) {
      if piece.isMatch { out.append(contentsOf: content) } else { out.append(contentsOf: s[piece.range]) }
    }
    return out
  }

  /// Reads tokenizers' `{"String": "..."}` / `{"Regex": "..."}`.
  static func fromJSON(_ value: Any?, context: String) throws -> TextPattern {
    guard let dict = value as? [String: Any] else {
      throw EngineError.tokenizer("\(context): 'pattern' must be an object with 'String' or 'Regex'")
    }
    if let s = dict["String"] as? String { return .literal(s) }
    if let r = dict["Regex"] as? String { return try .regex(r) }
    throw EngineError.tokenizer("\(context): pattern \(dict.keys.sorted()) is neither 'String' nor 'Regex'")
  }
}
