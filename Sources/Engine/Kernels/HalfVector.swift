#if arch(x86_64)
import Builtin
#endif

// MARK: - Rows stored as IEEE binary16 (the f16 KV cache)
//
// 16 values per step: one 32-byte load widened to float32 (`vcvtph2ps`), or rounded back to
// binary16 (`vcvtps2ph`, round to nearest even). The products and sums stay float32.

/// 16 binary16 values at p, widened.
@inline(__always) func loadHalf16(_ p: UnsafePointer<UInt16>) -> F16 {
  #if arch(x86_64)
  let h = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float16>.self)
  var r = F16()
  r._storage._value = Builtin.fpext_Vec16xFPIEEE16_Vec16xFPIEEE32(h._storage._value)
  return r
  #else
  var r = F16()
  for i in 0..<16 { r[i] = Float(Float16(bitPattern: p[i])) }
  return r
  #endif
}

/// v rounded to binary16 (saturating at +-65504; NaN stays NaN) into 16 values at p.
@inline(__always) func storeHalf16(_ v: F16, _ p: UnsafeMutablePointer<UInt16>) {
  let c = max16(min16(v, F16(repeating: 65504)), F16(repeating: -65504))
  #if arch(x86_64)
  var h = SIMD16<Float16>()
  h._storage._value = Builtin.fptrunc_Vec16xFPIEEE32_Vec16xFPIEEE16(c._storage._value)
  UnsafeMutableRawPointer(p).storeBytes(of: h, as: SIMD16<Float16>.self)
  #else
  for i in 0..<16 { p[i] = Float16(c[i]).bitPattern }
  #endif
}

/// One value rounded to binary16 as `storeHalf16` rounds it.
@inline(__always) func halfBits(_ x: Float) -> UInt16 {
  Float16(x.isNaN ? x : min(max(x, -65504), 65504)).bitPattern
}

extension Vec {
  /// Rounds x (n,) to binary16 into `half`, and x in place to the values stored.
  static func roundToHalf(_ x: UnsafeMutablePointer<Float>, _ n: Int, into half: UnsafeMutablePointer<UInt16>) {
    var i = 0
    while i + 16 <= n {
      storeHalf16(load16(x + i), half + i)
      store16(loadHalf16(half + i), x + i)
      i += 16
    }
    while i < n { half[i] = halfBits(x[i]); x[i] = Float(Float16(bitPattern: half[i])); i += 1 }
  }

  /// y (n,) = the binary16 values at `half`, widened.
  static func widenHalf(_ half: UnsafePointer<UInt16>, _ n: Int, into y: UnsafeMutablePointer<Float>) {
    var i = 0
    while i + 16 <= n { store16(loadHalf16(half + i), y + i); i += 16 }
    while i < n { y[i] = Float(Float16(bitPattern: half[i])); i += 1 }
  }
}
