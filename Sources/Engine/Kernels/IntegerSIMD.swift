#if arch(x86_64)
import Builtin

// MARK: - AVX2 integer multiply-adds, reached from Swift
//
// LLVM does not form `vpmaddubsw` (u8 x i8 products, adjacent pairs summed into i16 with signed
// saturation) or `vpmaddwd` (i16 x i16, pairs summed into i32) from Swift SIMD arithmetic; it
// widens and shuffles instead. The builtin module names the LLVM intrinsics directly
// (`Builtin.int_<name with dots as underscores>`, the Engine target is built with
// `-enable-builtin-module`), and a SIMD vector's storage is the LLVM vector they take, so these
// wrappers compile to the one instruction each. The portable build targets Haswell, so AVX2 is
// always there on x86-64.

/// Bytes u (unsigned) times bytes s (signed), adjacent products summed: r_i = u_2i s_2i +
/// u_2i+1 s_2i+1, saturated to Int16. The callers keep |u| <= 128 and |s| <= 127, so the pair sum
/// (at most 32,512 in magnitude) never saturates.
@inline(__always)
func multiplyAddPairs(_ u: SIMD32<UInt8>, _ s: SIMD32<Int8>) -> SIMD16<Int16> {
  var r = SIMD16<Int16>()
  r._storage._value = Builtin.int_x86_avx2_pmadd_ub_sw(u._storage._value, s._storage._value)
  return r
}

/// Int16 lanes a times b, adjacent products summed into Int32: r_i = a_2i b_2i + a_2i+1 b_2i+1.
@inline(__always)
func multiplyAddPairs(_ a: SIMD16<Int16>, _ b: SIMD16<Int16>) -> SIMD8<Int32> {
  var r = SIMD8<Int32>()
  r._storage._value = Builtin.int_x86_avx2_pmadd_wd(a._storage._value, b._storage._value)
  return r
}

/// a with each byte negated where b's is negative and zeroed where b's is zero (`vpsignb`).
@inline(__always)
func copySigns(_ a: SIMD32<Int8>, _ b: SIMD32<Int8>) -> SIMD32<Int8> {
  var r = SIMD32<Int8>()
  r._storage._value = Builtin.int_x86_avx2_psign_b(a._storage._value, b._storage._value)
  return r
}

/// The integer dot of signed bytes w and x in 8 Int32 lanes (each lane the sum of 4 products),
/// as llama.cpp takes it on AVX2: |w| (unsigned) times x with w's signs moved onto it.
/// |w| <= 128 and |x| <= 127.
@inline(__always)
func signedDot8(_ w: SIMD32<Int8>, _ x: SIMD32<Int8>) -> SIMD8<Int32> {
  unsignedDot8(magnitudes(w), copySigns(x, w))
}

/// |w| as unsigned bytes (`vpsignb` of w by itself; -128 gives 128).
@inline(__always)
func magnitudes(_ w: SIMD32<Int8>) -> SIMD32<UInt8> {
  var r = SIMD32<UInt8>()
  r._storage._value = copySigns(w, w)._storage._value
  return r
}

/// Byte j (j = 0..<32) all ones where bit j of `bits` is set, else zero: the dword broadcast,
/// each byte picking its byte of it (`vpshufb`), every other bit set, compared with 0xff.
@inline(__always)
func bitMask32(_ bits: UInt32) -> SIMD32<UInt8> {
  let spread = SIMD32<UInt8>(lowHalf: SIMD16(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1),
                             highHalf: SIMD16(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3))
  let others = SIMD16<UInt8>(0xfe, 0xfd, 0xfb, 0xf7, 0xef, 0xdf, 0xbf, 0x7f, 0xfe, 0xfd, 0xfb, 0xf7, 0xef, 0xdf, 0xbf, 0x7f)
  let words = SIMD8<UInt32>(repeating: bits)
  let picked = Builtin.int_x86_avx2_pshuf_b(Builtin.bitcast_Vec8xInt32_Vec32xInt8(words._storage._value), spread._storage._value)
  let withOthers = Builtin.or_Vec32xInt8(picked, SIMD32<UInt8>(lowHalf: others, highHalf: others)._storage._value)
  var r = SIMD32<UInt8>()
  r._storage._value = Builtin.sext_Vec32xInt1_Vec32xInt8(
    Builtin.cmp_eq_Vec32xInt8(withOthers, SIMD32<UInt8>(repeating: 0xff)._storage._value))
  return r
}

/// a | (b & c), lane by lane over 32 bytes (Swift's SIMD32 operators do not compile to one
/// instruction each).
@inline(__always)
func orMasked(_ a: SIMD32<UInt8>, _ b: SIMD32<UInt8>, _ c: UInt8) -> SIMD32<UInt8> {
  var r = SIMD32<UInt8>()
  r._storage._value = Builtin.or_Vec32xInt8(
    a._storage._value, Builtin.and_Vec32xInt8(b._storage._value, SIMD32<UInt8>(repeating: c)._storage._value))
  return r
}

/// ~b over 32 bytes.
@inline(__always)
func complement(_ b: SIMD32<UInt8>) -> SIMD32<UInt8> {
  var r = SIMD32<UInt8>()
  r._storage._value = Builtin.xor_Vec32xInt8(b._storage._value, SIMD32<UInt8>(repeating: 0xff)._storage._value)
  return r
}

/// The two f16 values at p (4 bytes), widened to float. One `vmovss` load that zeroes the rest of
/// the register, then `vcvtph2ps`: a scalar f16 load compiles to `vpinsrw` into whatever register
/// is at hand, often a loop's accumulator, and then waits on it: a block's scale load would wait
/// on the previous block's sum, which serialized the block loop.
@inline(__always)
func halfPair(_ p: UnsafeRawPointer, _ offset: Int) -> SIMD2<Float> {
  let h = p.loadUnaligned(fromByteOffset: offset, as: SIMD2<Float16>.self)
  var r = SIMD2<Float>()
  r._storage._value = Builtin.fpext_Vec2xFPIEEE16_Vec2xFPIEEE32(h._storage._value)
  return r
}

/// The f16 value at p + offset as a float, converted in integer registers (exact for every bit
/// pattern: the magnitude's bits moved into float position and scaled by 2^112, subnormals
/// included; infinities and NaNs rebuilt). A lone f16 load would compile to `vpinsrw` into a
/// register LLVM considers free, which in a block loop is the accumulator: the same serial
/// dependency `halfPair` avoids, where both halves are used.
@inline(__always)
func halfFloat(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
  let h = UInt32(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
  let sign = (h & 0x8000) &<< 16
  let magnitude = Float(bitPattern: (h & 0x7fff) &<< 13) * 0x1p112
  let special = 0x7f80_0000 | ((h & 0x3ff) &<< 13)  // infinity or NaN
  return Float(bitPattern: sign | ((h & 0x7c00) == 0x7c00 ? special : magnitude.bitPattern))
}

/// Lanes holding whole numbers in -128...127 (no NaN) as bytes (`vcvttps2dq`, then packs).
@inline(__always)
func bytesFromWholeFloats(_ v: SIMD16<Float>) -> SIMD16<Int8> {
  var r = SIMD16<Int8>()
  r._storage._value = Builtin.trunc_Vec16xInt32_Vec16xInt8(Builtin.fptosi_Vec16xFPIEEE32_Vec16xInt32(v._storage._value))
  return r
}

/// Bytes sign-extended to Int32 lanes (`vpmovsxbd`).
@inline(__always)
func widened32(_ v: SIMD16<Int8>) -> SIMD16<Int32> {
  var r = SIMD16<Int32>()
  r._storage._value = Builtin.sext_Vec16xInt8_Vec16xInt32(v._storage._value)
  return r
}

/// The integer dot of unsigned bytes u (<= 128) and signed bytes x in 8 Int32 lanes: `vpmaddubsw`
/// then `vpmaddwd` by ones; in a host build with AVX-512 VNNI, one `vpdpbusd` (the same sums:
/// the pair sums never saturate at these magnitudes).
@inline(__always)
func unsignedDot8(_ u: SIMD32<UInt8>, _ x: SIMD32<Int8>) -> SIMD8<Int32> {
  #if GUI_AGENT_AVX512_VNNI
  var r = SIMD8<Int32>()
  r._storage._value = Builtin.int_x86_avx512_vpdpbusd_256(
    SIMD8<Int32>()._storage._value, Builtin.bitcast_Vec32xInt8_Vec8xInt32(u._storage._value),
    Builtin.bitcast_Vec32xInt8_Vec8xInt32(x._storage._value))
  return r
  #else
  return multiplyAddPairs(multiplyAddPairs(u, x), SIMD16<Int16>(repeating: 1))
  #endif
}
#endif
