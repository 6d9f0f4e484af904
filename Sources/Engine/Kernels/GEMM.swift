#if arch(x86_64)
import AVX512Kernels
#endif

// MARK: - Batched matrix products, by the fastest kernel the CPU runs

enum GEMM {
  /// C (m, n) = alpha A (m, k) op(B) (+ C where `accumulate`), op(B) = B^T for B stored (n, k)
  /// when `transposeB` (a Linear's weight), else B stored (k, n); row-major, leading dimensions
  /// given (attention's heads inside interleaved rows). Single-threaded. With AVX-512
  /// (`CPUFeatures.avx512`) the module AVX512Kernels' kernel takes it (this environment holds
  /// OpenBLAS to its AVX2 kernels); otherwise OpenBLAS's sgemm. (Quantized weights in prefill take
  /// the int8 product instead: `PackedInt8Rows`.)
  @inline(__always)
  static func product(m: Int, n: Int, k: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                      b: UnsafePointer<Float>, ldb: Int, transposeB: Bool, accumulate: Bool = false,
                      c: UnsafeMutablePointer<Float>, ldc: Int) {
    #if arch(x86_64)
    if CPUFeatures.avx512 {
      AVX512.gemm(m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, transposeB: transposeB,
                  accumulate: accumulate, c: c, ldc: ldc)
      return
    }
    #endif
    BLAS.gemm(m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, transposeB: transposeB,
              beta: accumulate ? 1 : 0, c: c, ldc: ldc)
  }

  /// Activation rows rounded once to the int8 kernel's layout and shared by the threads that
  /// multiply them by blocks of a quantized weight (`QuantizedMatrix.linearProduct`'s prefill):
  /// both operands in int8 blocks of 32, multiplied with `vpdpbusd` (`AVX512.gemmInt8`), as
  /// llama.cpp multiplies Q8_0-rounded activations. nil where that kernel does not run (no
  /// AVX-512 VNNI, or k not a multiple of 32): the float product then.
  final class PackedInt8Rows: @unchecked Sendable {  // written once in init, then only read
    let rows: Int, k: Int
    #if arch(x86_64)
    private let area: UnsafeMutableRawPointer

    init?(_ x: UnsafePointer<Float>, rows: Int, k: Int, threads: Int) {
      guard CPUFeatures.avx512, rows > 0, k > 0, k % 32 == 0 else { return nil }
      self.rows = rows; self.k = k
      area = UnsafeMutableRawPointer.allocate(byteCount: AVX512.int8PackedBytes(m: rows, k: k), alignment: 64)
      let unit = AVX512.int8SliverRows, slivers = (rows + unit - 1) / unit
      let target = UnsafeMutableRawPointer(area)  // each thread writes its own slivers
      Parallel.ranges(slivers, threads: threads, minimumPerRange: 4) { part in
        AVX512.packInt8A(x, lda: k, m: rows, k: k, rows: (part.lowerBound * unit)..<min(rows, part.upperBound * unit), into: target)
      }
    }

    deinit { area.deallocate() }

    /// C (rows, n) = these rows times B^T, B stored (n, k) (float, rounded as it is read), C's
    /// row stride ldc.
    func times(_ b: UnsafePointer<Float>, n: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
      AVX512.gemmInt8(packedA: area, m: rows, n: n, k: k, b: b, ldb: k, accumulate: false, c: c, ldc: ldc)
    }

    /// The same with B given as n rows of `type` blocks `rowBytes` apart, taken as stored: true
    /// for the types whose blocks are int8 as they stand (Q8_0, Q4_0, Q5_0), false (nothing done)
    /// for the others.
    func times(blocks b: UnsafeRawPointer, type: TensorDType, rowBytes: Int, n: Int, c: UnsafeMutablePointer<Float>,
               ldc: Int) -> Bool {
      let blocks: AVX512.Int8Blocks
      switch type {
      case .q8_0: blocks = .q8_0
      case .q4_0: blocks = .q4_0
      case .q5_0: blocks = .q5_0
      default: return false
      }
      AVX512.gemmInt8(packedA: area, m: rows, n: n, k: k, blocks: b, type: blocks, rowBytes: rowBytes,
                      accumulate: false, c: c, ldc: ldc)
      return true
    }
    #else
    init?(_ x: UnsafePointer<Float>, rows: Int, k: Int, threads: Int) { return nil }
    func times(_ b: UnsafePointer<Float>, n: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {}
    func times(blocks b: UnsafeRawPointer, type: TensorDType, rowBytes: Int, n: Int, c: UnsafeMutablePointer<Float>,
               ldc: Int) -> Bool { false }
    #endif
  }

  /// Activation rows copied once to the float kernel's layout and shared by the threads that
  /// multiply them by blocks of a weight widened to float32 (`QuantizedMatrix.linearProduct`'s
  /// prefill for f16 / bf16 weights and the block types without an int8 product): each block's
  /// `product` would copy all of them again. nil without AVX-512 (OpenBLAS then).
  final class PackedRows: @unchecked Sendable {  // written once in init, then only read
    let rows: Int, k: Int
    #if arch(x86_64)
    private let area: UnsafeMutableRawPointer

    init?(_ x: UnsafePointer<Float>, rows: Int, k: Int, threads: Int) {
      guard CPUFeatures.avx512, rows > 0, k > 0 else { return nil }
      self.rows = rows; self.k = k
      let count = AVX512.floatPackedCount(m: rows, k: k)
      area = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64)
      let target = area.bindMemory(to: Float.self, capacity: count)  // each thread writes its own slivers
      let unit = AVX512.floatSliverRows, slivers = (rows + unit - 1) / unit
      Parallel.ranges(slivers, threads: threads, minimumPerRange: 4) { part in
        AVX512.packFloatA(x, lda: k, m: rows, k: k, rows: (part.lowerBound * unit)..<min(rows, part.upperBound * unit),
                     into: target)
      }
    }

    deinit { area.deallocate() }

    /// C (rows, n) = these rows times B^T, B stored (n, k) in float32, C's row stride ldc.
    func times(_ b: UnsafePointer<Float>, n: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
      AVX512.gemm(packedA: area.assumingMemoryBound(to: Float.self), m: rows, n: n, k: k, b: b, ldb: k,
                  accumulate: false, c: c, ldc: ldc)
    }
    #else
    init?(_ x: UnsafePointer<Float>, rows: Int, k: Int, threads: Int) { return nil }
    func times(_ b: UnsafePointer<Float>, n: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {}
    #endif
  }
}
