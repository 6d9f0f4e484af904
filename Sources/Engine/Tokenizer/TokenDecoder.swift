import Foundation

// MARK: - Decoder

/// Turns tokens back into text; tokenizers' `decoders` module. Each step maps a list of token
/// strings to a new list (`decode_chain`); the result is their concatenation.
public indirect enum TokenDecoder: Sendable {
  /// Byte-level characters back to bytes, then lossy UTF-8 (invalid bytes become U+FFFD).
  case byteLevel
  case replace(TextPattern, with: String)
  /// `<0xNN>` tokens back to bytes; an invalid UTF-8 run gives one U+FFFD per byte.
  case byteFallback
  /// All tokens into one.
  case fuse
  /// Removes up to `start` leading and `stop` trailing `content` characters of each token.
  case strip(content: Unicode.Scalar, start: Int, stop: Int)
  case sequence([TokenDecoder])

  /// The decoded text.
  public func decode(_ tokens: [String]) -> String {
    decodeChain(tokens).joined()
  }

  func decodeChain(_ tokens: [String]) -> [String] {
    switch self {
    case .byteLevel:
      var bytes: [UInt8] = []
      for t in tokens { bytes.append(contentsOf: ByteLevelAlphabet.decode(t)) }
      return [String(decoding: bytes, as: UTF8.self)]
    case let .replace(pattern, content):
      let c = Array(content.unicodeScalars)
      return tokens.map { Self.string(pattern.replacingMatches(in: Array($0.unicodeScalars), with: c)) }
    case .byteFallback:
      var out: [String] = []
      var pending: [UInt8] = []
      func flush() {
        guard !pending.isEmpty else { return }
        if let s = String(validating: pending, as: UTF8.self) {
          out.append(s)
        } else {
          out.append(contentsOf: repeatElement("\u{FFFD}", count: pending.count))
        }
        pending.removeAll()
      }
      for t in tokens {
        if let b = Self.byteToken(t) {
          pending.append(b)
        } else {
          flush()
          out.append(t)
        }
      }
      flush()
      return out
    case .fuse:
      return [tokens.joined()]
    case let .strip(content, start, stop):
      return tokens.map { t in
        let s = Array(t.unicodeScalars)
        var lo = 0, hi = s.count
        while lo < min(start, s.count), s[lo] == content { lo += 1 }
        var removed = 0
        while removed < stop, hi > lo, s[hi - 1] == content { hi -= 1; removed += 1 }
        return Self.string(Array(s[lo..<hi]))
      }
    case let .sequence(steps):
      return steps.reduce(tokens) { $1.decodeChain($0) }
    }
  }

  /// The byte of a `<0xNN>` token (exactly six characters, two hex digits).
  static func byteToken(_ t: String) -> UInt8? {
    let u = Array(t.utf8)
    guard u.count == 6, u[0] == UInt8(ascii: "<"), u[1] == UInt8(ascii: "0"), u[2] == UInt8(ascii: "x"),
          u[5] == UInt8(ascii: ">") else { return nil }
    return UInt8(String(decoding: u[3..<5], as: UTF8.self), radix: 16)
  }

  static func string(_ s: [Unicode.Scalar]) -> String {
    var view = String.UnicodeScalarView()
    view.append(contentsOf: s)
    return String(view)
  }

  // MARK: - JSON

  /// Reads a `decoder` object of tokenizer.json; `null` gives nil.
  static func fromJSON(_ value: Any?) throws -> TokenDecoder? {
    guard let value, !(value is NSNull) else { return nil }
    guard let d = value as? [String: Any], let type = d["type"] as? String else {
      throw EngineError.tokenizer("decoder: expected an object with a 'type'")
    }
    switch type {
    case "ByteLevel": return .byteLevel
    case "ByteFallback": return .byteFallback
    case "Fuse": return .fuse
    case "Replace":
      guard let content = d["content"] as? String else { throw EngineError.tokenizer("decoder Replace: missing 'content'") }
      return .replace(try TextPattern.fromJSON(d["pattern"], context: "decoder Replace"), with: content)
    case "Strip":
      guard let content = d["content"] as? String, content.unicodeScalars.count == 1,
            let c = content.unicodeScalars.first else {
        throw EngineError.tokenizer("decoder Strip: 'content' must be one character")
      }
      return .strip(content: c, start: d["start"] as? Int ?? 0, stop: d["stop"] as? Int ?? 0)
    case "Sequence":
      guard let list = d["decoders"] as? [Any] else { throw EngineError.tokenizer("decoder Sequence: missing 'decoders'") }
      return .sequence(try list.compactMap { try fromJSON($0) })
    default:
      throw EngineError.tokenizer("unsupported decoder type '\(type)'")
    }
  }
}
