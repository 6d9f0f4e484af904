#if arch(x86_64)
import AVX512Kernels
#endif

// MARK: - Batched matrix products, by the fastest kernel the CPU runs

enum GEMM {
  /// C (m, n) = A (m, k) B^T, plus C where `accumulate`; B stored (n, k), as a Linear's weight.
  /// With AVX-512 (`CPUFeatures.avx512`) the module AVX512Kernels' 512-bit kernel takes it (this
  /// environment holds OpenBLAS to its AVX2 kernels); otherwise OpenBLAS's sgemm. Single-threaded.
  /// `int8` (quantized weights, as llama.cpp takes them): with AVX-512 VNNI and k a multiple of 32,
  /// both operands are rounded to int8 blocks of 32 and multiplied with `vpdpbusd`
  /// (`AVX512.gemmTransposedBInt8`); elsewhere the float product.
  @inline(__always)
  static func transposedB(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                          b: UnsafePointer<Float>, ldb: Int, accumulate: Bool,
                          c: UnsafeMutablePointer<Float>, ldc: Int, int8: Bool = false) {
    #if arch(x86_64)
    if CPUFeatures.avx512 && int8 && k % 32 == 0 {
      AVX512.gemmTransposedBInt8(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, accumulate: accumulate, c: c, ldc: ldc)
      return
    }
    #endif
    product(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, transposeB: true, accumulate: accumulate, c: c, ldc: ldc)
  }

  /// C (m, n) = alpha A (m, k) op(B) (+ C where `accumulate`), op(B) = B^T for B stored (n, k)
  /// when `transposeB`, else B stored (k, n); row-major, leading dimensions given (attention's
  /// heads inside interleaved rows). The AVX-512 kernel where the CPU has it, else OpenBLAS.
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
}
