// MARK: - Character classes of the pre-tokenizer patterns

/// The Unicode classes the GPT-2 / Llama-3 / Qwen2 patterns use, with Oniguruma's meaning
/// (tokenizers compiles those patterns with Oniguruma): `\p{L}` general category L*,
/// `\p{N}` N*, `\s` the White_Space property (which includes U+000B and U+0085).
enum CharClass {
  case letter, number, whitespace, other

  static func of(_ s: Unicode.Scalar) -> CharClass {
    let v = s.value
    if v < 0x80 {
      // ASCII fast path.
      if (0x41...0x5A).contains(v) || (0x61...0x7A).contains(v) { return .letter }
      if (0x30...0x39).contains(v) { return .number }
      if (0x09...0x0D).contains(v) || v == 0x20 { return .whitespace }
      return .other
    }
    if s.properties.isWhitespace { return .whitespace }
    switch s.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
      return .letter
    case .decimalNumber, .letterNumber, .otherNumber:
      return .number
    default:
      return .other
    }
  }

  /// Rust's `char::is_whitespace` (White_Space), used by strip options and normalizers.
  static func isWhitespace(_ s: Unicode.Scalar) -> Bool { of(s) == .whitespace }

  /// Rust's `char::is_numeric` (N*), used by the Digits pre-tokenizer.
  static func isNumeric(_ s: Unicode.Scalar) -> Bool { of(s) == .number }

  /// Rust regex `\w` (Alphabetic, M*, Nd, Pc, Join_Control): tokenizers' single-word test.
  static func isWordCharacter(_ s: Unicode.Scalar) -> Bool {
    let p = s.properties
    if p.isAlphabetic || p.isJoinControl { return true }
    switch p.generalCategory {
    case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
    default: return false
    }
  }
}
