// MARK: - Hand-written scanners for the GPT-2 family of split patterns

/// A scanner equivalent to one of the well-known pre-tokenizer regexes, run under
/// backtracking (Oniguruma) semantics: at each position the first alternative that matches wins.
/// The three patterns differ only in a few alternatives, so one scanner takes them as options.
struct PatternScanner: Sendable, Equatable {
  /// `'s|'t|...` matched case-insensitively (`(?i:...)` in Llama-3 / Qwen2).
  var caseInsensitiveContractions: Bool
  /// Llama-3 / Qwen2: `[^\r\n\p{L}\p{N}]?\p{L}+`; GPT-2: ` ?\p{L}+`.
  var letterPrefixAnyNonAlnum: Bool
  /// `\p{N}{1,max}` with no space prefix (Llama-3: 3, Qwen2: 1); nil: GPT-2's ` ?\p{N}+`.
  var maxDigits: Int?
  /// Llama-3 / Qwen2: punctuation runs take trailing newlines, and `\s*[\r\n]+` exists.
  var newlineRules: Bool

  /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` (GPT-2, the
  /// ByteLevel pre-tokenizer's own regex).
  static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
  static let llama3Pattern =
    #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
  static let qwen2Pattern =
    #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

  static let gpt2 = PatternScanner(caseInsensitiveContractions: false, letterPrefixAnyNonAlnum: false,
                                   maxDigits: nil, newlineRules: false)
  static let llama3 = PatternScanner(caseInsensitiveContractions: true, letterPrefixAnyNonAlnum: true,
                                     maxDigits: 3, newlineRules: true)
  static let qwen2 = PatternScanner(caseInsensitiveContractions: true, letterPrefixAnyNonAlnum: true,
                                    maxDigits: 1, newlineRules: true)

  /// The scanner for a regex source, when it is one of the known patterns.
  static func forPattern(_ pattern: String) -> PatternScanner? {
    switch pattern {
    case gpt2Pattern: gpt2
    case llama3Pattern: llama3
    case qwen2Pattern: qwen2
    default: nil
    }
  }

  // MARK: - Matching

  /// Every match, left to right, as ranges of scalar indices. Every character is covered by
  /// some alternative, so the matches tile the input.
  func matches(in s: [Unicode.Scalar]) -> [Range<Int>] {
    let classes = s.map(CharClass.of)
    var out: [Range<Int>] = []
    var i = 0
    while i < s.count {
      let end = matchEnd(s, classes, at: i)
      out.append(i..<end)
      i = end
    }
    return out
  }

  private func isNewline(_ c: Unicode.Scalar) -> Bool { c == "\n" || c == "\r" }

  /// The end of the match that starts at i (always > i).
  private func matchEnd(_ s: [Unicode.Scalar], _ cls: [CharClass], at i: Int) -> Int {
    let n = s.count
    // 's|'t|'re|'ve|'m|'ll|'d
    if s[i] == "'", let len = contractionLength(s, after: i + 1) { return i + 1 + len }
    func run(_ c: CharClass, from j: Int, limit: Int = Int.max) -> Int {
      var k = j
      while k < n, cls[k] == c, k - j < limit { k += 1 }
      return k
    }
    // Letters, with an optional one-character prefix.
    if letterPrefixAnyNonAlnum {
      // [^\r\n\p{L}\p{N}]?\p{L}+
      if cls[i] != .letter, cls[i] != .number, !isNewline(s[i]), i + 1 < n, cls[i + 1] == .letter {
        return run(.letter, from: i + 1)
      }
      if cls[i] == .letter { return run(.letter, from: i) }
    } else {
      // ` ?\p{L}+`
      if s[i] == " ", i + 1 < n, cls[i + 1] == .letter { return run(.letter, from: i + 1) }
      if cls[i] == .letter { return run(.letter, from: i) }
    }
    // Numbers.
    if let maxDigits {
      if cls[i] == .number { return run(.number, from: i, limit: maxDigits) }
    } else {
      if s[i] == " ", i + 1 < n, cls[i + 1] == .number { return run(.number, from: i + 1) }
      if cls[i] == .number { return run(.number, from: i) }
    }
    // ` ?[^\s\p{L}\p{N}]+` (+ `[\r\n]*` with the newline rules).
    var j = -1
    if s[i] == " ", i + 1 < n, cls[i + 1] == .other { j = run(.other, from: i + 1) }
    else if cls[i] == .other { j = run(.other, from: i) }
    if j >= 0 {
      if newlineRules { while j < n, isNewline(s[j]) { j += 1 } }
      return j
    }
    // Whitespace: here cls[i] == .whitespace.
    let e = run(.whitespace, from: i)
    if newlineRules {
      // \s*[\r\n]+ : up to and including the last newline of the whitespace run.
      var k = e - 1
      while k >= i, !isNewline(s[k]) { k -= 1 }
      if k >= i { return k + 1 }
    }
    // \s+(?!\S) : the run, minus its last character when a non-space follows.
    if e == n { return e }
    if e - i >= 2 { return e - 1 }
    // \s+
    return e
  }

  /// Length of the contraction suffix starting at j (after the apostrophe), if any.
  private func contractionLength(_ s: [Unicode.Scalar], after j: Int) -> Int? {
    guard j < s.count else { return nil }
    let fold: (Unicode.Scalar) -> Unicode.Scalar = { c in
      guard caseInsensitiveContractions else { return c }
      // Oniguruma folds with Unicode case folding: 'ſ' (U+017F) folds to 's'.
      if c == "\u{017F}" { return "s" }
      if ("A"..."Z").contains(c), let lower = Unicode.Scalar(c.value + 32) { return lower }
      return c
    }
    let a = fold(s[j])
    switch a {
    case "s", "t", "m", "d": return 1
    case "r", "v", "l":
      guard j + 1 < s.count else { return nil }
      let b = fold(s[j + 1])
      let want: Unicode.Scalar = a == "l" ? "l" : "e"
      return b == want ? 2 : nil
    default: return nil
    }
  }
}
