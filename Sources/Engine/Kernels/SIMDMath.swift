import Foundation

// MARK: - SIMD16 loads, stores and transcendental functions
//
// The hot element-wise loops run 16 lanes at a time; a scalar loop finishes the tail with
// Foundation's functions. The vector exp is good to a few ulp, far inside the 1e-4 tolerance
// the parity tests hold the engine to.

typealias F16 = SIMD16<Float>

@inline(__always) func load16(_ p: UnsafePointer<Float>) -> F16 {
  UnsafeRawPointer(p).loadUnaligned(as: F16.self)
}

@inline(__always) func store16(_ v: F16, _ p: UnsafeMutablePointer<Float>) {
  UnsafeMutableRawPointer(p).storeBytes(of: v, as: F16.self)
}

/// Lane-wise max and min as compare + blend. The standard library's `pointwiseMax` and
/// `clamped` follow IEEE maximum's NaN rules lane by lane and do not vectorize.
@inline(__always) func max16(_ a: F16, _ b: F16) -> F16 { a.replacing(with: b, where: b .> a) }
@inline(__always) func min16(_ a: F16, _ b: F16) -> F16 { a.replacing(with: b, where: b .< a) }

/// e^x for 16 lanes: x = n ln2 + r, |r| <= ln2/2, e^r by its degree-7 Taylor polynomial
/// (truncation error < 1e-8), 2^n put straight into the exponent bits.
@inline(__always) func exp16(_ x: F16) -> F16 {
  let xc = max16(min16(x, F16(repeating: 88.0)), F16(repeating: -87.0))
  // Adding 1.5 * 2^23 rounds to an integer (to nearest even) and leaves it in the low
  // mantissa bits: one add instead of a per-lane float -> int conversion.
  let magic = F16(repeating: 12_582_912)
  let shifted = xc * 1.442_695_04 + magic
  let n = shifted - magic
  let r = xc - n * 0.693_145_751_953_125 - n * 1.428_606_765_330_187e-06
  var p = F16(repeating: 1.0 / 5040)
  p = p * r + 1.0 / 720
  p = p * r + 1.0 / 120
  p = p * r + 1.0 / 24
  p = p * r + 1.0 / 6
  p = p * r + 0.5
  p = p * r + 1
  p = p * r + 1
  let bits = (unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
  return p * unsafeBitCast(bits, to: F16.self)
}

/// tanh(x) = 1 - 2 / (e^{2x} + 1): exact at both saturations, absolute error ~1e-7 near 0.
@inline(__always) func tanh16(_ x: F16) -> F16 {
  1 - 2 / (exp16(2 * x) + 1)
}
