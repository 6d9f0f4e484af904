// MARK: - Byte-level alphabet

/// GPT-2's reversible byte-to-character map (`bytes_to_unicode` in openai/gpt-2 `encoder.py`,
/// `bytes_char` in tokenizers' `pre_tokenizers/byte_level.rs`): printable Latin-1 bytes map to
/// themselves, the other 68 bytes to U+0100... in byte order, so every byte string becomes a
/// string of visible characters with no whitespace.
enum ByteLevelAlphabet {
  /// byteToScalar[b] is the character standing for byte b. (256,)
  static let byteToScalar: [Unicode.Scalar] = {
    var table = [Unicode.Scalar](repeating: " ", count: 256)
    var next: UInt32 = 256
    for b in 0..<256 {
      let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
      if printable {
        table[b] = Unicode.Scalar(UInt8(b))
      } else {
        // U+0100 + n stays in the BMP and is never a surrogate.
        table[b] = Unicode.Scalar(next) ?? " "
        next += 1
      }
    }
    return table
  }()

  /// The inverse map: character value -> byte, for the 256 characters of the alphabet.
  static let scalarToByte: [UInt32: UInt8] = {
    var map: [UInt32: UInt8] = [:]
    for (b, s) in byteToScalar.enumerated() { map[s.value] = UInt8(b) }
    return map
  }()

  /// Maps UTF-8 bytes to their byte-level characters.
  static func encode<S: Sequence>(_ bytes: S) -> [Unicode.Scalar] where S.Element == UInt8 {
    bytes.map { byteToScalar[Int($0)] }
  }

  /// The bytes a token stands for: each character through the inverse map, or, when any
  /// character is outside the alphabet (an added token such as `<|im_end|>` with a space),
  /// the token's own UTF-8 bytes, as tokenizers' ByteLevel decoder does.
  static func decode(_ token: String) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(token.unicodeScalars.count)
    for s in token.unicodeScalars {
      guard let b = scalarToByte[s.value] else { return Array(token.utf8) }
      out.append(b)
    }
    return out
  }
}
