// Fused dot products of one quantized row with a float vector: the block's integers are widened
// to SIMD16<Float> lanes, multiplied by x, and the block scale applied to the lane sums, e.g. for
// Q4_0: sum_j d * (q_j - 8) * x_j = d * sum_j (q_j - 8) * x_j. Same values as `dequantizeBlock`
// (block layouts there), different rounding order: agrees with a float dot of the dequantized row
// to ~1e-6 relative (tested). Q6_K, whose 6-bit values are scattered over two arrays, goes
// through `bufferedDot` instead: measured ~2x faster than its fused form on this machine.

// MARK: - Lane helpers

private typealias F16x = SIMD16<Float>

@inline(__always)
private func loadX(_ x: UnsafePointer<Float>, _ i: Int) -> F16x {
  UnsafeRawPointer(x + i).loadUnaligned(as: F16x.self)
}

@inline(__always)
private func bytes16(_ p: UnsafeRawPointer, _ offset: Int) -> SIMD16<UInt8> {
  p.loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt8>.self)
}

// Lane-wise conversions written as plain loops: LLVM turns them into vpmovzxbd/vpmovsxbd +
// vcvtdq2ps, whereas the generic SIMD conversion initializers stay outlined calls.
@inline(__always)
private func lanes(_ v: SIMD16<UInt8>) -> F16x {
  var r = F16x()
  for i in 0..<16 { r[i] = Float(Int32(v[i])) }
  return r
}

@inline(__always)
private func signedLanes(_ v: SIMD16<UInt8>) -> F16x {
  var r = F16x()
  for i in 0..<16 { r[i] = Float(Int32(Int8(bitPattern: v[i]))) }
  return r
}

@inline(__always)
private func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
  floatFromF16(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
}

/// Bit `j` of `qh` as 16 (the 5th bit of Q5_0/Q5_1), for lanes j = first..<first+16, `first` 0 or 16.
/// Byte ops only: lane i tests bit i%8 of byte first/8 + i/8; `(t + 127) & 128` is 128 iff t != 0.
@inline(__always)
func highBits(_ qh: UInt32, from first: UInt32) -> SIMD16<UInt8> {
  let b0 = UInt8(truncatingIfNeeded: qh >> first), b1 = UInt8(truncatingIfNeeded: qh >> (first + 8))
  let bytes = SIMD16<UInt8>(lowHalf: SIMD8(repeating: b0), highHalf: SIMD8(repeating: b1))
  let t = bytes & SIMD16<UInt8>(1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128)
  return ((t &+ 127) & 128) &>> 3
}

@inline(__always)
private func scaled(_ s: Float, _ v: F16x) -> F16x { s * v }

/// The 12 packed scale bytes of a Q4_K/Q5_K block as 8 (scale, min) pairs, in Float.
@inline(__always)
private func kScales(_ s: UnsafeRawPointer) -> (SIMD8<Float>, SIMD8<Float>) {
  var sc = SIMD8<Float>(), mn = SIMD8<Float>()
  for j in 0..<8 {
    let (a, b) = kQuantScaleMin(s, j)
    sc[j] = Float(a); mn[j] = Float(b)
  }
  return (sc, mn)
}

/// `row · x` by expanding each block with `dequantizeBlock` into a stack buffer (which LLVM
/// vectorizes well for the types with scattered bit fields) and a two-chain SIMD dot.
@inline(__always)
private func bufferedDot(_ type: TensorDType, _ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks nb: Int) -> F16x {
  let bs = type.blockSize, bb = type.blockBytes
  return withUnsafeTemporaryAllocation(of: Float.self, capacity: bs) { tmp -> F16x in
    guard let t = tmp.baseAddress else { return F16x() }  // t (bs,): one dequantized block
    var a0 = F16x(), a1 = F16x()
    for b in 0..<nb {
      dequantizeBlock(type, row + b * bb, t)
      let xb = x + bs * b
      for k in stride(from: 0, to: bs, by: 32) {
        a0 += UnsafeRawPointer(t + k).loadUnaligned(as: F16x.self) * loadX(xb, k)
        a1 += UnsafeRawPointer(t + k + 16).loadUnaligned(as: F16x.self) * loadX(xb, k + 16)
      }
    }
    return a0 + a1
  }
}

// MARK: - Row dot

/// `row · x` for one row of `count` elements (a multiple of the block size) stored as `type`.
public func quantizedRowDot(_ type: TensorDType, _ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
  var acc = F16x()
  let nb = count / type.blockSize, bb = type.blockBytes
  switch type {
  case .f32:
    var acc1 = F16x()  // two chains: the add latency, not the loads, would bound one
    var i = 0
    while i + 32 <= count {
      prefetchAhead(row + 4 &* i, lines: 2)
      acc += row.loadUnaligned(fromByteOffset: 4 * i, as: F16x.self) * loadX(x, i)
      acc1 += row.loadUnaligned(fromByteOffset: 4 * i + 64, as: F16x.self) * loadX(x, i + 16)
      i += 32
    }
    while i < count { acc[0] += row.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) * x[i]; i += 1 }
    acc += acc1

  case .f16, .bf16:
    var acc1 = F16x()
    let isF16 = type == .f16
    @inline(__always) func widen(_ h: SIMD16<UInt16>) -> F16x {
      var w = F16x()
      if isF16 {
        for k in 0..<16 { w[k] = floatFromF16(h[k]) }
      } else {
        for k in 0..<16 { w[k] = floatFromBF16(h[k]) }
      }
      return w
    }
    var i = 0
    while i + 32 <= count {
      prefetchAhead(row + 2 &* i, lines: 1)
      acc += widen(row.loadUnaligned(fromByteOffset: 2 * i, as: SIMD16<UInt16>.self)) * loadX(x, i)
      acc1 += widen(row.loadUnaligned(fromByteOffset: 2 * i + 32, as: SIMD16<UInt16>.self)) * loadX(x, i + 16)
      i += 32
    }
    while i < count {
      let b = row.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
      acc[0] += (isF16 ? floatFromF16(b) : floatFromBF16(b)) * x[i]
      i += 1
    }
    acc += acc1

  case .q8_0:  // f16 d, i8 qs[32]
    for b in 0..<nb {
      let p = row + b * bb, xb = x + 32 * b
      let s = signedLanes(bytes16(p, 2)) * loadX(xb, 0) + signedLanes(bytes16(p, 18)) * loadX(xb, 16)
      acc += half(p, 0) * s
    }

  case .q4_0:  // f16 d, u8 qs[16]: low nibbles are elements 0..15, high 16..31; sum d (q - 8) x
    for b in 0..<nb {
      let p = row + b * bb, xb = x + 32 * b
      let q = bytes16(p, 2)
      let x0 = loadX(xb, 0), x1 = loadX(xb, 16)
      let d = half(p, 0)
      acc += d * (lanes(q & 0x0F) * x0 + lanes(q &>> 4) * x1) - (8 * d) * (x0 + x1)
    }

  case .q4_1:  // f16 d, f16 m, u8 qs[16]: sum (d q + m) x = d sum q x + m sum x
    for b in 0..<nb {
      let p = row + b * bb, xb = x + 32 * b
      let q = bytes16(p, 4)
      let x0 = loadX(xb, 0), x1 = loadX(xb, 16)
      acc += half(p, 0) * (lanes(q & 0x0F) * x0 + lanes(q &>> 4) * x1) + half(p, 2) * (x0 + x1)
    }

  case .q5_0:  // f16 d, u32 qh, u8 qs[16]: sum d (q - 16) x
    for b in 0..<nb {
      let p = row + b * bb, xb = x + 32 * b
      let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
      let q = bytes16(p, 6)
      let x0 = loadX(xb, 0), x1 = loadX(xb, 16)
      let lo = lanes((q & 0x0F) | highBits(qh, from: 0)), hi = lanes((q &>> 4) | highBits(qh, from: 16))
      let d = half(p, 0)
      acc += d * (lo * x0 + hi * x1) - (16 * d) * (x0 + x1)
    }

  case .q5_1:  // f16 d, f16 m, u32 qh, u8 qs[16]
    for b in 0..<nb {
      let p = row + b * bb, xb = x + 32 * b
      let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
      let q = bytes16(p, 8)
      let x0 = loadX(xb, 0), x1 = loadX(xb, 16)
      let lo = lanes((q & 0x0F) | highBits(qh, from: 0)), hi = lanes((q &>> 4) | highBits(qh, from: 16))
      acc += half(p, 0) * (lo * x0 + hi * x1) + half(p, 2) * (x0 + x1)
    }

  case .q4_K, .q5_K:  // f16 d, f16 dmin, scales[12], (Q5_K: qh[32]), qs[128]; sub-blocks of 32
    // sum over sub-block j of (d sc_j) sum q x - (dmin m_j) sum x, kept in lanes (no horizontal sums).
    let five = type == .q5_K
    for b in 0..<nb {
      let p = row + b * bb, xb = x + 256 * b
      let (sc, mn) = kScales(p + 4)
      let dsc = half(p, 0) * sc, dmn = half(p, 2) * mn
      let qs = p + (five ? 48 : 16), qh = p + 16
      for chunk in 0..<4 {
        let q0 = bytes16(qs, 32 * chunk), q1 = bytes16(qs, 32 * chunk + 16)
        var lo0 = q0 & 0x0F, hi0 = q0 &>> 4, lo1 = q1 & 0x0F, hi1 = q1 &>> 4
        if five {
          let h0 = bytes16(qh, 0) &>> UInt8(2 * chunk), h1 = bytes16(qh, 16) &>> UInt8(2 * chunk)
          lo0 |= (h0 & 1) &<< 4; hi0 |= ((h0 &>> 1) & 1) &<< 4
          lo1 |= (h1 & 1) &<< 4; hi1 |= ((h1 &>> 1) & 1) &<< 4
        }
        let xc = xb + 64 * chunk
        let xa0 = loadX(xc, 0), xa1 = loadX(xc, 16), xb0 = loadX(xc, 32), xb1 = loadX(xc, 48)
        let qxa: F16x = lanes(lo0) * xa0 + lanes(lo1) * xa1, qxb: F16x = lanes(hi0) * xb0 + lanes(hi1) * xb1
        acc += scaled(dsc[2 * chunk], qxa) - scaled(dmn[2 * chunk], xa0 + xa1)
        acc += scaled(dsc[2 * chunk + 1], qxb) - scaled(dmn[2 * chunk + 1], xb0 + xb1)
      }
    }

  case .q6_K:
    acc = bufferedDot(type, row, x, blocks: nb)

  case .q8_K:  // f32 d, i8 qs[256], i16 bsums[16]
    for b in 0..<nb {
      let p = row + b * bb, xb = x + 256 * b
      var s = F16x()
      for k in 0..<16 { s += signedLanes(bytes16(p, 4 + 16 * k)) * loadX(xb, 16 * k) }
      acc += Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(as: UInt32.self))) * s
    }
  }
  return acc.sum()
}
