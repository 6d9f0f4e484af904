// MARK: - Streaming decoder

/// Decodes generated ids one at a time, holding text back while it ends in an incomplete UTF-8
/// sequence; tokenizers' `DecodeStream` (same outputs step by step). It keeps a small window of
/// ids: the last emitted ones as context (decoders such as Strip or byte fallback look at
/// neighbours) plus those not yet emitted.
public struct StreamingDecoder: Sendable {
  private let tokenizer: Tokenizer
  private let skipSpecial: Bool
  /// Context ids followed by pending ids.
  private var ids: [Int] = []
  /// The text of the context ids.
  private var prefix = ""
  /// Where the pending ids start in `ids`.
  private var prefixIndex = 0

  init(tokenizer: Tokenizer, skipSpecial: Bool) {
    self.tokenizer = tokenizer
    self.skipSpecial = skipSpecial
  }

  /// Feeds one id; returns the new text, or nil while it is incomplete (or empty).
  public mutating func step(_ id: Int) -> String? {
    ids.append(id)
    let text = tokenizer.decode(ids, skipSpecial: skipSpecial)
    guard text.utf8.count > prefix.utf8.count, text.unicodeScalars.last != "\u{FFFD}" else { return nil }
    return emit(text)
  }

  /// Emits what is held back now, an incomplete UTF-8 sequence as U+FFFD, for a caller that
  /// knows the sequence will not be completed (it inserts a marker next). Unlike `finish`, the
  /// ids stay as context for the ids that follow.
  public mutating func flush() -> String? {
    let text = tokenizer.decode(ids, skipSpecial: skipSpecial)
    guard text.utf8.count > prefix.utf8.count else { return nil }
    return emit(text)
  }

  /// The part of `text` after the prefix; the ids not yet emitted become the context for the
  /// ids that follow (the prefix), the older ones are dropped.
  private mutating func emit(_ text: String) -> String {
    let new = Self.suffix(of: text, after: prefix)
    let emitted = ids.count - prefixIndex
    ids.removeFirst(prefixIndex)
    prefix = tokenizer.decode(ids, skipSpecial: skipSpecial)
    prefixIndex = emitted
    return new
  }

  /// At the end of generation: whatever is still held back, with U+FFFD for incomplete bytes.
  public mutating func finish() -> String? {
    let text = tokenizer.decode(ids, skipSpecial: skipSpecial)
    defer { ids.removeAll(); prefix = ""; prefixIndex = 0 }
    guard text.utf8.count > prefix.utf8.count else { return nil }
    return Self.suffix(of: text, after: prefix)
  }

  /// The part of `text` after `prefix`; if the context decodes differently in a longer window
  /// (tokenizers reports InvalidPrefix there), after their longest common byte prefix.
  private static func suffix(of text: String, after prefix: String) -> String {
    let t = Array(text.utf8), p = Array(prefix.utf8)
    var n = 0
    while n < p.count, n < t.count, t[n] == p[n] { n += 1 }
    // Back up to a character boundary.
    while n > 0, n < t.count, t[n] & 0xC0 == 0x80 { n -= 1 }
    return String(decoding: t[n...], as: UTF8.self)
  }
}
