#if arch(x86_64)
// MARK: - Integer block dots with AVX2 byte products
//
// The same sums as the portable kernels (Int8Dot.swift), taken as llama.cpp's AVX2 kernels take
// them: a block's 32 weight quants are made into 32 bytes, multiplied with the activation's 32
// int8 values by `vpmaddubsw` (unsigned x signed, pairs summed into Int16) and summed into 8 Int32
// lanes by `vpmaddwd` (Kernels/IntegerSIMD.swift). Types whose values are signed (Q4_0's n - 8,
// Q5_0's n - 16, Q8_0, Q6_K's n - 32) move the weight's signs onto the activation first. The
// K-quants' sub-block scales are the second operand of `vpmaddwd`.

private typealias U8x16 = SIMD16<UInt8>

@inline(__always)
private func bytes16(_ p: UnsafeRawPointer, _ offset: Int) -> U8x16 {
  p.loadUnaligned(fromByteOffset: offset, as: U8x16.self)
}

/// The activation's 32 int8 values from index i.
@inline(__always)
private func x32(_ a: Q8View, _ i: Int) -> SIMD32<Int8> {
  UnsafeRawPointer(a.q + i).loadUnaligned(as: SIMD32<Int8>.self)
}

/// Two 16-byte halves as one 32-byte vector (`vinserti128`); byte arithmetic stays on halves,
/// where Swift's SIMD16 operators compile to single instructions.
@inline(__always)
private func join(_ lo: U8x16, _ hi: U8x16) -> SIMD32<UInt8> { SIMD32(lowHalf: lo, highHalf: hi) }

/// The same 32 bytes read as signed.
@inline(__always)
private func signed(_ v: SIMD32<UInt8>) -> SIMD32<Int8> {
  var r = SIMD32<Int8>()
  r._storage._value = v._storage._value
  return r
}

/// (a x8, b x8): per-16-value scales as `vpmaddwd`'s operand for a 32-value product.
@inline(__always)
private func scalePair(_ a: Int16, _ b: Int16) -> SIMD16<Int16> {
  SIMD16(lowHalf: SIMD8(repeating: a), highHalf: SIMD8(repeating: b))
}

private enum Q4_0Bytes: BlockTerm {  // f16 d, u8 qs[16]: low nibbles elements 0..15, high 16..31
  @inline(__always) static func term(_ p: UnsafeRawPointer, _ b: Int, _ a: Q8View) -> (SIMD8<Float>, Float, Float) {
    let q = bytes16(p, 2)
    let w = signed(join((q & 15) &- 8, (q &>> 4) &- 8))
    return (float8(signedDot8(w, x32(a, 32 &* b))), halfFloat(p, 0) * a.d[b], 0)
  }
}

private enum Q4_1Bytes: BlockTerm {  // f16 d, f16 m, u8 qs[16]
  @inline(__always) static func term(_ p: UnsafeRawPointer, _ b: Int, _ a: Q8View) -> (SIMD8<Float>, Float, Float) {
    let q = bytes16(p, 4)
    let dm = halfPair(p, 0)
    return (float8(unsignedDot8(join(q & 15, q &>> 4), x32(a, 32 &* b))), dm[0] * a.d[b], dm[1] * a.s[b])
  }
}

/// Q5_0 (`one` false: f16 d, u32 qh, u8 qs[16], values n - 16) and Q5_1 (f16 d, f16 m, u32 qh, qs).
/// Bit j of qh is element j's fifth bit. Q5_1: n = nibble | 16 where set. Q5_0: n - 16 as a signed
/// byte is the nibble where the bit is set and nibble | 0xf0 where it is not.
@inline(__always)
private func q5Bytes(_ p: UnsafeRawPointer, _ b: Int, _ a: Q8View, one: Bool) -> (SIMD8<Float>, Float, Float) {
  let h = one ? 4 : 2
  let set = bitMask32(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: h, as: UInt32.self)))
  let q = bytes16(p, h + 4)
  let nibbles = join(q & 15, q &>> 4), x = x32(a, 32 &* b)
  if one {
    let dm = halfPair(p, 0)
    return (float8(unsignedDot8(orMasked(nibbles, set, 0x10), x)), dm[0] * a.d[b], dm[1] * a.s[b])
  }
  return (float8(signedDot8(signed(orMasked(nibbles, complement(set), 0xf0)), x)), halfPair(p, 0)[0] * a.d[b], 0)
}

private enum Q5_0Bytes: BlockTerm { static func term(_ p: UnsafeRawPointer, _ b: Int, _ a: Q8View) -> (SIMD8<Float>, Float, Float) { q5Bytes(p, b, a, one: false) } }
private enum Q5_1Bytes: BlockTerm { static func term(_ p: UnsafeRawPointer, _ b: Int, _ a: Q8View) -> (SIMD8<Float>, Float, Float) { q5Bytes(p, b, a, one: true) } }

private enum Q8_0Bytes: BlockTerm {  // f16 d, i8 qs[32]
  @inline(__always) static func term(_ p: UnsafeRawPointer, _ b: Int, _ a: Q8View) -> (SIMD8<Float>, Float, Float) {
    let w = p.loadUnaligned(fromByteOffset: 2, as: SIMD32<Int8>.self)
    // The scale read with the first two quants (one 4-byte load, lane 0): faster here than `halfFloat`.
    return (float8(signedDot8(w, x32(a, 32 &* b))), halfPair(p, 0)[0] * a.d[b], 0)
  }
}

/// Q4_K (`five` false) and Q5_K: f16 d, f16 dmin, scales[12], (Q5_K: qh[32]), qs[128]; 8
/// sub-blocks of 32 with 6-bit scales and minimums; the minimums meet the activation's bsums.
@inline(__always)
private func kBytes(_ p: UnsafeRawPointer, _ b: Int, _ a: Q8View, five: Bool) -> (SIMD8<Float>, Float, Float) {
  let qsAt = five ? 48 : 16, xb = 256 &* b, bsums = a.s + 16 &* b
  var isum = SIMD8<Int32>()
  var mins: Float = 0
  let h0 = five ? bytes16(p, 16) : U8x16(), h1 = five ? bytes16(p, 32) : U8x16()
  for c in 0..<4 {  // chunk c: low nibbles are sub-block 2c, high nibbles 2c + 1
    let v0 = bytes16(p, qsAt + 32 * c), v1 = bytes16(p, qsAt + 32 * c + 16)
    var lo0 = v0 & 15, lo1 = v1 & 15, hi0 = v0 &>> 4, hi1 = v1 &>> 4
    if five {
      let sh = UInt8(2 * c)
      lo0 |= ((h0 &>> sh) & 1) &<< 4; hi0 |= ((h0 &>> (sh + 1)) & 1) &<< 4
      lo1 |= ((h1 &>> sh) & 1) &<< 4; hi1 |= ((h1 &>> (sh + 1)) & 1) &<< 4
    }
    let (sc0, m0) = kQuantScaleMin(p + 4, 2 * c), (sc1, m1) = kQuantScaleMin(p + 4, 2 * c + 1)
    let lo = multiplyAddPairs(join(lo0, lo1), x32(a, xb + 64 * c))
    let hi = multiplyAddPairs(join(hi0, hi1), x32(a, xb + 64 * c + 32))
    isum &+= multiplyAddPairs(lo, SIMD16(repeating: Int16(sc0))) &+ multiplyAddPairs(hi, SIMD16(repeating: Int16(sc1)))
    mins += Float(m0) * (bsums[4 * c] + bsums[4 * c + 1]) + Float(m1) * (bsums[4 * c + 2] + bsums[4 * c + 3])
  }
  let dm = halfPair(p, 0)
  return (float8(isum), dm[0] * a.d[b], -(dm[1] * a.d[b] * mins))
}

private enum Q4_KBytes: BlockTerm { static func term(_ p: UnsafeRawPointer, _ b: Int, _ a: Q8View) -> (SIMD8<Float>, Float, Float) { kBytes(p, b, a, five: false) } }
private enum Q5_KBytes: BlockTerm { static func term(_ p: UnsafeRawPointer, _ b: Int, _ a: Q8View) -> (SIMD8<Float>, Float, Float) { kBytes(p, b, a, five: true) } }

private enum Q6_KBytes: BlockTerm {  // ql[128], qh[64], i8 scales[16], f16 d; two halves of 128, sub-blocks of 16
  @inline(__always) static func term(_ p: UnsafeRawPointer, _ b: Int, _ a: Q8View) -> (SIMD8<Float>, Float, Float) {
    let xb = 256 &* b
    var isum = SIMD8<Int32>()
    for half in 0..<2 {
      // Values l = 0..<32 of each quarter; lanes 0..<16 from the first 16 bytes, 16..<32 from the next.
      let ql0 = bytes16(p, 64 * half), ql1 = bytes16(p, 64 * half + 16)
      let qm0 = bytes16(p, 64 * half + 32), qm1 = bytes16(p, 64 * half + 48)
      let qh0 = bytes16(p, 128 + 32 * half), qh1 = bytes16(p, 128 + 32 * half + 16)
      let q1 = join(((ql0 & 15) | ((qh0 & 3) &<< 4)) &- 32, ((ql1 & 15) | ((qh1 & 3) &<< 4)) &- 32)
      let q2 = join(((qm0 & 15) | (((qh0 &>> 2) & 3) &<< 4)) &- 32, ((qm1 & 15) | (((qh1 &>> 2) & 3) &<< 4)) &- 32)
      let q3 = join(((ql0 &>> 4) | (((qh0 &>> 4) & 3) &<< 4)) &- 32, ((ql1 &>> 4) | (((qh1 &>> 4) & 3) &<< 4)) &- 32)
      let q4 = join(((qm0 &>> 4) | (((qh0 &>> 6) & 3) &<< 4)) &- 32, ((qm1 &>> 4) | (((qh1 &>> 6) & 3) &<< 4)) &- 32)
      let sc = p + 192 + 8 * half
      @inline(__always) func scale(_ i: Int) -> Int16 { Int16(Int8(bitPattern: sc.load(fromByteOffset: i, as: UInt8.self))) }
      @inline(__always) func product(_ w: SIMD32<UInt8>, _ i: Int) -> SIMD16<Int16> {
        let ws = signed(w), x = x32(a, xb + 128 * half + 32 * i)
        return multiplyAddPairs(magnitudes(ws), copySigns(x, ws))
      }
      isum &+= multiplyAddPairs(product(q1, 0), scalePair(scale(0), scale(1)))
      isum &+= multiplyAddPairs(product(q2, 1), scalePair(scale(2), scale(3)))
      isum &+= multiplyAddPairs(product(q3, 2), scalePair(scale(4), scale(5)))
      isum &+= multiplyAddPairs(product(q4, 3), scalePair(scale(6), scale(7)))
    }
    return (float8(isum), halfFloat(p, 208) * a.d[b], 0)
  }
}

private enum AVX2Kernels: BlockKernels {
  typealias Q4_0 = Q4_0Bytes
  typealias Q4_1 = Q4_1Bytes
  typealias Q5_0 = Q5_0Bytes
  typealias Q5_1 = Q5_1Bytes
  typealias Q8_0 = Q8_0Bytes
  typealias Q4_K = Q4_KBytes
  typealias Q5_K = Q5_KBytes
  typealias Q6_K = Q6_KBytes
}

/// `int8RowDot` by the AVX2 kernels.
func avx2RowDot(_ type: TensorDType, _ row: UnsafeRawPointer, _ a: Q8Row) -> Float {
  rowDot(AVX2Kernels.self, type, row, a)
}
#endif
