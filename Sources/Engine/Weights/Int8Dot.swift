// Integer dot products of one quantized weight row with an activation row rounded to int8
// (`Q8Row`), the sums llama.cpp's `ggml_vec_dot_<type>_q8_<0|1|K>` take: per block the integer sum
// of weight quant x activation quant, times the weight's scale and the activation's scale (plus,
// for types with a minimum, the minimum times the activation block's sum).
//
// Three sets of kernels give the same sums. On a CPU with AVX-512 VNNI, those of module
// AVX512Kernels (Int8DotAVX512.swift). On other x86-64 CPUs the AVX2 ones (Int8DotAVX2.swift)
// multiply bytes by bytes as llama.cpp does (`vpmaddubsw`, then `vpmaddwd`). The portable ones
// here, used on other CPUs (and compared with the others in the tests), widen the activation's values
// to Int16, widen a block's weight quants once (vpmovzxbw), multiply lane by lane in Int16
// (no product or pair sum of two products leaves Int16's range: at most 2 x 31 x 127 or
// 2 x 128 x 127) and fold to 8 Int32 lanes. All convert and scale in 8 float lanes that are
// summed once per row: no horizontal sum per block.

private typealias I16 = SIMD16<Int16>

@inline(__always)
private func bytes(_ p: UnsafeRawPointer, _ offset: Int) -> SIMD16<UInt8> {
  p.loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt8>.self)
}

@inline(__always)
private func xs(_ x: UnsafePointer<Int8>, _ i: Int) -> I16 {
  widenSigned(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<UInt8>.self))
}

@inline(__always)
func halfAt(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
  Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
}

// Lane conversions as plain loops: LLVM vectorizes them (vpmovzxbw, vpmovsxwd, vcvtdq2ps).
@inline(__always)
private func widen(_ v: SIMD16<UInt8>) -> I16 {
  var r = I16()
  for i in 0..<16 { r[i] = Int16(v[i]) }
  return r
}

@inline(__always)
private func widenSigned(_ v: SIMD16<UInt8>) -> I16 {
  var r = I16()
  for i in 0..<16 { r[i] = Int16(Int8(bitPattern: v[i])) }
  return r
}

/// 16 Int16 lanes summed pairwise (i, i + 8) into 8 Int32 lanes.
@inline(__always)
private func fold(_ s: I16) -> SIMD8<Int32> {
  var r = SIMD8<Int32>()
  for i in 0..<8 { r[i] = Int32(s[i]) &+ Int32(s[i + 8]) }
  return r
}

@inline(__always)
func float8(_ v: SIMD8<Int32>) -> SIMD8<Float> {
  var r = SIMD8<Float>()
  for i in 0..<8 { r[i] = Float(v[i]) }
  return r
}

/// A `Q8Row`'s buffers, as the block terms read them: values `q`, scales `d`, sums `s`.
struct Q8View {
  let q: UnsafePointer<Int8>, d: UnsafePointer<Float>, s: UnsafePointer<Float>
}

/// One block's share of a row's dot product: integer sums in 8 float lanes, the scale they are
/// multiplied by (summed over the row's blocks in 8 lanes), and a scalar part (a minimum's or
/// offset's term). One type per weight layout, so that
/// `blockSums` is specialized for each and the term inlined into its loop.
protocol BlockTerm {
  static func term(_ p: UnsafeRawPointer, _ b: Int, _ a: Q8View) -> (SIMD8<Float>, Float, Float)
}

private enum Q4_0Term: BlockTerm {  // f16 d, u8 qs[16]: low nibbles elements 0..15, high 16..31
  @inline(__always) static func term(_ p: UnsafeRawPointer, _ b: Int, _ a: Q8View) -> (SIMD8<Float>, Float, Float) {
    let xb = a.q + 32 * b, w = widen(bytes(p, 2))
    let t = ((w & 15) &- 8) &* xs(xb, 0) &+ ((w &>> 4) &- 8) &* xs(xb, 16)
    return (float8(fold(t)), halfAt(p, 0) * a.d[b], 0)
  }
}

private enum Q4_1Term: BlockTerm {  // f16 d, f16 m, u8 qs[16]
  @inline(__always) static func term(_ p: UnsafeRawPointer, _ b: Int, _ a: Q8View) -> (SIMD8<Float>, Float, Float) {
    let xb = a.q + 32 * b, w = widen(bytes(p, 4))
    let t = (w & 15) &* xs(xb, 0) &+ (w &>> 4) &* xs(xb, 16)
    return (float8(fold(t)), halfAt(p, 0) * a.d[b], halfAt(p, 2) * a.s[b])
  }
}

/// Q5_0 (`one` false: f16 d, u32 qh, u8 qs[16], values n - 16) and Q5_1 (f16 d, f16 m, u32 qh, qs).
@inline(__always)
private func q5Term(_ p: UnsafeRawPointer, _ b: Int, _ a: Q8View, one: Bool) -> (SIMD8<Float>, Float, Float) {
  let h = one ? 4 : 2, bias: Int16 = one ? 0 : 16, xb = a.q + 32 * b
  let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: h, as: UInt32.self))
  let q = bytes(p, h + 4)
  let lo = widen((q & 15) | highBits(qh, from: 0)) &- bias, hi = widen((q &>> 4) | highBits(qh, from: 16)) &- bias
  return (float8(fold(lo &* xs(xb, 0) &+ hi &* xs(xb, 16))), halfAt(p, 0) * a.d[b], one ? halfAt(p, 2) * a.s[b] : 0)
}

private enum Q5_0Term: BlockTerm { static func term(_ p: UnsafeRawPointer, _ b: Int, _ a: Q8View) -> (SIMD8<Float>, Float, Float) { q5Term(p, b, a, one: false) } }
private enum Q5_1Term: BlockTerm { static func term(_ p: UnsafeRawPointer, _ b: Int, _ a: Q8View) -> (SIMD8<Float>, Float, Float) { q5Term(p, b, a, one: true) } }

private enum Q8_0Term: BlockTerm {  // f16 d, i8 qs[32]
  @inline(__always) static func term(_ p: UnsafeRawPointer, _ b: Int, _ a: Q8View) -> (SIMD8<Float>, Float, Float) {
    let xb = a.q + 32 * b
    let t = widenSigned(bytes(p, 2)) &* xs(xb, 0) &+ widenSigned(bytes(p, 18)) &* xs(xb, 16)
    return (float8(fold(t)), halfAt(p, 0) * a.d[b], 0)
  }
}

/// Q4_K (`five` false) and Q5_K: f16 d, f16 dmin, scales[12], (Q5_K: qh[32]), qs[128]; 8
/// sub-blocks of 32 with 6-bit scales and minimums; the minimums meet the activation's bsums.
@inline(__always)
private func kTerm(_ p: UnsafeRawPointer, _ b: Int, _ a: Q8View, five: Bool) -> (SIMD8<Float>, Float, Float) {
  let qsAt = five ? 48 : 16, xb = a.q + 256 * b, bsums = a.s + 16 * b
  var isum = SIMD8<Int32>()
  var mins: Float = 0
  let h0 = five ? bytes(p, 16) : SIMD16<UInt8>(), h1 = five ? bytes(p, 32) : SIMD16<UInt8>()
  for c in 0..<4 {  // chunk c: low nibbles are sub-block 2c, high nibbles 2c + 1
    let v0 = bytes(p, qsAt + 32 * c), v1 = bytes(p, qsAt + 32 * c + 16)
    var lo0 = v0 & 15, lo1 = v1 & 15, hi0 = v0 &>> 4, hi1 = v1 &>> 4
    if five {
      let sh = UInt8(2 * c)
      lo0 |= ((h0 &>> sh) & 1) &<< 4; hi0 |= ((h0 &>> (sh + 1)) & 1) &<< 4
      lo1 |= ((h1 &>> sh) & 1) &<< 4; hi1 |= ((h1 &>> (sh + 1)) & 1) &<< 4
    }
    let xc = xb + 64 * c
    let (sc0, m0) = kQuantScaleMin(p + 4, 2 * c), (sc1, m1) = kQuantScaleMin(p + 4, 2 * c + 1)
    let lo = widen(lo0) &* xs(xc, 0) &+ widen(lo1) &* xs(xc, 16)
    let hi = widen(hi0) &* xs(xc, 32) &+ widen(hi1) &* xs(xc, 48)
    isum &+= fold(lo) &* Int32(sc0) &+ fold(hi) &* Int32(sc1)
    mins += Float(m0) * (bsums[4 * c] + bsums[4 * c + 1]) + Float(m1) * (bsums[4 * c + 2] + bsums[4 * c + 3])
  }
  return (float8(isum), halfAt(p, 0) * a.d[b], -(halfAt(p, 2) * a.d[b] * mins))
}

private enum Q4_KTerm: BlockTerm { static func term(_ p: UnsafeRawPointer, _ b: Int, _ a: Q8View) -> (SIMD8<Float>, Float, Float) { kTerm(p, b, a, five: false) } }
private enum Q5_KTerm: BlockTerm { static func term(_ p: UnsafeRawPointer, _ b: Int, _ a: Q8View) -> (SIMD8<Float>, Float, Float) { kTerm(p, b, a, five: true) } }

private enum Q6_KTerm: BlockTerm {  // ql[128], qh[64], i8 scales[16], f16 d; two halves of 128, sub-blocks of 16
  @inline(__always) static func term(_ p: UnsafeRawPointer, _ b: Int, _ a: Q8View) -> (SIMD8<Float>, Float, Float) {
    let xb = a.q + 256 * b
    var isum = SIMD8<Int32>()
    for half in 0..<2 {
      for l0 in [0, 16] {
        let ql = bytes(p, 64 * half + l0), qm = bytes(p, 64 * half + 32 + l0), qh = bytes(p, 128 + 32 * half + l0)
        let q1 = widen((ql & 15) | ((qh & 3) &<< 4)) &- 32
        let q2 = widen((qm & 15) | (((qh &>> 2) & 3) &<< 4)) &- 32
        let q3 = widen((ql &>> 4) | (((qh &>> 4) & 3) &<< 4)) &- 32
        let q4 = widen((qm &>> 4) | (((qh &>> 6) & 3) &<< 4)) &- 32
        let xh = xb + 128 * half + l0
        let sc = p + 192 + 8 * half + l0 / 16
        @inline(__always) func scale(_ i: Int) -> Int32 { Int32(Int8(bitPattern: sc.load(fromByteOffset: i, as: UInt8.self))) }
        isum &+= fold(q1 &* xs(xh, 0)) &* scale(0) &+ fold(q2 &* xs(xh, 32)) &* scale(2)
        isum &+= fold(q3 &* xs(xh, 64)) &* scale(4) &+ fold(q4 &* xs(xh, 96)) &* scale(6)
      }
    }
    return (float8(isum), halfAt(p, 208) * a.d[b], 0)
  }
}

/// Sums a row's block terms, two blocks at a time (two independent chains in flight); each
/// block's integer sums are scaled and added in one fused multiply-add.
@inline(__always)
func blockSums<T: BlockTerm>(_: T.Type, _ nb: Int, _ bb: Int, _ row: UnsafeRawPointer, _ a: Q8View) -> Float {
  var acc0 = SIMD8<Float>(), off0: Float = 0, acc1 = SIMD8<Float>(), off1: Float = 0
  var b = 0
  while b &+ 1 < nb {
    prefetchAhead(row + b &* bb, lines: (2 &* bb &+ 63) / 64)
    let (v0, s0, o0) = T.term(row + b &* bb, b, a), (v1, s1, o1) = T.term(row + (b &+ 1) &* bb, b &+ 1, a)
    acc0.addProduct(v0, SIMD8(repeating: s0)); off0 += o0
    acc1.addProduct(v1, SIMD8(repeating: s1)); off1 += o1
    b &+= 2
  }
  if b < nb {
    let (v, s, o) = T.term(row + b &* bb, b, a)
    acc0.addProduct(v, SIMD8(repeating: s)); off0 += o
  }
  return (acc0 + acc1).sum() + off0 + off1
}

/// `row · x` for one weight row of `type` and an activation row `a` quantized for that type
/// (`Q8Row.layout(for:)`), both `a.count` long. The sums are llama.cpp's reference dots:
/// Q4_0: d_w d_x sum (n - 8) q; Q4_1: d_w d_x sum n q + m_w s_x; Q5_0/Q5_1 likewise with 5-bit n;
/// Q8_0: d_w d_x sum q_w q; Q4_K/Q5_K: d_w d_x sum_j sc_j sum n q - dmin_w d_x sum_j m_j bsum_j;
/// Q6_K: d_w d_x sum_j sc_j sum (n - 32) q.
func int8RowDot(_ type: TensorDType, _ row: UnsafeRawPointer, _ a: Q8Row) -> Float {
  var r: Float = 0
  int8RowsKernel(type, blocks: a.count / type.blockSize)(row, 0, 1, a, &r)
  return r
}

/// out[i] = `int8RowDot(type, rows + i rowBytes, a)` for i in 0..<count, activation rows `a` of
/// `blocks` blocks: the AVX-512 kernels where the CPU has AVX-512 VNNI (Int8DotAVX512.swift; all
/// rows in one call), else the AVX2 ones on x86-64, else the portable ones. Chosen once per matrix
/// product, not per row.
typealias Int8RowsKernel = @Sendable (_ rows: UnsafeRawPointer, _ rowBytes: Int, _ count: Int, _ a: Q8Row,
                                      _ out: UnsafeMutablePointer<Float>) -> Void

func int8RowsKernel(_ type: TensorDType, blocks: Int) -> Int8RowsKernel {
  #if arch(x86_64)
  if let k = avx512RowsKernel(type, blocks: blocks) { return k }
  return { rows, rowBytes, count, a, out in
    for i in 0..<count { out[i] = avx2RowDot(type, rows + i * rowBytes, a) }
  }
  #else
  return { rows, rowBytes, count, a, out in
    for i in 0..<count { out[i] = portableRowDot(type, rows + i * rowBytes, a) }
  }
  #endif
}

extension Q8Row {
  var view: Q8View {
    Q8View(q: UnsafePointer(bytes), d: UnsafePointer(scales), s: UnsafePointer(sums))
  }
}

/// One block term per weight type: the portable kernels here, or the AVX2 ones.
protocol BlockKernels {
  associatedtype Q4_0: BlockTerm
  associatedtype Q4_1: BlockTerm
  associatedtype Q5_0: BlockTerm
  associatedtype Q5_1: BlockTerm
  associatedtype Q8_0: BlockTerm
  associatedtype Q4_K: BlockTerm
  associatedtype Q5_K: BlockTerm
  associatedtype Q6_K: BlockTerm
}

/// `int8RowDot` by one set of kernels.
@inline(__always)
func rowDot<K: BlockKernels>(_: K.Type, _ type: TensorDType, _ row: UnsafeRawPointer, _ a: Q8Row) -> Float {
  let v = a.view
  let nb = a.count / type.blockSize, bb = type.blockBytes
  switch type {
  case .q4_0: return blockSums(K.Q4_0.self, nb, bb, row, v)
  case .q4_1: return blockSums(K.Q4_1.self, nb, bb, row, v)
  case .q5_0: return blockSums(K.Q5_0.self, nb, bb, row, v)
  case .q5_1: return blockSums(K.Q5_1.self, nb, bb, row, v)
  case .q8_0: return blockSums(K.Q8_0.self, nb, bb, row, v)
  case .q4_K: return blockSums(K.Q4_K.self, nb, bb, row, v)
  case .q5_K: return blockSums(K.Q5_K.self, nb, bb, row, v)
  case .q6_K: return blockSums(K.Q6_K.self, nb, bb, row, v)
  case .f32, .f16, .bf16, .q8_K: return 0  // not paired with int8 activations (`Q8Row.layout(for:)` is nil)
  }
}

private enum PortableKernels: BlockKernels {
  typealias Q4_0 = Q4_0Term
  typealias Q4_1 = Q4_1Term
  typealias Q5_0 = Q5_0Term
  typealias Q5_1 = Q5_1Term
  typealias Q8_0 = Q8_0Term
  typealias Q4_K = Q4_KTerm
  typealias Q5_K = Q5_KTerm
  typealias Q6_K = Q6_KTerm
}

/// `int8RowDot` by the portable kernels, on any CPU.
func portableRowDot(_ type: TensorDType, _ row: UnsafeRawPointer, _ a: Q8Row) -> Float {
  rowDot(PortableKernels.self, type, row, a)
}
