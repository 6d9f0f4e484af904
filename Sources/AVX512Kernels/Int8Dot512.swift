import Builtin

// MARK: - Integer block dots with AVX-512 VNNI: blocks of 32 values
//
// The sums of Engine's int8 decode kernels (Engine/Weights/Int8Dot.swift: llama.cpp's
// `ggml_vec_dot_<type>_q8_<0|1>`), taken 4 blocks per step in 512-bit registers:
// - the weight quants of two blocks fill one register, laid out as the activation's 64 int8 values
//   lie in memory, and one `vpdpbusd` multiplies them (unsigned x signed bytes, each 4 products
//   summed into one of 16 Int32 lanes: 8 lanes per block);
// - signed weights (Q4_0's n - 8, Q5_0's n - 16, Q8_0) enter as unsigned n (Q8_0: w + 128) and
//   the bias times the activation's sum is taken off with a second `vpdpbusd` of the bias bytes;
// - the 4 blocks' f16 scales (and minimums) are picked out of the two 64-byte windows that hold
//   the 4 blocks (`vpermi2w`), converted in one `vcvtph2ps`, multiplied by the activation's
//   scales, and spread to the lanes of their blocks (`vpermps`): no horizontal sum per block,
//   one fused multiply-add per two blocks into float lanes summed once per row.
// A row whose block count is not a multiple of 4 takes its last step over the last 4 blocks with
// the scales of the blocks already summed set to zero, so every load stays inside the row.

/// Lane helpers of the int8 kernels (Int8Dot512.swift, Int8Dot512K.swift).
enum Int8Lanes {
  typealias Bytes = SIMD64<UInt8>
  typealias Words = SIMD32<UInt16>
  typealias Ints = SIMD16<Int32>
  typealias Floats = SIMD16<Float>

  @inline(__always)
  static func load64(_ p: UnsafeRawPointer, _ offset: Int) -> Bytes {
    p.loadUnaligned(fromByteOffset: offset, as: Bytes.self)
  }

  /// 32 bytes from each of two offsets, one after the other (`vinserti64x4`).
  @inline(__always)
  static func load32x2(_ p: UnsafeRawPointer, _ o0: Int, _ o1: Int) -> Bytes {
    let a = p.loadUnaligned(fromByteOffset: o0, as: SIMD4<UInt64>.self)
    let b = p.loadUnaligned(fromByteOffset: o1, as: SIMD4<UInt64>.self)
    var r = Bytes()
    r._storage._value = Builtin.bitcast_Vec8xInt64_Vec64xInt8(Builtin.shufflevector_Vec4xInt64_Vec8xInt32(
      a._storage._value, b._storage._value, SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)._storage._value))
    return r
  }

  /// The 32 bytes at `offset` twice (`vbroadcasti64x4`).
  @inline(__always)
  static func broadcast32(_ p: UnsafeRawPointer, _ offset: Int) -> Bytes { load32x2(p, offset, offset) }

  @inline(__always)
  static func words(_ v: Bytes) -> Words {
    var r = Words()
    r._storage._value = Builtin.bitcast_Vec64xInt8_Vec32xInt16(v._storage._value)
    return r
  }

  @inline(__always)
  static func bytes(_ v: Words) -> Bytes {
    var r = Bytes()
    r._storage._value = Builtin.bitcast_Vec32xInt16_Vec64xInt8(v._storage._value)
    return r
  }

  /// (a x16, b x16): one value per 256-bit half.
  @inline(__always)
  static func halves(_ a: UInt16, _ b: UInt16) -> Words {
    Words(lowHalf: SIMD16(repeating: a), highHalf: SIMD16(repeating: b))
  }

  @inline(__always)
  static func and(_ a: Bytes, _ c: UInt8) -> Bytes {
    var r = Bytes()
    r._storage._value = Builtin.and_Vec64xInt8(a._storage._value, Bytes(repeating: c)._storage._value)
    return r
  }

  @inline(__always)
  static func or(_ a: Bytes, _ b: Bytes) -> Bytes {
    var r = Bytes()
    r._storage._value = Builtin.or_Vec64xInt8(a._storage._value, b._storage._value)
    return r
  }

  @inline(__always)
  static func xor(_ a: Bytes, _ c: UInt8) -> Bytes {
    var r = Bytes()
    r._storage._value = Builtin.xor_Vec64xInt8(a._storage._value, Bytes(repeating: c)._storage._value)
    return r
  }

  /// a with c or-ed into byte i where bit i of `mask` is set (`vmovdqu8` under a mask register).
  @inline(__always)
  static func or(_ a: Bytes, _ c: UInt8, where mask: UInt64) -> Bytes {
    var r = Bytes()
    r._storage._value = Builtin.select_Vec64xInt1_Vec64xInt8(
      Builtin.bitcast_Int64_Vec64xInt1(mask._value), Builtin.or_Vec64xInt8(a._storage._value, Bytes(repeating: c)._storage._value),
      a._storage._value)
    return r
  }

  /// Each word shifted right by its own count (`vpsrlvw`).
  @inline(__always)
  static func shiftRight(_ v: Words, _ counts: Words) -> Words {
    var r = Words()
    r._storage._value = Builtin.int_x86_avx512_psrlv_w_512(v._storage._value, counts._storage._value)
    return r
  }

  /// Each word shifted left by its own count (`vpsllvw`).
  @inline(__always)
  static func shiftLeft(_ v: Words, _ counts: Words) -> Words {
    var r = Words()
    r._storage._value = Builtin.int_x86_avx512_psllv_w_512(v._storage._value, counts._storage._value)
    return r
  }

  /// Bytes' low (`high` false) or high nibbles, in the bytes' places.
  @inline(__always)
  static func nibbles(_ v: Bytes, high: Bool) -> Bytes {
    and(high ? bytes(shiftRight(words(v), Words(repeating: 4))) : v, 0x0f)
  }

  /// acc + the dot of unsigned bytes u and signed bytes s, 4 products per Int32 lane (`vpdpbusd`).
  @inline(__always)
  static func dotBytes(_ acc: Ints, _ u: Bytes, _ s: Bytes) -> Ints {
    var r = Ints()
    r._storage._value = Builtin.int_x86_avx512_vpdpbusd_512(
      acc._storage._value, Builtin.bitcast_Vec64xInt8_Vec16xInt32(u._storage._value),
      Builtin.bitcast_Vec64xInt8_Vec16xInt32(s._storage._value))
    return r
  }

  /// Unsigned bytes u times signed bytes s, adjacent products summed into Int16 (`vpmaddubsw`;
  /// callers keep the pair sums inside Int16).
  @inline(__always)
  static func pairSums(_ u: Bytes, _ s: Bytes) -> Words {
    var r = Words()
    r._storage._value = Builtin.int_x86_avx512_pmaddubs_w_512(u._storage._value, s._storage._value)
    return r
  }

  /// acc + signed words a times signed words b, adjacent products summed (`vpdpwssd`).
  @inline(__always)
  static func dotWords(_ acc: Ints, _ a: Words, _ b: Words) -> Ints {
    var r = Ints()
    r._storage._value = Builtin.int_x86_avx512_vpdpwssd_512(
      acc._storage._value, Builtin.bitcast_Vec32xInt16_Vec16xInt32(a._storage._value),
      Builtin.bitcast_Vec32xInt16_Vec16xInt32(b._storage._value))
    return r
  }

  /// Word i of a|b (index 0..<32 from a, 32..<64 from b) for each index (`vpermi2w`).
  @inline(__always)
  static func pick(_ a: Words, _ index: Words, _ b: Words) -> Words {
    var r = Words()
    r._storage._value = Builtin.int_x86_avx512_vpermi2var_hi_512(a._storage._value, index._storage._value, b._storage._value)
    return r
  }

  /// Word `index[i]` of v for each i (`vpermw`).
  @inline(__always)
  static func pick(_ v: Words, _ index: Words) -> Words {
    var r = Words()
    r._storage._value = Builtin.int_x86_avx512_permvar_hi_512(v._storage._value, index._storage._value)
    return r
  }

  /// Lane `index[i]` of v for each i (`vpermps`).
  @inline(__always)
  static func pick(_ v: Floats, _ index: Ints) -> Floats {
    var r = Floats()
    r._storage._value = Builtin.int_x86_avx512_permvar_sf_512(v._storage._value, index._storage._value)
    return r
  }

  @inline(__always)
  static func floats(_ v: Ints) -> Floats {
    var r = Floats()
    r._storage._value = Builtin.sitofp_Vec16xInt32_Vec16xFPIEEE32(v._storage._value)
    return r
  }

  /// The low 8 words as f16 values, widened (`vcvtph2ps`).
  @inline(__always)
  static func halfFloats(_ v: Words) -> SIMD8<Float> {
    let low = Builtin.shufflevector_Vec32xInt16_Vec8xInt32(
      v._storage._value, v._storage._value, SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)._storage._value)
    var r = SIMD8<Float>()
    r._storage._value = Builtin.fpext_Vec8xFPIEEE16_Vec8xFPIEEE32(Builtin.bitcast_Vec8xInt16_Vec8xFPIEEE16(low))
    return r
  }

  /// Lanes 0 and 1 (`second` false) or 2 and 3 of v, each 8 times (`vpermps`).
  @inline(__always)
  static func spread(_ v: SIMD8<Float>, second: Bool) -> Floats {
    var r = Floats()
    r._storage._value = second
      ? Builtin.shufflevector_Vec8xFPIEEE32_Vec16xInt32(
          v._storage._value, v._storage._value, Ints(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3)._storage._value)
      : Builtin.shufflevector_Vec8xFPIEEE32_Vec16xInt32(
          v._storage._value, v._storage._value, Ints(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1)._storage._value)
    return r
  }

  /// The two f16 values at p + offset as floats: one 4-byte load into a cleared register, then
  /// `vcvtph2ps` (a lone f16 load would be `vpinsrw` into a live register, a false dependency).
  @inline(__always)
  static func halfPair(_ p: UnsafeRawPointer, _ offset: Int) -> SIMD2<Float> {
    let h = p.loadUnaligned(fromByteOffset: offset, as: SIMD2<Float16>.self)
    var r = SIMD2<Float>()
    r._storage._value = Builtin.fpext_Vec2xFPIEEE16_Vec2xFPIEEE32(h._storage._value)
    return r
  }

  /// v with the lanes whose block (0, 1, 2, 3, 0, 1, 2, 3) is below `skip` set to zero.
  @inline(__always)
  static func dropBlocks(_ v: SIMD8<Float>, below skip: Int32) -> SIMD8<Float> {
    let keep = Builtin.cmp_sge_Vec8xInt32(SIMD8<Int32>(0, 1, 2, 3, 0, 1, 2, 3)._storage._value,
                                          SIMD8<Int32>(repeating: skip)._storage._value)
    var r = SIMD8<Float>()
    r._storage._value = Builtin.select_Vec8xInt1_Vec8xFPIEEE32(keep, v._storage._value, SIMD8<Float>()._storage._value)
    return r
  }

  /// The 16 lanes summed as a tree.
  @inline(__always)
  static func sum(_ v: Floats) -> Float {
    var low = SIMD8<Float>(), high = SIMD8<Float>()
    low._storage._value = Builtin.shufflevector_Vec16xFPIEEE32_Vec8xInt32(
      v._storage._value, v._storage._value, SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)._storage._value)
    high._storage._value = Builtin.shufflevector_Vec16xFPIEEE32_Vec8xInt32(
      v._storage._value, v._storage._value, SIMD8<Int32>(8, 9, 10, 11, 12, 13, 14, 15)._storage._value)
    return sum(low + high)
  }

  @inline(__always)
  static func sum(_ v: SIMD8<Float>) -> Float {
    var low = SIMD4<Float>(), high = SIMD4<Float>()
    low._storage._value = Builtin.shufflevector_Vec8xFPIEEE32_Vec4xInt32(
      v._storage._value, v._storage._value, SIMD4<Int32>(0, 1, 2, 3)._storage._value)
    high._storage._value = Builtin.shufflevector_Vec8xFPIEEE32_Vec4xInt32(
      v._storage._value, v._storage._value, SIMD4<Int32>(4, 5, 6, 7)._storage._value)
    let a = low + high
    var a0 = SIMD2<Float>(), a1 = SIMD2<Float>()
    a0._storage._value = Builtin.shufflevector_Vec4xFPIEEE32_Vec2xInt32(
      a._storage._value, a._storage._value, SIMD2<Int32>(0, 1)._storage._value)
    a1._storage._value = Builtin.shufflevector_Vec4xFPIEEE32_Vec2xInt32(
      a._storage._value, a._storage._value, SIMD2<Int32>(2, 3)._storage._value)
    let c = a0 + a1
    return c[0] + c[1]
  }
}

extension Int8Lanes {
  /// Where 4 consecutive blocks of a 32-value type keep their parts, as word indices into two
  /// 64-byte windows read at the first block and `second` bytes after it (0..<32 the first
  /// window's words, 32..<64 the second's).
  struct Quad {
    let blockBytes: Int, second: Int
    /// Words 0..<4: the blocks' f16 scales d; 4..<8: their minimums m (Q4_1, Q5_1).
    let scales: Words
    /// The quants of blocks 0, 1 and of blocks 2, 3, each block's 8 words twice: one 128-bit
    /// lane for its low nibbles (values 0..<16), one for its high nibbles (16..<32).
    let pairs: (Words, Words)

    @inline(__always)
    init(blockBytes: Int, second: Int, scales: Words, pairs: (Words, Words)) {
      self.blockBytes = blockBytes
      self.second = second
      self.scales = scales
      self.pairs = pairs
    }

    /// d at byte 0 of a block, m (if `minimum`) at 2, the 16 quant bytes at `quants`.
    @inline(__always)
    init(blockBytes bb: Int, second: Int, minimum: Bool, quants: Int) {
      @inline(__always) func word(_ j: Int, _ offset: Int, _ length: Int) -> UInt16 {
        let o = j * bb + offset
        return UInt16(o + length <= 64 ? o / 2 : 32 + (o - second) / 2)
      }
      blockBytes = bb
      self.second = second
      let m = minimum ? 2 : 0
      scales = Words(lowHalf: SIMD16(word(0, 0, 2), word(1, 0, 2), word(2, 0, 2), word(3, 0, 2),
                                     word(0, m, 2), word(1, m, 2), word(2, m, 2), word(3, m, 2), 0, 0, 0, 0, 0, 0, 0, 0),
                     highHalf: .zero)
      let lanes = SIMD16<UInt16>(0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7)
      @inline(__always) func pair(_ j: Int) -> Words {
        Words(lowHalf: lanes, highHalf: lanes) &+ halves(word(j, quants, 16), word(j + 1, quants, 16))
      }
      pairs = (pair(0), pair(2))
    }
  }

  /// Q8_0's 4 blocks (136 bytes) in three windows, at 0, 64 and 72: the scales from the first two,
  /// blocks 0 and 1 (bytes 2..<34, 36..<68) from the first two, blocks 2 and 3 (70..<102,
  /// 104..<136) from the last two.
  @inline(__always)
  static func q8_0Quad() -> Quad {
    let iota = SIMD16<UInt16>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
    return Quad(blockBytes: 34, second: 64, scales: Words(lowHalf: SIMD16(0, 17, 34, 51, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), highHalf: .zero),
                pairs: (Words(lowHalf: iota &+ 1, highHalf: iota &+ 18), Words(lowHalf: iota &+ 3, highHalf: iota &+ 48)))
  }

  enum Quants { case nibbles, fiveBits(at: Int), bytes }

  /// A row of `nb` (>= 4) blocks of a 32-value type dotted with int8 activations q (scales d,
  /// sums s): the sum over blocks of d_w d_x (sum (n - bias) q) (+ m_w s_x when `minimum`), as 16
  /// lanes whose sum it is.
  @inline(__always)
  static func quadRow(_ row: UnsafeRawPointer, _ nb: Int, _ q: UnsafePointer<Int8>, _ d: UnsafePointer<Float>,
                      _ s: UnsafePointer<Float>, _ l: Quad, _ quants: Quants, bias: UInt8, minimum: Bool) -> Floats {
    precondition(nb >= 4, "the AVX-512 kernels of 32-value blocks take at least 4 blocks")
    var acc0 = Floats(), acc1 = Floats()
    let bb = l.blockBytes
    let nibbleShifts = Words(lowHalf: SIMD16(lowHalf: SIMD8(repeating: 0), highHalf: SIMD8(repeating: 4)),
                             highHalf: SIMD16(lowHalf: SIMD8(repeating: 0), highHalf: SIMD8(repeating: 4)))
    let biasBytes = Bytes(repeating: bias)

    /// Blocks b..<b+4; the scales of the first `skip` set to zero.
    @inline(__always) func step(_ b: Int, skip: Int32) {
      // (d_x of the 4 blocks, s_x of the 4 blocks)
      let xd = SIMD8<Float>(lowHalf: UnsafeRawPointer(d + b).loadUnaligned(as: SIMD4<Float>.self),
                            highHalf: minimum ? UnsafeRawPointer(s + b).loadUnaligned(as: SIMD4<Float>.self) : .zero)
      let x = (load64(UnsafeRawPointer(q + 32 &* b), 0), load64(UnsafeRawPointer(q + 32 &* b), 64))
      let biasSums = bias != 0 ? (dotBytes(Ints(), biasBytes, x.0), dotBytes(Ints(), biasBytes, x.1)) : (Ints(), Ints())
      let p = row + b &* bb
      prefetchAhead(p, lines: (4 &* bb &+ 63) / 64, distance: weightPrefetchDistance)
      let z0 = words(load64(p, 0)), z1 = words(load64(p, l.second))
      // (d_w d_x of the 4 blocks, m_w s_x of the 4 blocks)
      var sc = halfFloats(pick(z0, l.scales, z1)) * xd
      if skip > 0 { sc = dropBlocks(sc, below: skip) }
      if minimum {  // m_w s_x of the 4 blocks into the first accumulator's lanes 0..<4
        var m = Floats()
        m._storage._value = Builtin.shufflevector_Vec8xFPIEEE32_Vec16xInt32(
          sc._storage._value, SIMD8<Float>()._storage._value, Ints(4, 5, 6, 7, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8)._storage._value)
        acc0 += m
      }
      /// Blocks 2k and 2k + 1 of the 4.
      @inline(__always) func pair(_ k: Int, _ acc: inout Floats) {
        var u: Bytes
        switch quants {
        case .bytes:  // Q8_0 (136 bytes; a third window at 72): w + 128
          u = xor(bytes(k == 0 ? pick(z0, l.pairs.0, z1) : pick(z1, l.pairs.1, words(load64(p, 72)))), 0x80)
        case .nibbles, .fiveBits:
          u = and(bytes(shiftRight(pick(z0, k == 0 ? l.pairs.0 : l.pairs.1, z1), nibbleShifts)), 0x0f)
        }
        if case .fiveBits(let h) = quants {  // bit i of qh: value i's fifth bit
          @inline(__always) func qh(_ j: Int) -> UInt64 {
            UInt64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: j &* bb &+ h, as: UInt32.self)))
          }
          u = or(u, 0x10, where: qh(2 * k) | qh(2 * k + 1) &<< 32)
        }
        var i = dotBytes(Ints(), u, k == 0 ? x.0 : x.1)
        if bias != 0 { i &-= k == 0 ? biasSums.0 : biasSums.1 }
        acc.addProduct(floats(i), spread(sc, second: k == 1))
      }
      if skip < 2 { pair(0, &acc0) }  // the last step over blocks already summed skips their pair
      pair(1, &acc1)
    }

    var b = 0
    while b &+ 4 <= nb {
      step(b, skip: 0)
      b &+= 4
    }
    if b < nb { step(nb &- 4, skip: Int32(b &- (nb &- 4))) }
    return acc0 + acc1
  }

  /// out[i] = the dot of row i (`rowBytes` apart) for i in 0..<count, one row after the other, the
  /// rows asked for `weightPrefetchDistance` ahead (two rows interleaved, sharing the activation's
  /// loads, were faster in cache but streamed Q8_0 rows from memory at a fifth of the read
  /// bandwidth, before the prefetch). The lane sums of 16 rows come out of one reduction tree
  /// (`HalfLanes.reduce16`): a row's own horizontal sum cost a sixth of a 576-wide Q4_1 row's time.
  @inline(__always)
  static func quadRows(_ rows: UnsafeRawPointer, rowBytes: Int, count: Int, blocks: Int, _ q: UnsafePointer<Int8>,
                       _ d: UnsafePointer<Float>, _ s: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                       _ l: Quad, _ quants: Quants, bias: UInt8, minimum: Bool) {
    @inline(__always) func row(_ i: Int) -> Floats {
      quadRow(rows + i &* rowBytes, blocks, q, d, s, l, quants, bias: bias, minimum: minimum)
    }
    let index = HalfLanes.pairIndex
    var i = 0
    withUnsafeTemporaryAllocation(of: Floats.self, capacity: 16) { buffer in
      guard let t = buffer.baseAddress else { return }
      while i &+ 16 <= count {
        for r in 0..<16 { t[r] = row(i &+ r) }
        let sums = HalfLanes.reduce16(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7],
                                      t[8], t[9], t[10], t[11], t[12], t[13], t[14], t[15], index)
        UnsafeMutableRawPointer(out + i).storeBytes(of: sums, as: Floats.self)
        i &+= 16
      }
    }
    while i < count {
      out[i] = sum(row(i))
      i &+= 1
    }
  }
}

// MARK: - Entry points: weight rows · one int8 activation row
//
// out[i] = row i · x for the `count` rows at `rows`, `rowBytes` apart, each `blocks` blocks of the
// type; q (32 x blocks int8 values), d (blocks scales) and, for the types with a minimum, s
// (blocks sums d x sum(q), f16-rounded) are the activation row's buffers (Engine's `Q8Row`).
// These take at least 4 blocks (Engine uses its AVX2 kernels below that).

extension AVX512 {
  /// Q4_0 (f16 d, 16 bytes of nibbles): sum d_w d_x sum (n - 8) q.
  @inline(never)
  public static func dotQ4_0(_ rows: UnsafeRawPointer, rowBytes: Int, count: Int, blocks: Int, q: UnsafePointer<Int8>,
                             d: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
    Int8Lanes.quadRows(rows, rowBytes: rowBytes, count: count, blocks: blocks, q, d, d, out,
                       Int8Lanes.Quad(blockBytes: 18, second: 8, minimum: false, quants: 2), .nibbles, bias: 8, minimum: false)
  }

  /// Q4_1 (f16 d, f16 m, 16 bytes of nibbles): sum d_w d_x sum n q + m_w s_x.
  @inline(never)
  public static func dotQ4_1(_ rows: UnsafeRawPointer, rowBytes: Int, count: Int, blocks: Int, q: UnsafePointer<Int8>,
                             d: UnsafePointer<Float>, s: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
    Int8Lanes.quadRows(rows, rowBytes: rowBytes, count: count, blocks: blocks, q, d, s, out,
                       Int8Lanes.Quad(blockBytes: 20, second: 16, minimum: true, quants: 4), .nibbles, bias: 0, minimum: true)
  }

  /// Q5_0 (f16 d, u32 qh, 16 bytes of nibbles): sum d_w d_x sum (n - 16) q, n = nibble + 16 x bit.
  @inline(never)
  public static func dotQ5_0(_ rows: UnsafeRawPointer, rowBytes: Int, count: Int, blocks: Int, q: UnsafePointer<Int8>,
                             d: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
    Int8Lanes.quadRows(rows, rowBytes: rowBytes, count: count, blocks: blocks, q, d, d, out,
                       Int8Lanes.Quad(blockBytes: 22, second: 24, minimum: false, quants: 6), .fiveBits(at: 2), bias: 16, minimum: false)
  }

  /// Q5_1 (f16 d, f16 m, u32 qh, 16 bytes of nibbles): sum d_w d_x sum n q + m_w s_x.
  @inline(never)
  public static func dotQ5_1(_ rows: UnsafeRawPointer, rowBytes: Int, count: Int, blocks: Int, q: UnsafePointer<Int8>,
                             d: UnsafePointer<Float>, s: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
    Int8Lanes.quadRows(rows, rowBytes: rowBytes, count: count, blocks: blocks, q, d, s, out,
                       Int8Lanes.Quad(blockBytes: 24, second: 32, minimum: true, quants: 8), .fiveBits(at: 4), bias: 0, minimum: true)
  }

  /// Q8_0 (f16 d, 32 int8 quants): sum d_w d_x sum w q.
  @inline(never)
  public static func dotQ8_0(_ rows: UnsafeRawPointer, rowBytes: Int, count: Int, blocks: Int, q: UnsafePointer<Int8>,
                             d: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
    Int8Lanes.quadRows(rows, rowBytes: rowBytes, count: count, blocks: blocks, q, d, d, out,
                       Int8Lanes.q8_0Quad(), .bytes, bias: 128, minimum: false)
  }
}
