// Exact conversions of 16-bit float formats to Float, shared by the safetensors and GGUF readers.
// Both are exact: every f16 and bf16 value is representable in f32.

// MARK: - Scalars

/// IEEE 754 binary16 bits to Float (exact; NaN payloads kept, as `Float16` conversion does).
@inline(__always)
func floatFromF16(_ bits: UInt16) -> Float {
  Float(Float16(bitPattern: bits))
}

/// bfloat16 bits to Float: bf16 is the upper half of an f32 (matches torch's bf16 -> f32).
@inline(__always)
func floatFromBF16(_ bits: UInt16) -> Float {
  Float(bitPattern: UInt32(bits) << 16)
}

// MARK: - Buffers

/// Converts `count` little-endian elements of a plain float type at `src` (any alignment) into `dst`.
/// - Parameters:
///   - dtype: `.f32`, `.f16` or `.bf16`; other types are not plain floats (callers check).
///   - src: the stored bytes, `count * elementSize` long.
///   - dst: `count` floats.
func convertPlainFloats(_ dtype: TensorDType, from src: UnsafeRawPointer, count: Int,
                        into dst: UnsafeMutablePointer<Float>) {
  switch dtype {
  case .f32:
    // Memcpy because safetensors data offsets need not be 4-byte aligned.
    dst.withMemoryRebound(to: UInt8.self, capacity: count * 4) { d in
      d.update(from: src.assumingMemoryBound(to: UInt8.self), count: count * 4)
    }
  case .f16:  // 16 at a time (`loadHalf16`: one `vcvtph2ps` per 8 on x86-64), then one by one
    var i = 0
    while i + 16 <= count { store16(loadHalf16(src + 2 * i), dst + i); i += 16 }
    while i < count {
      dst[i] = floatFromF16(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
      i += 1
    }
  case .bf16:
    for i in 0..<count {
      dst[i] = floatFromBF16(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
    }
  default:
    // Not a plain float type: callers reject these first; zeros keep `dst` initialized.
    dst.initialize(repeating: 0, count: count)
  }
}

/// `convertPlainFloats` into a new array.
func plainFloats(_ dtype: TensorDType, from src: UnsafeRawPointer, count: Int) -> [Float] {
  [Float](unsafeUninitializedCapacity: count) { buf, n in
    if let base = buf.baseAddress { convertPlainFloats(dtype, from: src, count: count, into: base) }
    n = count
  }
}
