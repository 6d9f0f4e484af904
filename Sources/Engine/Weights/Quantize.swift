// Float32 rows -> GGML blocks, bit for bit as ggml's reference quantizers write them
// (ggml/src/ggml-quants.c `quantize_row_*_ref`, which llama-quantize runs when no importance
// matrix is given, and which gguf-py's numpy quantizers reproduce for Q8_0/Q4_0/Q5_0/Q5_1).
// Every float operation keeps the reference's order and is rounded separately (Swift does not
// fuse `a * b + c`); f32 -> f16 rounds to nearest even as GGML_FP32_TO_FP16 and numpy do.
// The block layouts are those `Dequantize.swift` reads. K-quants are in QuantizeK.swift.

// MARK: - Entry point

/// Quantizes rows of float32 weights into a GGML type.
public enum Quantizer {
  /// The types this file can write.
  public static let writableTypes: [TensorDType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K]

  /// Quantizes `src` (a whole number of blocks) into `dst` (`type.rowBytes(src.count)` bytes).
  /// - Parameter tensor: the tensor's name, for errors.
  /// - Throws: `invalidArgument` naming `tensor` for a NaN or infinity in `src`, a value or block
  ///   scale beyond the target's range (f16 tops out at 65504), a count that is not a whole number
  ///   of blocks or a type this file cannot write.
  public static func quantize(_ type: TensorDType, _ src: UnsafeBufferPointer<Float>, into dst: UnsafeMutableRawBufferPointer,
                              tensor: String) throws(EngineError) {
    guard writableTypes.contains(type) else { throw .invalidArgument("tensor '\(tensor)': cannot quantize to \(type)") }
    guard let bytes = type.rowBytes(src.count), dst.count == bytes else {
      throw .invalidArgument("tensor '\(tensor)': \(src.count) values do not fill whole \(type) blocks of \(type.blockSize) (or the output is not \(type.rowBytes(src.count) ?? 0) bytes)")
    }
    guard let x = src.baseAddress, let y = dst.baseAddress else { return }
    if let bad = src.firstIndex(where: { !$0.isFinite }) {
      throw .invalidArgument("tensor '\(tensor)': value \(src[bad]) at element \(bad) is not finite; a weight with NaN or infinity cannot be quantized")
    }
    var overflow = false
    let bs = type.blockSize, bb = type.blockBytes
    switch type {
    case .f32: y.copyMemory(from: x, byteCount: 4 * src.count)
    case .f16: for i in 0..<src.count { store16(halfBits(x[i], &overflow), y, 2 * i) }
    case .bf16: for i in 0..<src.count { store16(bfloat16Bits(x[i], &overflow), y, 2 * i) }
    default:
      for b in 0..<src.count / bs {
        let xb = x + b * bs, yb = y + b * bb
        switch type {
        case .q8_0: quantizeQ8_0(xb, yb, &overflow)
        case .q4_0: quantizeQ4_0(xb, yb, &overflow)
        case .q5_0: quantizeQ5_0(xb, yb, &overflow)
        case .q5_1: quantizeQ5_1(xb, yb, &overflow)
        case .q4_K: quantizeQ4_K(xb, yb, &overflow)
        case .q5_K: quantizeQ5_K(xb, yb, &overflow)
        case .q6_K: quantizeQ6_K(xb, yb, &overflow)
        default: break  // excluded by `writableTypes`
        }
      }
    }
    if overflow {
      let peak = src.map(abs).max() ?? 0
      throw .invalidArgument("tensor '\(tensor)': values up to \(peak) overflow the f16 \(type.isQuantized ? "block scales of \(type)" : "range") (at most 65504); choose another type")
    }
  }

  /// `quantize` into a new byte array.
  public static func quantize(_ type: TensorDType, _ values: [Float], tensor: String) throws(EngineError) -> [UInt8] {
    guard let n = type.rowBytes(values.count) else {
      throw .invalidArgument("tensor '\(tensor)': \(values.count) values do not fill whole \(type) blocks of \(type.blockSize)")
    }
    var out = [UInt8](repeating: 0, count: n)
    var failure: EngineError?
    values.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBytes { dst in
        do throws(EngineError) { try quantize(type, src, into: dst, tensor: tensor) } catch { failure = error }
      }
    }
    if let failure { throw failure }
    return out
  }
}

// MARK: - Scalars

/// f32 -> IEEE binary16 bits, round to nearest even (GGML_FP32_TO_FP16); sets `overflow` when
/// a finite value becomes infinite.
@inline(__always)
func halfBits(_ x: Float, _ overflow: inout Bool) -> UInt16 {
  let h = Float16(x)
  if h.isInfinite && x.isFinite { overflow = true }
  return h.bitPattern
}

/// f32 -> bfloat16 bits, round to nearest even (ggml_compute_fp32_to_bf16; inputs are finite).
@inline(__always)
func bfloat16Bits(_ x: Float, _ overflow: inout Bool) -> UInt16 {
  let u = x.bitPattern
  let r = UInt16(truncatingIfNeeded: (UInt64(u) + UInt64(0x7FFF + ((u >> 16) & 1))) >> 16)
  if r & 0x7FFF == 0x7F80 { overflow = true }
  return r
}

/// Float -> Int truncating toward zero, as C's float-to-int cast; 0 where that cast is
/// undefined (NaN, out of range: a block of subnormals makes `1 / d` infinite), which is what
/// x86's cvttss2si yields once narrowed to a byte.
@inline(__always)
func ftoi(_ v: Float) -> Int {
  v > -2_147_483_648 && v < 2_147_483_648 ? Int(v) : 0
}

@inline(__always)
func store16(_ v: UInt16, _ p: UnsafeMutableRawPointer, _ offset: Int) {
  p.storeBytes(of: v.littleEndian, toByteOffset: offset, as: UInt16.self)
}

// MARK: - 32-element blocks

/// Q8_0 (f16 d, i8 qs[32]): d = amax / 127, q = round(x / d) half away from zero.
@inline(__always)
func quantizeQ8_0(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ overflow: inout Bool) {
  var amax: Float = 0
  for j in 0..<32 { amax = max(amax, abs(x[j])) }
  let d = amax / 127
  let id: Float = d != 0 ? 1 / d : 0
  store16(halfBits(d, &overflow), y, 0)
  for j in 0..<32 {
    let q = ftoi((x[j] * id).rounded(.toNearestOrAwayFromZero))
    y.storeBytes(of: Int8(truncatingIfNeeded: q), toByteOffset: 2 + j, as: Int8.self)
  }
}

/// The element of largest magnitude (the first of equals), as `quantize_row_q4_0_ref` finds it.
@inline(__always)
private func signedAbsMax(_ x: UnsafePointer<Float>) -> Float {
  var amax: Float = 0, m: Float = 0
  for j in 0..<32 where amax < abs(x[j]) { amax = abs(x[j]); m = x[j] }
  return m
}

/// Q4_0 (f16 d, u8 qs[16]): d = max / -8, q = min(15, trunc(x / d + 8.5)); element j in the low
/// nibble of byte j, element j + 16 in its high nibble.
@inline(__always)
func quantizeQ4_0(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ overflow: inout Bool) {
  let d = signedAbsMax(x) / -8
  let id: Float = d != 0 ? 1 / d : 0
  store16(halfBits(d, &overflow), y, 0)
  for j in 0..<16 {
    let q0 = min(15, ftoi(x[j] * id + 8.5)), q1 = min(15, ftoi(x[j + 16] * id + 8.5))
    y.storeBytes(of: UInt8(truncatingIfNeeded: (q0 & 0x0F) | (q1 & 0x0F) << 4), toByteOffset: 2 + j, as: UInt8.self)
  }
}

/// Q5_0 (f16 d, u32 qh, u8 qs[16]): d = max / -16, q = min(31, trunc(x / d + 16.5)); the low
/// nibbles as Q4_0, the fifth bit of element j in bit j of qh.
@inline(__always)
func quantizeQ5_0(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ overflow: inout Bool) {
  let d = signedAbsMax(x) / -16
  let id: Float = d != 0 ? 1 / d : 0
  store16(halfBits(d, &overflow), y, 0)
  var qh: UInt32 = 0
  for j in 0..<16 {
    let q0 = min(31, ftoi(x[j] * id + 16.5)), q1 = min(31, ftoi(x[j + 16] * id + 16.5))
    y.storeBytes(of: UInt8(truncatingIfNeeded: (q0 & 0x0F) | (q1 & 0x0F) << 4), toByteOffset: 6 + j, as: UInt8.self)
    qh |= UInt32(q0 >> 4 & 1) << UInt32(j) | UInt32(q1 >> 4 & 1) << UInt32(j + 16)
  }
  y.storeBytes(of: qh.littleEndian, toByteOffset: 2, as: UInt32.self)
}

/// Q5_1 (f16 d, f16 m, u32 qh, u8 qs[16]): m = min, d = (max - min) / 31, q = trunc((x - m) / d + 0.5).
@inline(__always)
func quantizeQ5_1(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, _ overflow: inout Bool) {
  var lo = Float.greatestFiniteMagnitude, hi = -Float.greatestFiniteMagnitude
  for j in 0..<32 {
    if x[j] < lo { lo = x[j] }
    if x[j] > hi { hi = x[j] }
  }
  let d = (hi - lo) / 31
  let id: Float = d != 0 ? 1 / d : 0
  store16(halfBits(d, &overflow), y, 0)
  store16(halfBits(lo, &overflow), y, 2)
  var qh: UInt32 = 0
  for j in 0..<16 {
    let q0 = min(31, ftoi((x[j] - lo) * id + 0.5)), q1 = min(31, ftoi((x[j + 16] - lo) * id + 0.5))
    y.storeBytes(of: UInt8(truncatingIfNeeded: (q0 & 0x0F) | (q1 & 0x0F) << 4), toByteOffset: 8 + j, as: UInt8.self)
    qh |= UInt32(q0 >> 4 & 1) << UInt32(j) | UInt32(q1 >> 4 & 1) << UInt32(j + 16)
  }
  y.storeBytes(of: qh.littleEndian, toByteOffset: 4, as: UInt32.self)
}
