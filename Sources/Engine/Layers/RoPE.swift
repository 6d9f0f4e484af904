import Foundation

// MARK: - Rotary position embedding (rotate-half)

/// RoPE as in transformers' Llama/Qwen2 (`rotate_half` convention): dimension i and i + hd/2
/// of each head form one pair rotated by angle pos * theta^(-2i/hd).
struct RotaryEmbedding: Sendable {
  let headDim: Int
  /// theta^(-2i/hd), i < hd/2, computed in float32 as `LlamaRotaryEmbedding` does, so that
  /// angles at large positions round the same way as the reference.
  let inverseFrequencies: [Float]  // (hd/2,)

  init(headDim: Int, theta: Float) {
    self.headDim = headDim
    inverseFrequencies = (0..<(headDim / 2)).map { i in
      1 / Float(Foundation.pow(Double(theta), Double(Float(2 * i) / Float(headDim))))
    }
  }

  /// Rotates x (rows, heads * hd) in place; row r holds position `start + r`.
  func apply(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, start: Int) {
    let half = headDim / 2
    var cosines = [Float](repeating: 0, count: half)  // (hd/2,)
    var sines = [Float](repeating: 0, count: half)    // (hd/2,)
    for r in 0..<rows {
      let position = Float(start + r)
      for i in 0..<half {
        let angle = position * inverseFrequencies[i]  // float32 product, as the reference
        cosines[i] = Float(Foundation.cos(Double(angle)))
        sines[i] = Float(Foundation.sin(Double(angle)))
      }
      for h in 0..<heads {
        let v = x + (r * heads + h) * headDim
        for i in 0..<half {
          let a = v[i], b = v[i + half]
          // [a, b] -> [a cos - b sin, b cos + a sin]
          v[i] = a * cosines[i] - b * sines[i]
          v[i + half] = b * cosines[i] + a * sines[i]
        }
      }
    }
  }
}
