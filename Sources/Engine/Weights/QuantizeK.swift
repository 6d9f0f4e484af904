// K-quants: float32 -> Q4_K / Q5_K / Q6_K super-blocks of 256, following ggml's reference
// quantizers (ggml/src/ggml-quants.c `quantize_row_q4_K_ref`, `_q5_K_ref`, `_q6_K_ref` with
// their helpers `nearest_int`, `make_qkx2_quants`, `make_qx_quants`), operation for operation.
// Layouts (ggml-common.h): Q4_K = f16 d, f16 dmin, u8 scales[12] (8 six-bit scales and mins),
// u8 qs[128]; Q5_K adds u8 qh[32] before qs; Q6_K = u8 ql[128], u8 qh[64], i8 scales[16], f16 d.

// MARK: - Helpers

/// ggml's `nearest_int`: round to nearest, ties to even, by the 1.5 * 2^23 trick (exact for
/// |x| < 2^22; other inputs give what the bit pattern gives, never a trap).
@inline(__always)
func nearestInt(_ x: Float) -> Int {
  let v = x + 12_582_912
  return Int(Int32(bitPattern: v.bitPattern) & 0x007F_FFFF) - 0x0040_0000
}

/// ggml's GROUP_MAX_EPS: a group whose largest magnitude is below this is all zero.
private let groupMaxEps: Float = 1e-15

/// `make_qkx2_quants` (use_mad = false): an asymmetric n-level fit `x ~ scale * L - min` of the
/// `n` values at `x` under `weights`, refined over `nstep + 1` candidate scales. Writes the
/// levels to `L` and returns (scale, min as a positive offset).
private func fitScaleAndMin(_ n: Int, _ nmax: Int, _ x: UnsafePointer<Float>, _ weights: UnsafePointer<Float>,
                            _ L: UnsafeMutablePointer<UInt8>, _ laux: UnsafeMutablePointer<UInt8>,
                            rmin: Float, rdelta: Float, nstep: Int) -> (scale: Float, min: Float) {
  var lo = x[0], hi = x[0]
  var sumW = weights[0]
  var sumX = sumW * x[0]
  for i in 1..<n {
    if x[i] < lo { lo = x[i] }
    if x[i] > hi { hi = x[i] }
    let w = weights[i]
    sumW += w
    sumX += w * x[i]
  }
  if lo > 0 { lo = 0 }
  if hi == lo {
    for i in 0..<n { L[i] = 0 }
    return (0, -lo)
  }
  let fmax = Float(nmax)
  var iscale = fmax / (hi - lo)
  var scale = 1 / iscale
  var bestError: Float = 0
  for i in 0..<n {
    let l = max(0, min(nmax, nearestInt(iscale * (x[i] - lo))))
    L[i] = UInt8(l)
    let diff = scale * Float(l) + lo - x[i]
    bestError += weights[i] * (diff * diff)
  }
  for step in 0...nstep {
    iscale = (rmin + rdelta * Float(step) + fmax) / (hi - lo)
    var sumL: Float = 0, sumL2: Float = 0, sumXL: Float = 0
    for i in 0..<n {
      let l = max(0, min(nmax, nearestInt(iscale * (x[i] - lo))))
      laux[i] = UInt8(l)
      let w = weights[i], fl = Float(l)
      sumL += w * fl
      sumL2 += w * fl * fl
      sumXL += w * fl * x[i]
    }
    let D = sumW * sumL2 - sumL * sumL
    guard D > 0 else { continue }
    var thisScale = (sumW * sumXL - sumX * sumL) / D
    var thisMin = (sumL2 * sumX - sumL * sumXL) / D
    if thisMin > 0 {
      thisMin = 0
      thisScale = sumXL / sumL2
    }
    var error: Float = 0
    for i in 0..<n {
      let diff = thisScale * Float(laux[i]) + thisMin - x[i]
      error += weights[i] * (diff * diff)
    }
    if error < bestError {
      for i in 0..<n { L[i] = laux[i] }
      bestError = error
      scale = thisScale
      lo = thisMin
    }
  }
  return (scale, -lo)
}

/// `make_qx_quants` with rmse_type 1 (weights x^2) and no importance: a symmetric fit
/// `x ~ scale * (L - nmax)` of `n` values, the scale searched over 19 candidates. Writes L in
/// 0..<2 nmax and returns the scale.
private func fitSymmetricScale(_ n: Int, _ nmax: Int, _ x: UnsafePointer<Float>, _ L: UnsafeMutablePointer<Int8>) -> Float {
  var peak: Float = 0, amax: Float = 0
  for i in 0..<n where abs(x[i]) > amax { amax = abs(x[i]); peak = x[i] }
  if amax < groupMaxEps {
    for i in 0..<n { L[i] = 0 }
    return 0
  }
  let fmax = Float(nmax)
  var iscale = -fmax / peak
  var sumLX: Float = 0, sumL2: Float = 0
  for i in 0..<n {
    let l = max(-nmax, min(nmax - 1, nearestInt(iscale * x[i])))
    L[i] = Int8(l + nmax)
    let w = x[i] * x[i], fl = Float(l)
    sumLX += w * x[i] * fl
    sumL2 += w * fl * fl
  }
  var scale = sumL2 != 0 ? sumLX / sumL2 : 0
  var best = scale * sumLX
  for step in -9...9 where step != 0 {
    iscale = -(fmax + 0.1 * Float(step)) / peak
    sumLX = 0; sumL2 = 0
    for i in 0..<n {
      let l = max(-nmax, min(nmax - 1, nearestInt(iscale * x[i])))
      let w = x[i] * x[i], fl = Float(l)
      sumLX += w * x[i] * fl
      sumL2 += w * fl * fl
    }
    if sumL2 > 0 && sumLX * sumLX > best * sumL2 {
      for i in 0..<n { L[i] = Int8(max(-nmax, min(nmax - 1, nearestInt(iscale * x[i]))) + nmax) }
      scale = sumLX / sumL2
      best = scale * sumLX
    }
  }
  return scale
}

// MARK: - Q4_K and Q5_K

/// The shared part of Q4_K and Q5_K: per 32-value sub-block a (scale, min) fit with `nmax`
/// levels, both quantized to 6 bits against the super-block's d and dmin (written at y[0..<16]),
/// then every value re-quantized against the stored scales. Returns the levels in `L[256]`.
@inline(__always)
private func quantizeScaleMinBlock(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, nmax: Int, rmin: Float, nstep: Int,
                                   _ L: UnsafeMutablePointer<UInt8>, _ overflow: inout Bool) {
  // Scratch: scales[8], mins[8], weights[32] as floats; laux[32] as bytes.
  withUnsafeTemporaryAllocation(of: Float.self, capacity: 48) { fbuf in
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { bbuf in
      guard let f = fbuf.baseAddress, let laux = bbuf.baseAddress else { return }
      let sc = f, mn = f + 8, w = f + 16
      var maxScale: Float = 0, maxMin: Float = 0
      for j in 0..<8 {
        let xs = x + 32 * j
        var sumX2: Float = 0
        for l in 0..<32 { sumX2 += xs[l] * xs[l] }
        let avX = (sumX2 / 32).squareRoot()
        for l in 0..<32 { w[l] = avX + abs(xs[l]) }
        let fit = fitScaleAndMin(32, nmax, xs, w, L + 32 * j, laux, rmin: rmin, rdelta: 0.1, nstep: nstep)
        sc[j] = fit.scale; mn[j] = fit.min
        if fit.scale > maxScale { maxScale = fit.scale }
        if fit.min > maxMin { maxMin = fit.min }
      }
      let invScale: Float = maxScale > 0 ? 63 / maxScale : 0
      let invMin: Float = maxMin > 0 ? 63 / maxMin : 0
      let s = y + 4  // scales[12]: j < 4 in bytes j (scale) and j + 4 (min); j >= 4 split over
                     // byte j + 4 (low nibbles) and the top two bits of bytes j - 4 and j
      for k in 0..<12 { s.storeBytes(of: 0, toByteOffset: k, as: UInt8.self) }
      for j in 0..<8 {
        let ls = min(63, UInt8(truncatingIfNeeded: nearestInt(invScale * sc[j])))
        let lm = min(63, UInt8(truncatingIfNeeded: nearestInt(invMin * mn[j])))
        if j < 4 {
          s.storeBytes(of: ls, toByteOffset: j, as: UInt8.self)
          s.storeBytes(of: lm, toByteOffset: j + 4, as: UInt8.self)
        } else {
          s.storeBytes(of: (ls & 0x0F) | (lm & 0x0F) << 4, toByteOffset: j + 4, as: UInt8.self)
          let a = s.load(fromByteOffset: j - 4, as: UInt8.self), b = s.load(fromByteOffset: j, as: UInt8.self)
          s.storeBytes(of: a | (ls >> 4) << 6, toByteOffset: j - 4, as: UInt8.self)
          s.storeBytes(of: b | (lm >> 4) << 6, toByteOffset: j, as: UInt8.self)
        }
      }
      let dBits = halfBits(maxScale / 63, &overflow), dminBits = halfBits(maxMin / 63, &overflow)
      store16(dBits, y, 0)
      store16(dminBits, y, 2)
      let d = floatFromF16(dBits), dmin = floatFromF16(dminBits)
      for j in 0..<8 {
        let (sj, mj) = kQuantScaleMin(UnsafeRawPointer(s), j)
        let dj = d * Float(sj)
        if dj == 0 { continue }  // keep the fit's levels, as the reference does
        let dm = dmin * Float(mj)
        for i in 0..<32 { L[32 * j + i] = UInt8(max(0, min(nmax, nearestInt((x[32 * j + i] + dm) / dj)))) }
      }
    }
  }
}

/// Q4_K: 8 sub-blocks of 32, 4-bit levels; byte l of 32-byte chunk c holds sub-block 2c (low
/// nibble) and 2c + 1 (high).
func quantizeQ4_K(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ overflow: inout Bool) {
  withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { buf in
    guard let L = buf.baseAddress else { return }
    quantizeScaleMinBlock(x, y, nmax: 15, rmin: -1, nstep: 20, L, &overflow)
    for c in 0..<4 {
      for l in 0..<32 {
        y.storeBytes(of: L[64 * c + l] | L[64 * c + l + 32] << 4, toByteOffset: 16 + 32 * c + l, as: UInt8.self)
      }
    }
  }
}

/// Q5_K: as Q4_K with 5-bit levels; the fifth bit of sub-block k at bit k of qh[l].
func quantizeQ5_K(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ overflow: inout Bool) {
  withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { buf in
    guard let L = buf.baseAddress else { return }
    quantizeScaleMinBlock(x, y, nmax: 31, rmin: -0.5, nstep: 15, L, &overflow)
    let qh = y + 16, qs = y + 48
    for l in 0..<32 { qh.storeBytes(of: 0, toByteOffset: l, as: UInt8.self) }
    for c in 0..<4 {
      let m1 = UInt8(1) << UInt8(2 * c), m2 = UInt8(2) << UInt8(2 * c)
      for l in 0..<32 {
        var l1 = L[64 * c + l], l2 = L[64 * c + l + 32]
        var h = qh.load(fromByteOffset: l, as: UInt8.self)
        if l1 > 15 { l1 -= 16; h |= m1 }
        if l2 > 15 { l2 -= 16; h |= m2 }
        qh.storeBytes(of: h, toByteOffset: l, as: UInt8.self)
        qs.storeBytes(of: l1 | l2 << 4, toByteOffset: 32 * c + l, as: UInt8.self)
      }
    }
  }
}

// MARK: - Q6_K

/// Q6_K: 16 sub-blocks of 16 with symmetric 6-bit levels and signed 8-bit scales against one
/// f16 d. Levels (0..<64) are split into 4 low bits (ql) and 2 high bits (qh) per 128-value half.
func quantizeQ6_K(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ overflow: inout Bool) {
  withUnsafeTemporaryAllocation(of: Int8.self, capacity: 256) { lbuf in
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { sbuf in
      guard let L = lbuf.baseAddress, let scales = sbuf.baseAddress else { return }
      var maxScale: Float = 0, maxAbsScale: Float = 0
      for ib in 0..<16 {
        let scale = fitSymmetricScale(16, 32, x + 16 * ib, L + 16 * ib)
        scales[ib] = scale
        if abs(scale) > maxAbsScale { maxAbsScale = abs(scale); maxScale = scale }
      }
      if maxAbsScale < groupMaxEps {
        for k in 0..<210 { y.storeBytes(of: 0, toByteOffset: k, as: UInt8.self) }
        return
      }
      let iscale = -128 / maxScale
      let dBits = halfBits(1 / iscale, &overflow)
      store16(dBits, y, 208)
      let d = floatFromF16(dBits)
      for ib in 0..<16 {
        let s = Int8(truncatingIfNeeded: min(127, nearestInt(iscale * scales[ib])))
        y.storeBytes(of: s, toByteOffset: 192 + ib, as: Int8.self)
        let dj = d * Float(s)
        if dj == 0 { continue }
        for i in 0..<16 { L[16 * ib + i] = Int8(max(-32, min(31, nearestInt(x[16 * ib + i] / dj))) + 32) }
      }
      for half in 0..<2 {
        let l0 = 128 * half, ql = y + 64 * half, qh = y + 128 + 32 * half
        for l in 0..<32 {
          let q1 = UInt8(L[l0 + l]), q2 = UInt8(L[l0 + l + 32]), q3 = UInt8(L[l0 + l + 64]), q4 = UInt8(L[l0 + l + 96])
          ql.storeBytes(of: (q1 & 0x0F) | (q3 & 0x0F) << 4, toByteOffset: l, as: UInt8.self)
          ql.storeBytes(of: (q2 & 0x0F) | (q4 & 0x0F) << 4, toByteOffset: l + 32, as: UInt8.self)
          qh.storeBytes(of: q1 >> 4 | (q2 >> 4) << 2 | (q3 >> 4) << 4 | (q4 >> 4) << 6, toByteOffset: l, as: UInt8.self)
        }
      }
    }
  }
}
