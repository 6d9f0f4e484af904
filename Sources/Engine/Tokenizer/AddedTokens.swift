// MARK: - Added tokens

/// A token matched in raw text before BPE (special tokens, chat markers); tokenizers' `AddedToken`
/// with its id (`added_tokens` of tokenizer.json).
public struct AddedToken: Sendable, Equatable {
  /// The token's id (tokenizer.json's `id`).
  public var id: Int
  /// The text the token stands for, matched literally.
  public var content: String
  /// Special tokens are dropped by `decode(skipSpecial: true)`.
  public var special: Bool
  /// Matches only when not inside a word (no `\w` character touching either end).
  public var singleWord: Bool
  /// Takes the whitespace on its left / right into the token.
  public var lstrip: Bool
  public var rstrip: Bool
  /// Matched in normalized text (after the normalizer) rather than in the raw input.
  public var normalized: Bool

  public init(id: Int, content: String, special: Bool = true, singleWord: Bool = false, lstrip: Bool = false,
              rstrip: Bool = false, normalized: Bool? = nil) {
    self.id = id
    self.content = content
    self.special = special
    self.singleWord = singleWord
    self.lstrip = lstrip
    self.rstrip = rstrip
    // tokenizers' default: special tokens are not normalized, others are.
    self.normalized = normalized ?? !special
  }
}

/// One piece of text on its way through the pipeline: either still text, or an added token's id.
enum TextPiece {
  case text([Unicode.Scalar])
  case token(Int)
}

// MARK: - Matching

/// Finds added tokens in text the way tokenizers' `AddedVocabulary::find_matches` does:
/// leftmost-longest matches (its Aho-Corasick automaton), then the single-word test and the
/// whitespace stripping.
struct AddedTokenMatcher: Sendable {
  /// Patterns by first character, longest first: (content, token).
  private let byFirst: [Unicode.Scalar: [([Unicode.Scalar], AddedToken)]]

  init(_ tokens: [(pattern: [Unicode.Scalar], token: AddedToken)]) {
    var map: [Unicode.Scalar: [([Unicode.Scalar], AddedToken)]] = [:]
    for (p, t) in tokens where !p.isEmpty { map[p[0], default: []].append((p, t)) }
    for k in map.keys { map[k]?.sort { $0.0.count > $1.0.count } }
    byFirst = map
  }

  var isEmpty: Bool { byFirst.isEmpty }

  /// Leftmost-longest, non-overlapping raw matches.
  private func rawMatches(_ s: [Unicode.Scalar]) -> [(Range<Int>, AddedToken)] {
    var out: [(Range<Int>, AddedToken)] = []
    var i = 0
    scan: while i < s.count {
      if let candidates = byFirst[s[i]] {
        for (p, t) in candidates where i + p.count <= s.count && s[i..<(i + p.count)].elementsEqual(p) {
          out.append((i..<(i + p.count), t))
          i += p.count
          continue scan
        }
      }
      i += 1
    }
    return out
  }

  /// The text cut into text pieces and added-token pieces, covering it.
  func split(_ s: [Unicode.Scalar]) -> [TextPiece] {
    if isEmpty || s.isEmpty { return [.text(s)] }
    var out: [TextPiece] = []
    var startOffset = 0
    for (range, token) in rawMatches(s) {
      var start = range.lowerBound, stop = range.upperBound
      if token.singleWord {
        let startOK = start == 0 || !CharClass.isWordCharacter(s[start - 1])
        let stopOK = stop == s.count || !CharClass.isWordCharacter(s[stop])
        if !startOK || !stopOK { continue }
      }
      if token.lstrip {
        var k = start
        while k > 0, CharClass.isWhitespace(s[k - 1]) { k -= 1 }
        // The previous match may already have taken those spaces.
        start = max(k, startOffset)
      }
      if token.rstrip {
        while stop < s.count, CharClass.isWhitespace(s[stop]) { stop += 1 }
      }
      if startOffset < start { out.append(.text(Array(s[startOffset..<start]))) }
      out.append(.token(token.id))
      startOffset = stop
    }
    if startOffset < s.count { out.append(.text(Array(s[startOffset..<s.count]))) }
    return out
  }
}
