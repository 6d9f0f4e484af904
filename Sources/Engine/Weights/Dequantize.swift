// Dequantization of GGML blocks to float32, exactly as ggml defines it
// (ggml/src/ggml-quants.c `dequantize_row_*`, block structs in ggml-common.h). The order of the
// float operations follows the gguf Python package's `gguf.quants` (e.g. `(d * sc) * q - (dmin * m)`
// for K-quants) so that results match it bitwise; Swift does not fuse `a * b + c` into an FMA
// unless asked, so each step rounds as numpy's does.

// MARK: - Helpers

@inline(__always)
private func f16(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
  floatFromF16(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
}

@inline(__always)
private func byte(_ p: UnsafeRawPointer, _ offset: Int) -> UInt8 {
  p.load(fromByteOffset: offset, as: UInt8.self)
}

/// The 6-bit scale and min of sub-block `j` (0..<8) of a Q4_K/Q5_K block, from its 12 packed
/// scale bytes at `s` (ggml's `get_scale_min_k4`).
@inline(__always)
func kQuantScaleMin(_ s: UnsafeRawPointer, _ j: Int) -> (scale: UInt8, min: UInt8) {
  if j < 4 {
    return (byte(s, j) & 63, byte(s, j + 4) & 63)
  }
  let scale = (byte(s, j + 4) & 0x0F) | ((byte(s, j - 4) >> 6) << 4)
  let min = (byte(s, j + 4) >> 4) | ((byte(s, j) >> 6) << 4)
  return (scale, min)
}

// MARK: - One block

/// Dequantizes one block of `type` at `src` into `type.blockSize` floats at `dst`.
@inline(__always)
func dequantizeBlock(_ type: TensorDType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>) {
  switch type {
  case .f32, .f16, .bf16:
    convertPlainFloats(type, from: src, count: 1, into: dst)

  case .q8_0:  // f16 d, i8 qs[32]: x = q * d
    let d = f16(src, 0)
    for j in 0..<32 { dst[j] = Float(Int8(bitPattern: byte(src, 2 + j))) * d }

  case .q4_0:  // f16 d, u8 qs[16]: x[j] = (lo - 8) * d, x[j + 16] = (hi - 8) * d
    let d = f16(src, 0)
    for j in 0..<16 {
      let q = byte(src, 2 + j)
      dst[j] = d * Float(Int(q & 0x0F) - 8)
      dst[j + 16] = d * Float(Int(q >> 4) - 8)
    }

  case .q4_1:  // f16 d, f16 m, u8 qs[16]: x = d * q + m
    let d = f16(src, 0), m = f16(src, 2)
    for j in 0..<16 {
      let q = byte(src, 4 + j)
      dst[j] = d * Float(q & 0x0F) + m
      dst[j + 16] = d * Float(q >> 4) + m
    }

  case .q5_0:  // f16 d, u32 qh, u8 qs[16]: 5th bit of element j is bit j of qh; x = (q - 16) * d
    let d = f16(src, 0)
    let qh = UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
    for j in 0..<16 {
      let q = byte(src, 6 + j)
      let lo = Int(q & 0x0F) | Int((qh >> UInt32(j)) & 1) << 4
      let hi = Int(q >> 4) | Int((qh >> UInt32(j + 16)) & 1) << 4
      dst[j] = d * Float(lo - 16)
      dst[j + 16] = d * Float(hi - 16)
    }

  case .q5_1:  // f16 d, f16 m, u32 qh, u8 qs[16]: x = d * q + m
    let d = f16(src, 0), m = f16(src, 2)
    let qh = UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
    for j in 0..<16 {
      let q = byte(src, 8 + j)
      let lo = Int(q & 0x0F) | Int((qh >> UInt32(j)) & 1) << 4
      let hi = Int(q >> 4) | Int((qh >> UInt32(j + 16)) & 1) << 4
      dst[j] = d * Float(lo) + m
      dst[j + 16] = d * Float(hi) + m
    }

  case .q4_K, .q5_K:
    // f16 d, f16 dmin, scales[12], (Q5_K: qh[32]), qs[128]; 8 sub-blocks of 32, x = (d sc) q - (dmin m).
    // Byte l of 32-byte chunk c holds sub-block 2c (low nibble) and 2c+1 (high nibble); for Q5_K
    // the 5th bit of sub-block k is bit k of qh[l].
    let five = type == .q5_K
    let d = f16(src, 0), dmin = f16(src, 2)
    let scales = src + 4, qh = src + 16, qs = src + (five ? 48 : 16)
    for chunk in 0..<4 {
      let (s0, m0) = kQuantScaleMin(scales, 2 * chunk)
      let (s1, m1) = kQuantScaleMin(scales, 2 * chunk + 1)
      let d0 = d * Float(s0), dm0 = dmin * Float(m0)
      let d1 = d * Float(s1), dm1 = dmin * Float(m1)
      let out = dst + 64 * chunk
      for l in 0..<32 {
        let q = byte(qs, 32 * chunk + l)
        var lo = q & 0x0F, hi = q >> 4
        if five {
          let h = byte(qh, l)
          lo |= ((h >> UInt8(2 * chunk)) & 1) << 4
          hi |= ((h >> UInt8(2 * chunk + 1)) & 1) << 4
        }
        out[l] = d0 * Float(lo) - dm0
        out[l + 32] = d1 * Float(hi) - dm1
      }
    }

  case .q6_K:  // ql[128], qh[64], i8 scales[16], f16 d; two halves of 128
    let d = f16(src, 208)
    for half in 0..<2 {
      let ql = src + 64 * half, qh = src + 128 + 32 * half, sc = src + 192 + 8 * half
      let out = dst + 128 * half
      for l in 0..<32 {
        let sub = l / 16
        let a = byte(ql, l), b = byte(ql, l + 32), h = byte(qh, l)
        let q1 = Int((a & 0x0F) | ((h >> 0) & 3) << 4) - 32
        let q2 = Int((b & 0x0F) | ((h >> 2) & 3) << 4) - 32
        let q3 = Int((a >> 4) | ((h >> 4) & 3) << 4) - 32
        let q4 = Int((b >> 4) | ((h >> 6) & 3) << 4) - 32
        out[l] = d * Float(Int8(bitPattern: byte(sc, sub))) * Float(q1)
        out[l + 32] = d * Float(Int8(bitPattern: byte(sc, sub + 2))) * Float(q2)
        out[l + 64] = d * Float(Int8(bitPattern: byte(sc, sub + 4))) * Float(q3)
        out[l + 96] = d * Float(Int8(bitPattern: byte(sc, sub + 6))) * Float(q4)
      }
    }

  case .q8_K:  // f32 d, i8 qs[256], i16 bsums[16] (bsums only speed up dot products)
    let d = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(as: UInt32.self)))
    for j in 0..<256 { dst[j] = d * Float(Int8(bitPattern: byte(src, 4 + j))) }
  }
}

// MARK: - Rows

/// Dequantizes `count` elements (a multiple of `type.blockSize`) stored at `src` into `dst`.
func dequantize(_ type: TensorDType, from src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
  if !type.isQuantized {
    convertPlainFloats(type, from: src, count: count, into: dst)
    return
  }
  let bs = type.blockSize, bb = type.blockBytes
  for b in 0..<count / bs {
    dequantizeBlock(type, src + b * bb, dst + b * bs)
  }
}
