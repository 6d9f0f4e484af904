import Foundation
import Testing
@testable import Engine
#if arch(x86_64)
import AVX512Kernels
#endif

// MARK: - The AVX-512 product against OpenBLAS's sgemm and a double-precision sum

@Suite("Batched Linear product (GEMM)")
struct GEMMTests {
  /// C = A B^T (+ C) by the AVX-512 kernel on every edge of its 4 x 6 tile, k tails and blocks,
  /// strided operands and accumulation, against double-precision sums; and against sgemm.
  @Test("AVX-512 A B^T equals the double-precision product, edges and strides included",
        arguments: [(1, 1, 1), (3, 5, 17), (4, 6, 16), (9, 13, 47), (5, 7, 1030), (37, 20, 1152), (101, 530, 300), (2, 3, 0)])
  func avx512MatchesReference(shape: (Int, Int, Int)) throws {
    #if arch(x86_64)
    guard CPUFeatures.avx512 else {
      print("skipped: this CPU lacks AVX-512 F/CD/BW/DQ/VL + VNNI (or GUI_AGENT_KERNELS=avx2)")
      return
    }
    let (m, n, k) = shape
    let lda = k + 3, ldb = k + 5, ldc = n + 2
    var rng = SeededGenerator(seed: UInt64(m * 1000 + n * 10 + k))
    let a = (0..<(m * lda)).map { _ in Float(rng.nextUnit() * 2 - 1) }
    let b = (0..<(n * ldb)).map { _ in Float(rng.nextUnit() * 2 - 1) }
    let c0 = (0..<(m * ldc)).map { _ in Float(rng.nextUnit()) }
    for accumulate in [false, true] {
      var c = c0, blas = c0
      a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
        c.withUnsafeMutableBufferPointer { cp in blas.withUnsafeMutableBufferPointer { sp in
          AVX512.gemmTransposedB(m: m, n: n, k: k, a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb,
                                 accumulate: accumulate, c: cp.baseAddress!, ldc: ldc)
          BLAS.gemm(m: m, n: n, k: k, a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb,
                    transposeB: true, beta: accumulate ? 1 : 0, c: sp.baseAddress!, ldc: ldc)
        } }
      } }
      for r in 0..<m {
        for j in 0..<ldc {
          let got = c[r * ldc + j]
          guard j < n else {
            #expect(got == c0[r * ldc + j], "(\(r), \(j)) beyond n was written"); continue
          }
          var ref = accumulate ? Double(c0[r * ldc + j]) : 0
          for t in 0..<k { ref += Double(a[r * lda + t]) * Double(b[j * ldb + t]) }
          let tolerance = 2e-6 * Double(max(k, 1)).squareRoot() * 4 + 1e-6
          #expect(abs(Double(got) - ref) <= tolerance, "\(shape) acc \(accumulate) (\(r), \(j)): \(got) vs \(ref)")
          #expect(abs(got - blas[r * ldc + j]) <= Float(tolerance) * 2, "\(shape) (\(r), \(j)) vs sgemm")
        }
      }
    }
    #endif
  }
}
