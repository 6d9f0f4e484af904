// MARK: - KV cache

/// Keys and values of every decoder layer for the positions seen so far (llama2.c's
/// `RunState` cache, one explicit struct). Per layer: keys, values (capacity, Hkv * hd),
/// row p holds position p after RoPE.
public struct KVCache: Sendable {
  public let layerCount: Int
  /// Width of one cached row: num_key_value_heads * head_dim.
  public let rowWidth: Int
  /// Positions the buffers can hold.
  public let capacity: Int
  /// Positions filled: the next token goes to position `length`.
  public internal(set) var length: Int = 0
  /// Multimodal RoPE (Qwen-VL): the rotary position of the next token minus `length`. Images
  /// take fewer positions than tokens (max(h, w) for h x w tokens), so text after an image sits
  /// at `index + ropeDelta`. Zero for every other model.
  public internal(set) var ropeDelta: Int = 0
  var keys: [[Float]]    // layerCount x (capacity, rowWidth)
  var values: [[Float]]  // layerCount x (capacity, rowWidth)

  /// An empty cache; allocates 2 * layerCount * capacity * rowWidth floats.
  public init(layerCount: Int, rowWidth: Int, capacity: Int) {
    self.layerCount = layerCount
    self.rowWidth = rowWidth
    self.capacity = capacity
    keys = Array(repeating: [Float](repeating: 0, count: capacity * rowWidth), count: layerCount)
    values = keys
  }

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
