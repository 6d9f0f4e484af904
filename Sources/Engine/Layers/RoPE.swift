import Foundation

// MARK: - Rotary position embedding (rotate-half)

/// RoPE as in transformers' Llama/Qwen2 (`rotate_half` convention): dimension i and i + hd/2
/// of each head form one pair rotated by angle pos * theta^(-2i/hd).
struct RotaryEmbedding: Sendable {
  let headDim: Int
  /// theta^(-2i/hd), i < hd/2, computed in float32 as `LlamaRotaryEmbedding` does, so that
  /// angles at large positions round the same way as the reference.
  let inverseFrequencies: [Float]  // (hd/2,)

  /// Multimodal RoPE (Qwen-VL's M-RoPE): which position axis (0 temporal, 1 height, 2 width)
  /// each frequency i < hd/2 turns with; nil for plain 1-D RoPE.
  let axisOfFrequency: [Int]?

  init(headDim: Int, theta: Float, axisOfFrequency: [Int]? = nil) {
    self.headDim = headDim
    inverseFrequencies = (0..<(headDim / 2)).map { i in
      1 / Float(Foundation.pow(Double(theta), Double(Float(2 * i) / Float(headDim))))
    }
    self.axisOfFrequency = axisOfFrequency
  }

  /// Explicit frequencies (hd/2 of them), e.g. a vision tower's axial 2-D rotary embedding.
  init(headDim: Int, inverseFrequencies: [Float], axisOfFrequency: [Int]?) {
    self.headDim = headDim
    self.inverseFrequencies = inverseFrequencies
    self.axisOfFrequency = axisOfFrequency
  }

  /// The axis of each frequency for M-RoPE sections (t, h, w) summing to hd/2: in blocks
  /// (Qwen2-VL, Qwen2.5-VL: the first `section[0]` frequencies turn with t, the next with h, the
  /// rest with w) or interleaved (Qwen3-VL: t, h, w, t, h, w, ... while each axis has frequencies
  /// left in its section, the remainder with t).
  static func mropeAxes(section: [Int], interleaved: Bool) -> [Int] {
    let half = section.reduce(0, +)
    if interleaved {
      return (0..<half).map { i in
        if i % 3 == 1, i < 3 * section[1] { return 1 }
        if i % 3 == 2, i < 3 * section[2] { return 2 }
        return 0
      }
    }
    return (0..<half).map { i in i < section[0] ? 0 : (i < section[0] + section[1] ? 1 : 2) }
  }

  /// Rotates x (rows, heads * hd) in place; row r holds position `start + r`.
  func apply(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, start: Int) {
    apply(x, rows: rows, heads: heads, positions: .sequential(start: start))
  }

  /// Rotates x (rows, heads * hd) in place at `positions`. With M-RoPE, sequential positions
  /// put every axis at the same value (text), which equals plain RoPE.
  func apply(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, positions: RotaryPositions) {
    rotate([(x, heads)], rows: rows, positions: positions)
  }

  /// Rotates queries q (rows, heads * hd) and keys k (rows, kvHeads * hd) at the same positions,
  /// each row's angles computed once for both.
  func apply(queries q: UnsafeMutablePointer<Float>, heads: Int, keys k: UnsafeMutablePointer<Float>, kvHeads: Int,
             rows: Int, positions: RotaryPositions) {
    rotate([(q, heads), (k, kvHeads)], rows: rows, positions: positions)
  }

  /// Each matrix of `targets` (rows, heads * hd) rotated in place.
  private func rotate(_ targets: [(UnsafeMutablePointer<Float>, Int)], rows: Int, positions: RotaryPositions) {
    let half = headDim / 2
    var cosines = [Float](repeating: 0, count: half)  // (hd/2,)
    var sines = [Float](repeating: 0, count: half)    // (hd/2,)
    for r in 0..<rows {
      for i in 0..<half {
        let position: Float
        switch positions {
        case let .sequential(start): position = Float(start + r)
        case let .axes(table): position = Float(table[r * 3 + (axisOfFrequency?[i] ?? 0)])
        }
        let angle = position * inverseFrequencies[i]  // float32 product, as the reference
        cosines[i] = Float(Foundation.cos(Double(angle)))
        sines[i] = Float(Foundation.sin(Double(angle)))
      }
      for (x, heads) in targets {
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
}

/// Where the rows of a block sit for rotary embeddings.
enum RotaryPositions: Sendable {
  /// Row r at position start + r on every axis.
  case sequential(start: Int)
  /// Row r at (t, h, w) = table[3r], table[3r+1], table[3r+2] (M-RoPE; (rows, 3)).
  case axes([Int])
}
