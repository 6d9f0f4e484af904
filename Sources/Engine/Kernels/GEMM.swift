#if arch(x86_64)
import AVX512Kernels
#endif

// MARK: - The batched Linear product, by the fastest kernel the CPU runs

enum GEMM {
  /// C (m, n) = A (m, k) B^T, plus C where `accumulate`; B stored (n, k), as a Linear's weight.
  /// With AVX-512 (`CPUFeatures.avx512`) the module AVX512Kernels' 512-bit kernel takes it (this
  /// environment holds OpenBLAS to its AVX2 kernels); otherwise OpenBLAS's sgemm. Single-threaded.
  @inline(__always)
  static func transposedB(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                          b: UnsafePointer<Float>, ldb: Int, accumulate: Bool,
                          c: UnsafeMutablePointer<Float>, ldc: Int) {
    #if arch(x86_64)
    if CPUFeatures.avx512 {
      AVX512.gemmTransposedB(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, accumulate: accumulate, c: c, ldc: ldc)
      return
    }
    #endif
    BLAS.gemm(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, transposeB: true,
              beta: accumulate ? 1 : 0, c: c, ldc: ldc)
  }
}
