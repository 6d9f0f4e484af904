// MARK: - Activations quantized as llama.cpp quantizes them
//
// llama.cpp's CPU backend does not multiply a quantized weight by float activations: it first
// rounds the activation row to int8 blocks (the weight type's `vec_dot_type`: `quantize_row_q8_0`
// for Q4_0/Q5_0/Q8_0, `quantize_row_q8_1` for Q4_1/Q5_1, `quantize_row_q8_K` for the K-quants),
// then takes integer dot products per block (`ggml_vec_dot_q4_1_q8_1`, `_q4_K_q8_K`, ...). Doing
// the same gives logits that agree with llama.cpp's to its own rounding, and integer products
// are cheaper than widening every weight to float. The kernels are in Weights/Int8Dot.swift.

/// One activation row x (k,) rounded to int8 blocks: x_j ~ d_b * q_j for j in block b.
/// Its buffers are allocated once and read through raw pointers by the kernels.
final class Q8Row: @unchecked Sendable {
  /// Which of llama.cpp's activation types: blocks of 32 with f16 scales (Q8_0; Q8_1 adds each
  /// block's scaled sum), or blocks of 256 with an f32 scale and sums per 16 values (Q8_K).
  enum Layout: Sendable {
    case q8_0, q8_1, q8_K
    /// Values per block (and per scale).
    var blockSize: Int { self == .q8_K ? 256 : 32 }
  }

  let layout: Layout
  let count: Int
  /// (k,) the int8 values.
  let bytes: UnsafeMutablePointer<Int8>
  /// (k / blockSize,) block scales d.
  let scales: UnsafeMutablePointer<Float>
  /// Q8_1: (k/32,) s = d * sum(q) rounded to f16 (for weights with an offset). Q8_K: (k/16,) the
  /// integer sums of each 16 values (`bsums`, for the K-quants' minimums). Q8_0: unused zeros.
  let sums: UnsafeMutablePointer<Float>

  var blockSize: Int { layout.blockSize }

  /// The activation layout llama.cpp pairs with a weight type, nil for types multiplied in float
  /// (f32, f16, bf16; llama.cpp itself rounds activations to f16 for f16 weights).
  static func layout(for type: TensorDType) -> Layout? {
    switch type {
    case .q4_0, .q5_0, .q8_0: .q8_0
    case .q4_1, .q5_1: .q8_1
    case .q4_K, .q5_K, .q6_K: .q8_K
    case .f32, .f16, .bf16, .q8_K: nil
    }
  }

  /// Quantizes x (k,), k a multiple of the layout's block.
  /// Q8_0/Q8_1: q = round-half-even(x * 127 / max|x|), as the AVX2 `quantize_row_q8_0/1`
  /// (`_mm256_round_ps(..., _MM_ROUND_NEAREST)`), d = max|x| / 127 stored as f16.
  /// Q8_K: as `quantize_row_q8_K_ref`: with `max` the value of largest magnitude (sign kept),
  /// q = min(127, round-half-even(-127 / max * x)), d = 1 / (-127 / max) in f32.
  init(_ x: UnsafePointer<Float>, count k: Int, layout: Layout) {
    self.layout = layout
    count = k
    let nb = k / layout.blockSize
    bytes = .allocate(capacity: max(1, k))
    bytes.initialize(repeating: 0, count: max(1, k))
    scales = .allocate(capacity: max(1, nb))
    scales.initialize(repeating: 0, count: max(1, nb))
    let sumCount = max(1, layout == .q8_K ? k / 16 : nb)
    sums = .allocate(capacity: sumCount)
    sums.initialize(repeating: 0, count: sumCount)
    if layout == .q8_K {
      for b in 0..<nb {
        let xb = x + 256 * b
        var amax: Float = 0, signedMax: Float = 0
        for j in 0..<256 where abs(xb[j]) > amax { amax = abs(xb[j]); signedMax = xb[j] }
        guard amax != 0 else {  // d = 0, q = 0, as the reference (NaN for a block of NaNs)
          if !finite(xb, 256) { scales[b] = .nan }
          continue
        }
        let iscale = -127 / signedMax
        for g in 0..<16 {
          var sum: Int32 = 0
          for j in 16 * g..<16 * g + 16 {
            let q = min(127, int16(iscale * xb[j]))
            bytes[256 * b + j] = Int8(q)
            sum += Int32(q)
          }
          sums[16 * b + g] = Float(sum)
        }
        scales[b] = finite(xb, 256) ? 1 / iscale : .nan
      }
      return
    }
    #if arch(x86_64)
    for b in 0..<nb { quantizeBlock32(b, x + b * 32) }
    return
    #else
    for b in 0..<nb {
      let xb = x + b * 32
      var amax: Float = 0
      for j in 0..<32 { amax = max(amax, abs(xb[j])) }
      let d = amax / 127, id: Float = amax != 0 ? 127 / amax : 0
      var sum: Int32 = 0
      for j in 0..<32 {
        let q = int16(xb[j] * id)
        bytes[b * 32 + j] = Int8(q)
        sum += Int32(q)
      }
      scales[b] = finite(xb, 32) ? Float(Float16(d)) : .nan
      if layout == .q8_1 { sums[b] = Float(Float16(d * Float(sum))) }
    }
    #endif
  }

  #if arch(x86_64)
  /// Block b of a Q8_0/Q8_1 row from its 32 values xb, 16 lanes at a time: the same values as the
  /// scalar loop (q = round-half-even(x * 127 / max|x|); adding and subtracting 1.5 x 2^23 rounds a
  /// float of magnitude below 2^22 to the nearest integer, ties to even).
  @inline(__always)
  private func quantizeBlock32(_ b: Int, _ xb: UnsafePointer<Float>) {
    let v0 = load16(xb), v1 = load16(xb + 16)
    let a0 = v0.replacing(with: -v0, where: v0 .< 0), a1 = v1.replacing(with: -v1, where: v1 .< 0)
    let amax = max16(a0, a1).max()
    let isFinite = all(v0 - v0 .== 0) && all(v1 - v1 .== 0)  // false for NaN and infinity
    let d = amax / 127, id: Float = amax != 0 ? 127 / amax : 0
    let magic = SIMD16<Float>(repeating: 12_582_912)
    @inline(__always) func quantized(_ v: SIMD16<Float>) -> SIMD16<Int8> {
      let r = (v * id + magic) - magic
      return bytesFromWholeFloats(r.replacing(with: 0, where: .!(r .== r)))
    }
    let q0 = quantized(v0), q1 = quantized(v1)
    let out = UnsafeMutableRawPointer(bytes + b * 32)
    out.storeBytes(of: q0, as: SIMD16<Int8>.self)
    out.storeBytes(of: q1, toByteOffset: 16, as: SIMD16<Int8>.self)
    let sum = (widened32(q0) &+ widened32(q1)).wrappedSum()
    scales[b] = isFinite ? Float(Float16(d)) : .nan
    if layout == .q8_1 { sums[b] = Float(Float16(d * Float(sum))) }
  }
  #endif

  deinit {
    bytes.deallocate()
    scales.deallocate()
    sums.deallocate()
  }
}

/// v rounded half to even into Int16, 0 for NaN (clamped; the callers' values are within 127).
@inline(__always)
private func int16(_ v: Float) -> Int16 {
  let r = v.rounded(.toNearestOrEven)
  return r.isNaN ? 0 : Int16(max(-32768, min(32767, r)))
}

/// Whether x[0..<n] holds no NaN or infinity: a block that does gets a NaN scale, so that the
/// product is NaN as the float product would be, not a number made of the block's other values.
@inline(__always)
private func finite(_ x: UnsafePointer<Float>, _ n: Int) -> Bool {
  var all = true
  for j in 0..<n { all = all && x[j].isFinite }
  return all
}
