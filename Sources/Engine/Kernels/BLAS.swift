import COpenBLAS

// MARK: - Matrix products through OpenBLAS
//
// Every weight is stored as PyTorch writes a Linear: W (out, in) row-major. A batch of rows
// x (n, in) times W^T is one sgemm with B transposed; a single row is one sgemv.

/// Thin, shape-checked wrappers over `cblas_sgemm` / `cblas_sgemv` (row-major).
public enum BLAS {
  /// Sets the number of threads OpenBLAS uses for one product.
  public static func setThreads(_ count: Int) {
    openblas_set_num_threads(Int32(max(1, count)))
  }

  /// out (m,) = W (m, k) @ x (k,) + beta * out: one decode-time product (memory bound).
  @inline(__always)
  static func gemv(_ w: UnsafePointer<Float>, rows m: Int, columns k: Int, _ x: UnsafePointer<Float>,
                   beta: Float, _ out: UnsafeMutablePointer<Float>) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(m), Int32(k), 1, w, Int32(k), x, 1, beta, out, 1)
  }

  /// General strided product C (m, n) = alpha * A (m, k) @ op(B) + beta * C, with leading
  /// dimensions given, for attention over one head inside interleaved (tokens, heads*hd) rows.
  /// `transposeB`: B is stored (n, k) and used as B^T.
  @inline(__always)
  static func gemm(
    m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                beta, c, Int32(ldc))
  }
}
