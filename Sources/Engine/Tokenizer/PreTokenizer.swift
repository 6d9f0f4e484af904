import Foundation

// MARK: - Pre-tokenizer

/// How `Split` treats the matches of its pattern; tokenizers' `SplitDelimiterBehavior`.
public enum SplitBehavior: String, Sendable {
  case removed = "Removed"
  case isolated = "Isolated"
  case mergedWithPrevious = "MergedWithPrevious"
  case mergedWithNext = "MergedWithNext"
  case contiguous = "Contiguous"
}

/// Cuts normalized text into words before BPE; tokenizers' `pre_tokenizers` module.
/// Each step maps the current list of pieces to a new one; empty pieces are dropped, as
/// `PreTokenizedString::split` does.
public indirect enum PreTokenizer: Sendable {
  /// Optionally prefixes a space, optionally splits with the GPT-2 regex, then maps each piece's
  /// UTF-8 bytes to the byte-level alphabet.
  case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
  case split(TextPattern, behavior: SplitBehavior, invert: Bool)
  /// Digits apart from the rest: each digit alone, or runs of digits.
  case digits(individual: Bool)
  case sequence([PreTokenizer])

  /// The pre-tokenizer that llama.cpp's `tokenizer.ggml.pre` names (for GGUF files, which carry
  /// no tokenizer.json), with the regex lists of llama.cpp's `llm_tokenizer_bpe`: "gpt2" (GPT-2
  /// regex), "llama-bpe"/"llama3" (Llama-3), "qwen2", "smollm" (single digits, then GPT-2),
  /// "default" (llama.cpp's fallback list: punctuation runs, GPT-2, digit runs, three ASCII
  /// digits, each split in turn). Unknown names throw.
  public static func named(_ kind: String) throws -> PreTokenizer {
    func isolate(_ pattern: String) throws -> PreTokenizer {
      .split(try .regex(pattern), behavior: .isolated, invert: false)
    }
    switch kind {
    case "gpt2", "gpt-2":
      return .byteLevel(addPrefixSpace: false, useRegex: true)
    case "default":
      return .sequence([try isolate(#"[\p{P}\$\+<=>\^~\|]+"#), try isolate(PatternScanner.gpt2Pattern),
                        try isolate(#"\p{N}+"#), try isolate("[0-9][0-9][0-9]"),
                        .byteLevel(addPrefixSpace: false, useRegex: false)])
    case "llama-bpe", "llama3", "llama-v3":
      return .sequence([try isolate(PatternScanner.llama3Pattern), .byteLevel(addPrefixSpace: false, useRegex: false)])
    case "qwen2":
      return .sequence([try isolate(PatternScanner.qwen2Pattern), .byteLevel(addPrefixSpace: false, useRegex: false)])
    case "smollm":
      return .sequence([.digits(individual: true), .byteLevel(addPrefixSpace: false, useRegex: true)])
    default:
      throw EngineError.tokenizer("unsupported pre-tokenizer kind '\(kind)'")
    }
  }

  /// Applies this step to every piece.
  func apply(_ pieces: [[Unicode.Scalar]]) -> [[Unicode.Scalar]] {
    switch self {
    case let .sequence(steps):
      return steps.reduce(pieces) { $1.apply($0) }
    default:
      return pieces.flatMap { applyOne($0) }.filter { !$0.isEmpty }
    }
  }

  private func applyOne(_ piece: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
    switch self {
    case let .byteLevel(addPrefixSpace, useRegex):
      var s = piece
      if addPrefixSpace, s.first != " " { s.insert(" ", at: 0) }
      let words = useRegex ? PatternScanner.gpt2.matches(in: s).map { Array(s[$0]) } : [s]
      return words.map { word in
        var utf8: [UInt8] = []
        for c in word { utf8.append(contentsOf: UTF8.encode(c) ?? UTF8.EncodedScalar()) }
        return ByteLevelAlphabet.encode(utf8)
      }
    case let .split(pattern, behavior, invert):
      var marked = pattern.split(piece)
      if invert { marked = marked.map { ($0.range, !$0.isMatch) } }
      return Self.group(marked, behavior).map { Array(piece[$0]) }
    case let .digits(individual):
      let marked = TextPattern.splitRuns(piece, where: CharClass.isNumeric)
      return Self.group(marked, individual ? .isolated : .contiguous, splitEachMatch: individual)
        .map { Array(piece[$0]) }
    case .sequence:
      return apply([piece])
    }
  }

  // MARK: - Delimiter behaviours

  /// tokenizers' `NormalizedString::split`: merges the (range, isMatch) tiling per behaviour.
  static func group(_ marked: [(range: Range<Int>, isMatch: Bool)], _ behavior: SplitBehavior,
                    splitEachMatch: Bool = false) -> [Range<Int>] {
    var acc: [(range: Range<Int>, isMatch: Bool)] = []
    switch behavior {
    case .isolated:
      if splitEachMatch {
        // Digits(individual_digits): every matched character alone.
        for m in marked {
          if m.isMatch { for i in m.range { acc.append((i..<(i + 1), true)) } } else { acc.append(m) }
        }
      } else {
        acc = marked
      }
    case .removed:
      acc = marked.filter { !$0.isMatch }
    case .mergedWithPrevious:
      var previousMatch = false
      for m in marked {
        if m.isMatch, !previousMatch, let last = acc.last {
          acc[acc.count - 1].range = last.range.lowerBound..<m.range.upperBound
        } else {
          acc.append(m)
        }
        previousMatch = m.isMatch
      }
    case .mergedWithNext:
      var previousMatch = false
      for m in marked.reversed() {
        if m.isMatch, !previousMatch, let last = acc.last {
          acc[acc.count - 1].range = m.range.lowerBound..<last.range.upperBound
        } else {
          acc.append(m)
        }
        previousMatch = m.isMatch
      }
      acc.reverse()
    case .contiguous:
      var previousMatch = false
      for m in marked {
        if m.isMatch == previousMatch, let last = acc.last {
          acc[acc.count - 1].range = last.range.lowerBound..<m.range.upperBound
        } else {
          acc.append(m)
        }
        previousMatch = m.isMatch
      }
    }
    return acc.map(\.range).filter { !$0.isEmpty }
  }

  // MARK: - JSON

  /// Reads a `pre_tokenizer` object of tokenizer.json; `null` gives nil.
  static func fromJSON(_ value: Any?) throws -> PreTokenizer? {
    guard let value, !(value is NSNull) else { return nil }
    guard let d = value as? [String: Any], let type = d["type"] as? String else {
      throw EngineError.tokenizer("pre_tokenizer: expected an object with a 'type'")
    }
    switch type {
    case "ByteLevel":
      return .byteLevel(addPrefixSpace: d["add_prefix_space"] as? Bool ?? true, useRegex: d["use_regex"] as? Bool ?? true)
    case "Split":
      let name = d["behavior"] as? String ?? ""
      guard let behavior = SplitBehavior(rawValue: name) else {
        throw EngineError.tokenizer("pre_tokenizer Split: unknown behavior '\(name)'")
      }
      return .split(try TextPattern.fromJSON(d["pattern"], context: "pre_tokenizer Split"), behavior: behavior,
                    invert: d["invert"] as? Bool ?? false)
    case "Digits":
      return .digits(individual: d["individual_digits"] as? Bool ?? false)
    case "Sequence":
      guard let list = d["pretokenizers"] as? [Any] else {
        throw EngineError.tokenizer("pre_tokenizer Sequence: missing 'pretokenizers'")
      }
      return .sequence(try list.compactMap { try fromJSON($0) })
    default:
      throw EngineError.tokenizer("unsupported pre_tokenizer type '\(type)'")
    }
  }
}

extension TextPattern {
  /// Maximal runs of characters satisfying a predicate, as a (range, isMatch) tiling.
  static func splitRuns(_ s: [Unicode.Scalar], where p: (Unicode.Scalar) -> Bool) -> [(range: Range<Int>, isMatch: Bool)] {
    var out: [(range: Range<Int>, isMatch: Bool)] = []
    var i = 0
    while i < s.count {
      let flag = p(s[i])
      var j = i + 1
      while j < s.count, p(s[j]) == flag { j += 1 }
      out.append((i..<j, flag))
      i = j
    }
    return out
  }
}
