import Foundation

// MARK: - Normalizer

/// Text normalization before pre-tokenization; tokenizers' `normalizers` module. Applied to each
/// piece of text left between non-normalized added tokens (`AddedVocabulary::extract_and_normalize`).
public indirect enum Normalizer: Sendable {
  case nfc, nfd, nfkc, nfkd
  /// Per-character lowercase mapping (Rust `char::to_lowercase`, no final-sigma context).
  case lowercase
  /// Removes White_Space characters at the start and/or end.
  case strip(left: Bool, right: Bool)
  /// Prepends a string to non-empty text (Llama-2 style `"▁"`).
  case prepend(String)
  /// Replaces every match of a pattern.
  case replace(TextPattern, with: String)
  case sequence([Normalizer])

  /// The normalized text.
  public func normalize(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
    switch self {
    case .nfc: return Self.viaString(s) { $0.precomposedStringWithCanonicalMapping }
    case .nfd: return Self.viaString(s) { $0.decomposedStringWithCanonicalMapping }
    // Foundation's compatibility forms leave marks from compatibility decompositions unordered
    // ("\u{3d0}\u{5b5}\u{ff9e}" keeps U+05B5 before U+3099); the canonical forms reorder, and
    // NFKC = NFC(NFKD), NFKD = NFD(NFKD).
    case .nfkc: return Self.viaString(s) { $0.decomposedStringWithCompatibilityMapping.precomposedStringWithCanonicalMapping }
    case .nfkd: return Self.viaString(s) { $0.decomposedStringWithCompatibilityMapping.decomposedStringWithCanonicalMapping }
    case .lowercase:
      var out: [Unicode.Scalar] = []
      out.reserveCapacity(s.count)
      for c in s {
        if c.isASCII {
          out.append(("A"..."Z").contains(c) ? Unicode.Scalar(UInt8(c.value) + 32) : c)
        } else {
          out.append(contentsOf: c.properties.lowercaseMapping.unicodeScalars)
        }
      }
      return out
    case let .strip(left, right):
      var lo = 0, hi = s.count
      if left { while lo < hi, CharClass.isWhitespace(s[lo]) { lo += 1 } }
      if right { while hi > lo, CharClass.isWhitespace(s[hi - 1]) { hi -= 1 } }
      return Array(s[lo..<hi])
    case let .prepend(p):
      return s.isEmpty ? s : Array(p.unicodeScalars) + s
    case let .replace(pattern, content):
      return pattern.replacingMatches(in: s, with: Array(content.unicodeScalars))
    case let .sequence(list):
      return list.reduce(s) { $1.normalize($0) }
    }
  }

  private static func viaString(_ s: [Unicode.Scalar], _ f: (String) -> String) -> [Unicode.Scalar] {
    // ASCII is invariant under every normalization form.
    if s.allSatisfy(\.isASCII) { return s }
    var view = String.UnicodeScalarView()
    view.append(contentsOf: s)
    return Array(f(String(view)).unicodeScalars)
  }

  // MARK: - JSON

  /// Reads a `normalizer` object of tokenizer.json; `null` gives nil.
  static func fromJSON(_ value: Any?) throws -> Normalizer? {
    guard let value, !(value is NSNull) else { return nil }
    guard let d = value as? [String: Any], let type = d["type"] as? String else {
      throw EngineError.tokenizer("normalizer: expected an object with a 'type'")
    }
    switch type {
    case "NFC": return .nfc
    case "NFD": return .nfd
    case "NFKC": return .nfkc
    case "NFKD": return .nfkd
    case "Lowercase": return .lowercase
    case "Strip":
      return .strip(left: d["strip_left"] as? Bool ?? true, right: d["strip_right"] as? Bool ?? true)
    case "Prepend":
      guard let p = d["prepend"] as? String else { throw EngineError.tokenizer("normalizer Prepend: missing 'prepend'") }
      return .prepend(p)
    case "Replace":
      guard let content = d["content"] as? String else {
        throw EngineError.tokenizer("normalizer Replace: missing 'content'")
      }
      return .replace(try TextPattern.fromJSON(d["pattern"], context: "normalizer Replace"), with: content)
    case "Sequence":
      guard let list = d["normalizers"] as? [Any] else {
        throw EngineError.tokenizer("normalizer Sequence: missing 'normalizers'")
      }
      return .sequence(try list.compactMap { try fromJSON($0) })
    default:
      throw EngineError.tokenizer("unsupported normalizer type '\(type)'")
    }
  }
}
