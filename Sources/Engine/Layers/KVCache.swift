// MARK: - KV cache

/// Keys and values of every decoder layer for the positions seen so far (llama2.c's
/// `RunState` cache, one explicit struct), after RoPE. Per layer, keys and values: float32 as
/// rows (capacity, Hkv * hd), row p holding position p; binary16 head by head (Hkv, capacity,
/// hd), so a decode step streams each head's rows from one run (`appendAndAttend`).
///
/// Rows are stored as IEEE binary16 by default, as llama.cpp stores them: a decode step reads
/// every cached row of every layer, so at a few hundred tokens of context the cache's bytes are
/// a large share of what a token reads. `.f32` keeps them exact (the parity tests against
/// float32 references, and prefill-only uses such as the pointer head, where nothing is gained).
public struct KVCache: Sendable {
  /// How cached rows are stored.
  public enum Precision: String, Sendable, CaseIterable {
    /// IEEE binary16, rounded to nearest; values beyond +-65504 saturate to +-65504.
    case f16
    /// float32, exact.
    case f32

    /// Bytes of one stored value.
    public var bytes: Int { self == .f16 ? 2 : 4 }
  }

  public let layerCount: Int
  /// Width of one cached row: num_key_value_heads * head_dim.
  public let rowWidth: Int
  /// Positions the buffers can hold.
  public let capacity: Int
  public let precision: Precision
  /// Positions filled: the next token goes to position `length`.
  public internal(set) var length: Int = 0
  /// Multimodal RoPE (Qwen-VL): the rotary position of the next token minus `length`. Images
  /// take fewer positions than tokens (max(h, w) for h x w tokens), so text after an image sits
  /// at `index + ropeDelta`. Zero for every other model.
  public internal(set) var ropeDelta: Int = 0
  // layerCount x capacity * rowWidth values each; only the pair of `precision` is allocated.
  var keys: [[Float]] = [], values: [[Float]] = []
  var halfKeys: [[UInt16]] = [], halfValues: [[UInt16]] = []

  /// An empty cache; allocates 2 * layerCount * capacity * rowWidth values of `precision`.
  public init(layerCount: Int, rowWidth: Int, capacity: Int, precision: Precision = .f16) {
    self.layerCount = layerCount
    self.rowWidth = rowWidth
    self.capacity = capacity
    self.precision = precision
    switch precision {
    case .f32:
      keys = Array(repeating: [Float](repeating: 0, count: capacity * rowWidth), count: layerCount)
      values = keys
    case .f16:
      halfKeys = Array(repeating: [UInt16](repeating: 0, count: capacity * rowWidth), count: layerCount)
      halfValues = halfKeys
    }
  }

  /// Bytes held by the keys and values.
  public var byteCount: Int { 2 * layerCount * capacity * rowWidth * precision.bytes }

  /// Forgets positions from `newLength` on (e.g. to reuse a shared prompt prefix).
  public mutating func truncate(to newLength: Int) {
    length = max(0, min(length, newLength))
    if length == 0 { ropeDelta = 0 }
  }

  /// Throws when `count` more positions do not fit.
  func checkRoom(for count: Int) throws(EngineError) {
    guard length + count <= capacity else {
      throw .invalidArgument("KV cache full: \(length) + \(count) positions exceed capacity \(capacity)")
    }
  }
}
