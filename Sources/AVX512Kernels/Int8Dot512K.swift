import Builtin

// MARK: - Integer block dots with AVX-512 VNNI: the K-quants (blocks of 256)
//
// The activation is llama.cpp's Q8_K: 256 int8 values per block, an f32 scale and the integer sums
// of each 16 values (`bsums`). Per block, 64 weight quants (unsigned) fill a register laid out as
// the activation's 64 values, `vpmaddubsw` multiplies them into Int16 pair sums, and `vpdpwssd`
// multiplies those by the sub-block scales (spread to their lanes with `vpermw`) into 16 Int32
// lanes: one conversion and one fused multiply-add per block. The minimums (Q4_K, Q5_K) and Q6_K's
// offset of -32 meet the bsums in float lanes.

extension Int8Lanes {
  /// Q4_K (`five` false: f16 d, f16 dmin, scales[12], qs[128]) and Q5_K (qh[32] before qs): 8
  /// sub-blocks of 32 with 6-bit scales and minimums; chunk c of qs holds sub-block 2c in its low
  /// nibbles and 2c + 1 in its high ones (Q5_K: their fifth bits are bits 2c, 2c + 1 of qh).
  @inline(__always)
  static func kRow(_ row: UnsafeRawPointer, _ nb: Int, _ q: UnsafePointer<Int8>, _ d: UnsafePointer<Float>,
                   _ s: UnsafePointer<Float>, five: Bool) -> Float {
    let bb = five ? 176 : 144, qsAt = five ? 48 : 16
    var acc = Floats(), mins = Floats()
    let nibbleShifts = halves(0, 4)
    let spreadMins = Ints(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15)
    for b in 0..<nb {
      let p = row + b &* bb, x = UnsafeRawPointer(q + 256 &* b)
      prefetchAhead(p, lines: 3, distance: weightPrefetchDistance)
      // The 8 scales and 8 minimums unpacked as llama.cpp's utmp (see Engine's `kQuantScaleMin`).
      @inline(__always) func u32(_ o: Int) -> UInt32 { UInt32(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
      let u0 = u32(4), u1 = u32(8), u2 = u32(12)
      let scales = UInt64(u0 & 0x3f3f_3f3f) | UInt64((u2 & 0x0f0f_0f0f) | ((u0 &>> 6) & 0x0303_0303) &<< 4) &<< 32
      let minimums = UInt64(u1 & 0x3f3f_3f3f) | UInt64(((u2 &>> 4) & 0x0f0f_0f0f) | ((u1 &>> 6) & 0x0303_0303) &<< 4) &<< 32
      let sm = unsignedWords(scales, minimums)  // words 0..<8 the scales, 8..<16 the minimums
      let qh = five ? words(broadcast32(p, 16)) : Words()
      var isum = Ints()
      for c in 0..<4 {
        var u = and(bytes(shiftRight(words(broadcast32(p, qsAt &+ 32 &* c)), nibbleShifts)), 0x0f)
        if five {  // bit 2c (low half) or 2c + 1 (high half) of each qh byte moved to bit 4
          let h = c < 2 ? shiftLeft(qh, halves(UInt16(4 - 2 * c), UInt16(3 - 2 * c)))
                        : shiftRight(qh, halves(UInt16(2 * c - 4), UInt16(2 * c - 3)))
          u = or(u, and(bytes(h), 0x10))
        }
        isum = dotWords(isum, pairSums(u, load64(x, 64 &* c)), pick(sm, halves(UInt16(2 * c), UInt16(2 * c + 1))))
      }
      let dm = halfPair(p, 0), dx = d[b]
      acc.addProduct(floats(isum), Floats(repeating: dm[0] * dx))
      let m = pick(floats(widened(sm)), spreadMins)  // (m_0, m_0, m_1, m_1, ...): one per 16 values
      mins.addProduct(m * UnsafeRawPointer(s + 16 &* b).loadUnaligned(as: Floats.self), Floats(repeating: dm[1] * dx))
    }
    return sum(acc) - sum(mins)
  }

  /// Q6_K: ql[128], qh[64], int8 scales[16], f16 d; two halves of 128 values, each 4 quarters of
  /// 32: quarter k's value l is the low (k = 0, 1) or high (k = 2, 3) nibble of ql[32 (k % 2) + l]
  /// with bits 2k, 2k + 1 of qh[l] above it, minus 32; sub-blocks of 16 values with their scale.
  @inline(__always)
  static func q6KRow(_ row: UnsafeRawPointer, _ nb: Int, _ q: UnsafePointer<Int8>, _ d: UnsafePointer<Float>,
                     _ s: UnsafePointer<Float>) -> Float {
    var acc = Floats()
    let up = halves(4, 2), down = halves(0, 2)  // qh bits (0, 1) and (2, 3), then (4, 5) and (6, 7), to bits 4, 5
    for b in 0..<nb {
      let p = row + b &* 210, x = UnsafeRawPointer(q + 256 &* b)
      prefetchAhead(p, lines: 4, distance: weightPrefetchDistance)
      let sc = p.loadUnaligned(fromByteOffset: 192, as: SIMD16<UInt8>.self)
      let scw = signedWords(sc)
      var isum = Ints()
      for half in 0..<2 {
        let ql = load64(p, 64 * half), qh = words(broadcast32(p, 128 + 32 * half))
        let low = or(and(ql, 0x0f), and(bytes(shiftLeft(qh, up)), 0x30))  // quarters 0, 1
        let high = or(nibbles(ql, high: true), and(bytes(shiftRight(qh, down)), 0x30))  // quarters 2, 3
        @inline(__always) func scales(_ k: UInt16) -> Words {  // sub-blocks k..<k+4, 8 pair sums each
          Words(lowHalf: SIMD16(lowHalf: SIMD8(repeating: k), highHalf: SIMD8(repeating: k + 1)),
                highHalf: SIMD16(lowHalf: SIMD8(repeating: k + 2), highHalf: SIMD8(repeating: k + 3)))
        }
        isum = dotWords(isum, pairSums(low, load64(x, 128 * half)), pick(scw, scales(UInt16(8 * half))))
        isum = dotWords(isum, pairSums(high, load64(x, 128 * half + 64)), pick(scw, scales(UInt16(8 * half + 4))))
      }
      // sum_j sc_j sum (n - 32) q = sum_j sc_j sum n q - 32 sum_j sc_j bsum_j
      var block = floats(isum)
      block.addProduct(floats(signedInts(sc)) * UnsafeRawPointer(s + 16 &* b).loadUnaligned(as: Floats.self),
                       Floats(repeating: -32))
      acc.addProduct(block, Floats(repeating: halfFloat(p, 208) * d[b]))
    }
    return sum(acc)
  }

  /// The f16 value at p + offset as a float, converted in integer registers (exact for every bit
  /// pattern: the magnitude's bits moved into float position and scaled by 2^112, subnormals
  /// included; infinities and NaNs rebuilt). A lone f16 load would compile to `vpinsrw` into a
  /// live vector register, often the block loop's accumulator, and serialize the loop on it.
  @inline(__always)
  static func halfFloat(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
    let h = UInt32(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    let magnitude = Float(bitPattern: (h & 0x7fff) &<< 13) * 0x1p112
    let special = 0x7f80_0000 | ((h & 0x3ff) &<< 13)  // infinity or NaN
    return Float(bitPattern: (h & 0x8000) &<< 16 | ((h & 0x7c00) == 0x7c00 ? special : magnitude.bitPattern))
  }

  /// The 16 bytes of (a, b) widened to words 0..<16 (`vpmovzxbw`), words 16..<32 zero.
  @inline(__always)
  static func unsignedWords(_ a: UInt64, _ b: UInt64) -> Words {
    var w = SIMD16<UInt16>()
    w._storage._value = Builtin.zext_Vec16xInt8_Vec16xInt16(Builtin.bitcast_Vec2xInt64_Vec16xInt8(SIMD2<UInt64>(a, b)._storage._value))
    return Words(lowHalf: w, highHalf: .zero)
  }

  /// 16 signed bytes widened to words 0..<16 (`vpmovsxbw`), words 16..<32 zero.
  @inline(__always)
  static func signedWords(_ v: SIMD16<UInt8>) -> Words {
    var w = SIMD16<UInt16>()
    w._storage._value = Builtin.sext_Vec16xInt8_Vec16xInt16(v._storage._value)
    return Words(lowHalf: w, highHalf: .zero)
  }

  /// 16 signed bytes widened to Int32 lanes (`vpmovsxbd`).
  @inline(__always)
  static func signedInts(_ v: SIMD16<UInt8>) -> Ints {
    var r = Ints()
    r._storage._value = Builtin.sext_Vec16xInt8_Vec16xInt32(v._storage._value)
    return r
  }

  /// Words 0..<16 (unsigned) as Int32 lanes (`vpmovzxwd`).
  @inline(__always)
  static func widened(_ v: Words) -> Ints {
    var r = Ints()
    r._storage._value = Builtin.zext_Vec16xInt16_Vec16xInt32(v.lowHalf._storage._value)
    return r
  }
}

// The entry points take `count` rows `rowBytes` apart (out[i] = row i · x), as the 32-value ones do.
extension AVX512 {
  /// Q4_K with Q8_K activations (q: 256 x blocks values, d: a scale per block, s: the sums of
  /// each 16 values): sum d_w d_x sum_j sc_j sum n q - dmin_w d_x sum_j m_j bsum_j.
  @inline(never)
  public static func dotQ4_K(_ rows: UnsafeRawPointer, rowBytes: Int, count: Int, blocks: Int, q: UnsafePointer<Int8>,
                             d: UnsafePointer<Float>, s: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
    for i in 0..<count { out[i] = Int8Lanes.kRow(rows + i &* rowBytes, blocks, q, d, s, five: false) }
  }

  /// Q5_K with Q8_K activations: as Q4_K with 5-bit n.
  @inline(never)
  public static func dotQ5_K(_ rows: UnsafeRawPointer, rowBytes: Int, count: Int, blocks: Int, q: UnsafePointer<Int8>,
                             d: UnsafePointer<Float>, s: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
    for i in 0..<count { out[i] = Int8Lanes.kRow(rows + i &* rowBytes, blocks, q, d, s, five: true) }
  }

  /// Q6_K with Q8_K activations: sum d_w d_x sum_j sc_j sum (n - 32) q.
  @inline(never)
  public static func dotQ6_K(_ rows: UnsafeRawPointer, rowBytes: Int, count: Int, blocks: Int, q: UnsafePointer<Int8>,
                             d: UnsafePointer<Float>, s: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
    for i in 0..<count { out[i] = Int8Lanes.q6KRow(rows + i &* rowBytes, blocks, q, d, s) }
  }
}
