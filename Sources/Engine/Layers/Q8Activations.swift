// MARK: - Activations quantized as llama.cpp quantizes them
//
// llama.cpp's CPU backend does not multiply a Q4_0/Q4_1/Q8_0 weight by float activations: it
// first rounds the activation row to int8 blocks of 32 (the weight type's `vec_dot_type`:
// `quantize_row_q8_0` for Q4_0/Q8_0, `quantize_row_q8_1` for Q4_1), then takes integer dot
// products per block (`ggml_vec_dot_q4_0_q8_0`, `_q4_1_q8_1`, `_q8_0_q8_0`). Doing the same
// gives logits that agree with llama.cpp's to its own rounding (float activations differ from
// them by up to ~0.2 on SmolLM2, enough to flip near-tied greedy choices), and the integer
// products are cheaper than widening every weight to float.

/// One activation row x (k,) in int8 blocks of 32: x_j ~ d_b * q_j for j in block b.
struct Q8Row {
  static let block = 32
  /// (k,) int8 values.
  var values: [Int8]
  /// (k/32,) block scales d = max|x| / 127, rounded to f16 as stored by llama.cpp.
  var scales: [Float]
  /// (k/32,) Q8_1's s = d * sum(q), rounded to f16 (used by weights with an offset, Q4_1).
  var sums: [Float]

  /// Quantizes x (k,), k a multiple of 32: q = round-half-even(x * 127 / max|x|), as the
  /// AVX2 `quantize_row_q8_0/1` (`_mm256_round_ps(..., _MM_ROUND_NEAREST)`).
  init(_ x: UnsafePointer<Float>, count k: Int) {
    let nb = k / Self.block
    values = [Int8](repeating: 0, count: k)
    scales = [Float](repeating: 0, count: nb)
    sums = [Float](repeating: 0, count: nb)
    for b in 0..<nb {
      let xb = x + b * Self.block
      var amax: Float = 0
      for j in 0..<Self.block { amax = max(amax, abs(xb[j])) }
      let d = amax / 127, id: Float = amax != 0 ? 127 / amax : 0
      var sum: Int32 = 0
      for j in 0..<Self.block {
        let q = Int8((xb[j] * id).rounded(.toNearestOrEven))
        values[b * Self.block + j] = q
        sum += Int32(q)
      }
      scales[b] = Float(Float16(d))
      sums[b] = Float(Float16(d * Float(sum)))
    }
  }

  /// Whether a weight of `type` is multiplied through `Q8Row` (the types above).
  static func handles(_ type: TensorDType) -> Bool { [.q4_0, .q4_1, .q8_0].contains(type) }
}

// MARK: - Integer block dots

@inline(__always)
private func f16At(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
  Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
}

/// `row · x` for a Q4_0 / Q4_1 / Q8_0 row of `k` elements and an activation row quantized by
/// `Q8Row` (pointers to its values, scales, sums). Sum over blocks as llama.cpp's reference dots:
/// Q4_0: d_w d_x sum (n - 8) q; Q4_1: d_w d_x sum n q + m_w s_x; Q8_0: d_w d_x sum q_w q.
@inline(__always)
func q8RowDot(_ type: TensorDType, _ row: UnsafeRawPointer, _ q: UnsafePointer<Int8>,
              _ scales: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, count k: Int) -> Float {
  let nb = k / Q8Row.block
  var total: Float = 0
  switch type {
  case .q4_1:  // f16 d, f16 m, u8 nibbles[16]: low = element j, high = element j + 16
    for b in 0..<nb {
      let p = row + b * 20, nib = (p + 4).assumingMemoryBound(to: UInt8.self), qb = q + b * 32
      var isum: Int32 = 0
      for j in 0..<16 { isum &+= Int32(nib[j] & 0x0F) &* Int32(qb[j]) &+ Int32(nib[j] >> 4) &* Int32(qb[j + 16]) }
      total += f16At(p, 0) * scales[b] * Float(isum) + f16At(p, 2) * sums[b]
    }
  case .q4_0:  // f16 d, u8 nibbles[16], values n - 8
    for b in 0..<nb {
      let p = row + b * 18, nib = (p + 2).assumingMemoryBound(to: UInt8.self), qb = q + b * 32
      var isum: Int32 = 0
      for j in 0..<16 {
        isum &+= (Int32(nib[j] & 0x0F) &- 8) &* Int32(qb[j]) &+ (Int32(nib[j] >> 4) &- 8) &* Int32(qb[j + 16])
      }
      total += Float(isum) * (f16At(p, 0) * scales[b])
    }
  case .q8_0:  // f16 d, i8 qs[32]
    for b in 0..<nb {
      let p = row + b * 34, w = (p + 2).assumingMemoryBound(to: Int8.self), qb = q + b * 32
      var isum: Int32 = 0
      for j in 0..<32 { isum &+= Int32(w[j]) &* Int32(qb[j]) }
      total += Float(isum) * (f16At(p, 0) * scales[b])
    }
  default:
    break
  }
  return total
}
