#if arch(x86_64)
import Builtin

// MARK: - C = A B^T with both operands rounded to int8 blocks: `vpdpbusd` products
//
// The batched product llama.cpp takes for quantized weights (prefill): every 32 values of a row of
// A and of B become int8 quants and one float scale (amax / 127, the Q8_0 rounding), and a block's
// dot is the integer sum of quant products times the two scales. `vpdpbusd` multiplies unsigned by
// signed bytes, 64 products into 16 Int32 lanes per instruction, so A's quants are stored offset by
// 128 (unsigned) and each block's integer sum starts from -128 x (the sum of B's quants in it),
// which removes the offset exactly.
//
// Layout (A copied once per product, and shared by the threads that split its columns; B once per
// block of columns, as in GEMM512.swift): A in slivers of 6 rows, B in panels of 32
// columns; per block of 32 values, 8 groups of 4 consecutive values: a group of a sliver is 6
// dwords (one per row, broadcast), a group of a panel 32 dwords (two 512-bit vectors). The register
// tile is 6 rows by 32 columns: 12 Int32 accumulators per block and 12 float accumulators, a block
// being 8 x 12 `vpdpbusd` and, per row, two conversions and two fused multiply-adds by the scales.

private typealias V = SIMD16<Float>
private typealias I = SIMD16<Int32>

private let mr = 6, nr = 32
private let kc = 256   // k per block (a multiple of 32): a B panel's quants (8 KB) and scales in L1
private let mc = 96    // A rows per pass over a B block (a multiple of mr)
private let nc = 512   // B columns per block

extension AVX512 {
  /// Rows of A per sliver of the int8 layout: `packInt8A` takes row ranges starting at multiples of it.
  public static let int8SliverRows = mr

  /// Bytes (64-byte aligned) that hold A (m, k) rounded to int8 blocks in the kernel's layout:
  /// per block of kc values of k, the quants of every sliver, then their scales.
  public static func int8PackedBytes(m: Int, k: Int) -> Int {
    let aRows = (m + mr - 1) / mr * mr
    return aRows * k + 4 * aRows * (k / 32)
  }

  /// Rows `rows` of A (m, k) (stride lda; k a multiple of 32) rounded to int8 blocks of 32 into
  /// `packed` (`int8PackedBytes(m:k:)` of them). Row ranges start at multiples of
  /// `int8SliverRows`, so that threads may each pack their own; the last range ends at m.
  @inline(never)
  public static func packInt8A(_ a: UnsafePointer<Float>, lda: Int, m: Int, k: Int, rows: Range<Int>,
                               into packed: UnsafeMutableRawPointer) {
    let aRows = (m + mr - 1) / mr * mr
    var p0 = 0
    while p0 < k {
      let depth = min(kc, k - p0), (quants, scales) = int8Block(packed, aRows: aRows, k: k, p0: p0)
      packA(a + rows.lowerBound * lda + p0, lda: lda, rows: rows.count, blocks: depth / 32,
            quants: quants + rows.lowerBound * depth, scales: scales + rows.lowerBound * (depth / 32))
      p0 += depth
    }
  }

  /// C (m, n) = A B^T + (accumulate ? C : 0) for A packed by `packInt8A` and B stored (n, k)
  /// (stride ldb), rounded to int8 blocks of 32 as it is read, as llama.cpp rounds activations
  /// to Q8_0. Non-finite values in a block make its scale so, and they reach the output as NaN.
  /// Single-threaded: callers split n, sharing one packed A.
  @inline(never)
  public static func gemmInt8(packedA: UnsafeRawPointer, m: Int, n: Int, k: Int, b: UnsafePointer<Float>, ldb: Int,
                              accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int) {
    int8Product(packedA, m: m, n: n, k: k, accumulate: accumulate, c: c, ldc: ldc) { j, block in
      quantize(b + j * ldb + 32 * block)
    }
  }

  /// GGML block types whose values are a scale times small integers, so that the int8 product
  /// takes their blocks as stored (no float copy, no second rounding): Q8_0 (f16 d, 32 int8),
  /// Q4_0 (f16 d, 16 bytes of nibbles n: n - 8) and Q5_0 (f16 d, u32 of fifth bits, 16 bytes of
  /// nibbles: n - 16).
  public enum Int8Blocks: Sendable { case q8_0, q4_0, q5_0 }

  /// `gemmInt8` with B given as rows of `type` blocks, `rowBytes` apart.
  @inline(never)
  public static func gemmInt8(packedA: UnsafeRawPointer, m: Int, n: Int, k: Int, blocks b: UnsafeRawPointer, type: Int8Blocks,
                              rowBytes: Int, accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int) {
    switch type {
    case .q8_0:
      int8Product(packedA, m: m, n: n, k: k, accumulate: accumulate, c: c, ldc: ldc) { j, block in
        let p = b + j * rowBytes + 34 * block
        return storedBlock(p, p.loadUnaligned(fromByteOffset: 2, as: SIMD32<Int8>.self))
      }
    case .q4_0:
      int8Product(packedA, m: m, n: n, k: k, accumulate: accumulate, c: c, ldc: ldc) { j, block in
        let p = b + j * rowBytes + 18 * block
        let qs = p.loadUnaligned(fromByteOffset: 2, as: SIMD16<UInt8>.self)
        return storedBlock(p, signedBytes(SIMD32(lowHalf: (qs & 15) &- 8, highHalf: (qs &>> 4) &- 8)))
      }
    case .q5_0:
      int8Product(packedA, m: m, n: n, k: k, accumulate: accumulate, c: c, ldc: ldc) { j, block in
        let p = b + j * rowBytes + 22 * block
        let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
        let qs = p.loadUnaligned(fromByteOffset: 6, as: SIMD16<UInt8>.self)
        // Element j's fifth bit is bit j of qh: the word as a mask of 32 lanes, each all ones where
        // its bit is set (`kmovd`, `vpmovm2b`), and'ed with 16.
        // (Byte arithmetic on 16-lane halves or through the builtins: Swift's SIMD32<UInt8>
        // operators go lane by lane.)
        let set = Builtin.sext_Vec32xInt1_Vec32xInt8(Builtin.bitcast_Int32_Vec32xInt1(qh._value))
        let nibbles = SIMD32(lowHalf: qs & 15, highHalf: qs &>> 4)
        let sixteen = SIMD32<UInt8>(repeating: 16)._storage._value
        var values = SIMD32<Int8>()
        values._storage._value = Builtin.sub_Vec32xInt8(
          Builtin.or_Vec32xInt8(nibbles._storage._value, Builtin.and_Vec32xInt8(set, sixteen)), sixteen)
        return storedBlock(p, values)
      }
    }
  }
}

/// The body of both `gemmInt8`s: B's block `block` of row j read by `source` (quants as 8
/// dwords, scale, quant sum), everything else as the file's header describes.
@inline(__always)
private func int8Product(_ packedA: UnsafeRawPointer, m: Int, n: Int, k: Int, accumulate: Bool,
                         c: UnsafeMutablePointer<Float>, ldc: Int,
                         source: (Int, Int) -> (SIMD8<UInt32>, Float, Int32)) {
  guard m > 0, n > 0, k > 0 else { return }
  let aRows = (m + mr - 1) / mr * mr, bCols = (min(n, nc) + nr - 1) / nr * nr
  // B's quants (bytes), then its scales (floats) and offsets (Int32).
  let bq = bCols * kc, bScales = bCols * kc / 32
  let raw = UnsafeMutableRawPointer.allocate(byteCount: bq + 8 * bScales, alignment: 64)
  defer { raw.deallocate() }
  let bQuants = raw.bindMemory(to: UInt8.self, capacity: bq)
  let bScale = (raw + bq).bindMemory(to: Float.self, capacity: bScales)
  let bOffset = (raw + bq + 4 * bScales).bindMemory(to: Int32.self, capacity: bScales)
  let area = UnsafeMutableRawPointer(mutating: packedA)
  blockedLoops(m: m, n: n, k: k, blocking: Blocking(mr: mr, nr: nr, kc: kc, mc: mc, nc: nc)) { _, _ in
  } packB: { p0, depth, j0, cols in
    packB(cols: cols, blocks: depth / 32, quants: bQuants, scales: bScale, offsets: bOffset) { j, block in
      source(j0 + j, p0 / 32 + block)
    }
  } tile: { p0, depth, i, j0, jr, rows, cols in
    let blocks = depth / 32, sliver = i / mr, panel = jr / nr
    let (aQuants, aScale) = int8Block(area, aRows: aRows, k: k, p0: p0)
    micro(blocks, aQuants + sliver * mr * depth, aScale + sliver * mr * blocks,
          bQuants + panel * nr * depth, bScale + panel * nr * blocks, bOffset + panel * nr * blocks,
          c + i * ldc + j0 + jr, ldc: ldc, rows: rows, cols: cols, add: accumulate || p0 > 0)
  }
}

/// The sum of 16 lanes, by halves (the stdlib's `wrappedSum()` goes lane by lane).
@inline(__always)
private func total(_ v: SIMD16<Int32>) -> Int32 {
  let h8 = v.lowHalf &+ v.highHalf, h4 = h8.lowHalf &+ h8.highHalf
  return (h4[0] &+ h4[1]) &+ (h4[2] &+ h4[3])
}

/// The same 32 bytes read as signed.
@inline(__always)
private func signedBytes(_ v: SIMD32<UInt8>) -> SIMD32<Int8> {
  var r = SIMD32<Int8>()
  r._storage._value = v._storage._value
  return r
}

/// A stored block as the product takes it: its quants (as 8 dwords), the f16 scale at p, and the
/// quants' sum.
@inline(__always)
private func storedBlock(_ p: UnsafeRawPointer, _ quants: SIMD32<Int8>) -> (SIMD8<UInt32>, Float, Int32) {
  let scale = Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(as: UInt16.self))))
  // The sum by `vpsadbw`: the quants + 128 as unsigned bytes, summed in 4 groups of 8.
  let biased = Builtin.xor_Vec32xInt8(quants._storage._value, SIMD32<UInt8>(repeating: 0x80)._storage._value)
  var groups = SIMD4<UInt64>()
  groups._storage._value = Builtin.int_x86_avx2_psad_bw(biased, SIMD32<UInt8>()._storage._value)
  let sum = Int32(truncatingIfNeeded: (groups[0] &+ groups[1]) &+ (groups[2] &+ groups[3])) &- 32 * 128
  return (unsafeBitCast(quants, to: SIMD8<UInt32>.self), scale, sum)
}

/// The quants and scales of packed A's block of k starting at p0 (all slivers of it).
@inline(__always)
private func int8Block(_ packed: UnsafeMutableRawPointer, aRows: Int, k: Int, p0: Int)
  -> (UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<Float>) {
  let quants = (packed + aRows * p0).assumingMemoryBound(to: UInt8.self)
  let scales = (packed + aRows * k + 4 * aRows * (p0 / 32)).assumingMemoryBound(to: Float.self)
  return (quants, scales)
}

/// 32 values rounded to int8: the quants (as 8 dwords of 4 consecutive bytes), their scale
/// amax / 127 (not finite where a value is not) and their sum.
@inline(__always)
private func quantize(_ x: UnsafePointer<Float>) -> (SIMD8<UInt32>, Float, Int32) {
  let lo = UnsafeRawPointer(x).loadUnaligned(as: V.self), hi = UnsafeRawPointer(x + 16).loadUnaligned(as: V.self)
  // |x| as bit patterns: ordered as the magnitudes are, NaN above infinity; the maximum taken by
  // halves with compares and blends (the stdlib's `pointwiseMax` and `max()` go lane by lane).
  let magnitude = SIMD16<UInt32>(repeating: 0x7fff_ffff)
  let l = unsafeBitCast(lo, to: SIMD16<UInt32>.self) & magnitude, h = unsafeBitCast(hi, to: SIMD16<UInt32>.self) & magnitude
  let m16 = l.replacing(with: h, where: h .> l)
  let m8 = m16.lowHalf.replacing(with: m16.highHalf, where: m16.highHalf .> m16.lowHalf)
  let m4 = m8.lowHalf.replacing(with: m8.highHalf, where: m8.highHalf .> m8.lowHalf)
  let amax = Float(bitPattern: Swift.max(Swift.max(m4[0], m4[1]), Swift.max(m4[2], m4[3])))
  let scale = amax / 127  // NaN or infinite where a value is: the block's products are NaN
  let inverse: Float = amax > 0 && amax.isFinite ? 127 / amax : 0
  let q0 = whole(lo * inverse), q1 = whole(hi * inverse)
  var bytes = SIMD32<Int8>()
  bytes._storage._value = Builtin.trunc_Vec32xInt32_Vec32xInt8(SIMD32<Int32>(lowHalf: q0, highHalf: q1)._storage._value)
  return (unsafeBitCast(bytes, to: SIMD8<UInt32>.self), scale, total(q0 &+ q1))
}

/// Lanes of magnitude at most 127 (NaN as 0) rounded to the nearest whole number, ties to even:
/// adding and taking away 1.5 x 2^23 leaves no fraction bits, then `vcvttps2dq`.
@inline(__always)
private func whole(_ v: V) -> I {
  let magic = V(repeating: 0x1.8p23)
  let rounded = ((v + magic) - magic).replacing(with: 0, where: v .!= v)
  var r = I()
  r._storage._value = Builtin.fptosi_Vec16xFPIEEE32_Vec16xInt32(rounded._storage._value)
  return r
}

/// A's `rows` rows, `blocks` blocks each, as slivers of 6: quants (offset by 128) at
/// quants[s * 6 * 32 * blocks + b * 192 + g * 24 + i * 4], scales at scales[s * 6 * blocks + b * 6 + i];
/// rows past `rows` are zeros.
@inline(__always)
private func packA(_ a: UnsafePointer<Float>, lda: Int, rows: Int, blocks: Int,
                   quants: UnsafeMutablePointer<UInt8>, scales: UnsafeMutablePointer<Float>) {
  let offset = SIMD8<UInt32>(repeating: 0x8080_8080)
  var i0 = 0
  while i0 < rows {
    let sq = UnsafeMutableRawPointer(quants + i0 * 32 * blocks), ss = scales + i0 * blocks
    for i in 0..<mr {
      for b in 0..<blocks {
        var (q, d, _) = (SIMD8<UInt32>(), Float(0), Int32(0))
        if i0 + i < rows { (q, d, _) = quantize(a + (i0 + i) * lda + 32 * b) }
        q ^= offset
        for g in 0..<8 { sq.storeBytes(of: q[g], toByteOffset: b * 192 + g * 24 + i * 4, as: UInt32.self) }
        ss[b * mr + i] = d
      }
    }
    i0 += mr
  }
}

/// B's `cols` rows, `blocks` blocks each (block b of row j from `source(j, b)`), as panels of 32:
/// quants at quants[p * 32 * 32 * blocks + b * 1024 + g * 128 + j * 4], scales and -128 x the
/// block's quant sum at [p * 32 * blocks + b * 32 + j]; columns past `cols` are zeros.
@inline(__always)
private func packB(cols: Int, blocks: Int, quants: UnsafeMutablePointer<UInt8>, scales: UnsafeMutablePointer<Float>,
                   offsets: UnsafeMutablePointer<Int32>, source: (Int, Int) -> (SIMD8<UInt32>, Float, Int32)) {
  var j0 = 0
  while j0 < cols {
    let pq = UnsafeMutableRawPointer(quants + j0 * 32 * blocks), ps = scales + j0 * blocks, po = offsets + j0 * blocks
    for j in 0..<nr {
      for b in 0..<blocks {
        var (q, d, sum) = (SIMD8<UInt32>(), Float(0), Int32(0))
        if j0 + j < cols { (q, d, sum) = source(j0 + j, b) }
        for g in 0..<8 { pq.storeBytes(of: q[g], toByteOffset: b * 1024 + g * 128 + j * 4, as: UInt32.self) }
        ps[b * nr + j] = d
        po[b * nr + j] = -128 &* sum
      }
    }
    j0 += nr
  }
}

@inline(__always)
private func dot(_ acc: I, _ unsigned: I, _ signed: I) -> I {
  var r = I()
  r._storage._value = Builtin.int_x86_avx512_vpdpbusd_512(acc._storage._value, unsigned._storage._value, signed._storage._value)
  return r
}

/// C[0..<rows, 0..<cols] (stride ldc) = (add ? C : 0) + the sliver's rows times the panel's
/// columns over `blocks` blocks.
@inline(__always)
private func micro(_ blocks: Int, _ aq: UnsafePointer<UInt8>, _ ascale: UnsafePointer<Float>,
                   _ bq: UnsafePointer<UInt8>, _ bscale: UnsafePointer<Float>, _ boffset: UnsafePointer<Int32>,
                   _ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, add: Bool) {
  var f0 = V(), h0 = V(), f1 = V(), h1 = V(), f2 = V(), h2 = V()
  var f3 = V(), h3 = V(), f4 = V(), h4 = V(), f5 = V(), h5 = V()
  for b in 0..<blocks {
    let pa = UnsafeRawPointer(aq + b * 192), pb = UnsafeRawPointer(bq + b * 1024)
    let o0 = UnsafeRawPointer(boffset + b * 32).load(as: I.self), o1 = UnsafeRawPointer(boffset + b * 32 + 16).load(as: I.self)
    var s0 = o0, t0 = o1, s1 = o0, t1 = o1, s2 = o0, t2 = o1, s3 = o0, t3 = o1, s4 = o0, t4 = o1, s5 = o0, t5 = o1
    for g in 0..<8 {
      let w0 = pb.load(fromByteOffset: g * 128, as: I.self), w1 = pb.load(fromByteOffset: g * 128 + 64, as: I.self)
      @inline(__always) func x(_ i: Int) -> I { I(repeating: pa.load(fromByteOffset: g * 24 + i * 4, as: Int32.self)) }
      var v = x(0); s0 = dot(s0, v, w0); t0 = dot(t0, v, w1)
      v = x(1); s1 = dot(s1, v, w0); t1 = dot(t1, v, w1)
      v = x(2); s2 = dot(s2, v, w0); t2 = dot(t2, v, w1)
      v = x(3); s3 = dot(s3, v, w0); t3 = dot(t3, v, w1)
      v = x(4); s4 = dot(s4, v, w0); t4 = dot(t4, v, w1)
      v = x(5); s5 = dot(s5, v, w0); t5 = dot(t5, v, w1)
    }
    let d0 = UnsafeRawPointer(bscale + b * 32).load(as: V.self), d1 = UnsafeRawPointer(bscale + b * 32 + 16).load(as: V.self)
    let da = ascale + b * mr
    f0.addProduct(Int8Lanes.floats(s0), d0 * da[0]); h0.addProduct(Int8Lanes.floats(t0), d1 * da[0])
    f1.addProduct(Int8Lanes.floats(s1), d0 * da[1]); h1.addProduct(Int8Lanes.floats(t1), d1 * da[1])
    f2.addProduct(Int8Lanes.floats(s2), d0 * da[2]); h2.addProduct(Int8Lanes.floats(t2), d1 * da[2])
    f3.addProduct(Int8Lanes.floats(s3), d0 * da[3]); h3.addProduct(Int8Lanes.floats(t3), d1 * da[3])
    f4.addProduct(Int8Lanes.floats(s4), d0 * da[4]); h4.addProduct(Int8Lanes.floats(t4), d1 * da[4])
    f5.addProduct(Int8Lanes.floats(s5), d0 * da[5]); h5.addProduct(Int8Lanes.floats(t5), d1 * da[5])
  }
  @inline(__always) func store(_ r: Int, _ lo: V, _ hi: V) {
    if r < rows { storeRow(c + r * ldc, lo, hi, cols: cols, add: add) }
  }
  store(0, f0, h0); store(1, f1, h1); store(2, f2, h2)
  store(3, f3, h3); store(4, f4, h4); store(5, f5, h5)
}
#endif
