#if arch(x86_64)
import Builtin
#endif

// MARK: - Rows stored as IEEE binary16 (the f16 KV cache, f16 weights)
//
// 16 values per step: one 32-byte load widened to float32 (`vcvtph2ps`; `convertPlainFloats`
// widens whole rows with it), or rounded back to binary16 (`vcvtps2ph`, round to nearest even).

/// 16 binary16 values at p (any alignment), widened.
@inline(__always) func loadHalf16(_ p: UnsafeRawPointer) -> F16 {
  #if arch(x86_64)
  let h = p.loadUnaligned(as: SIMD16<Float16>.self)
  var r = F16()
  r._storage._value = Builtin.fpext_Vec16xFPIEEE16_Vec16xFPIEEE32(h._storage._value)
  return r
  #else
  var r = F16()
  for i in 0..<16 { r[i] = floatFromF16(p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
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
@inline(__always) func saturatedHalfBits(_ x: Float) -> UInt16 {
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
    while i < n { half[i] = saturatedHalfBits(x[i]); x[i] = floatFromF16(half[i]); i += 1 }
  }
}
