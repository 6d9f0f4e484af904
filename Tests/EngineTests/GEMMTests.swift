import Foundation
import Testing
@testable import Engine
#if arch(x86_64)
import AVX512Kernels
#endif

// MARK: - The AVX-512 products against double-precision sums and OpenBLAS's sgemm

@Suite("Batched matrix products (AVX-512 GEMM)")
struct GEMMTests {
  static let skipReason = "skipped: this CPU lacks AVX-512 F/CD/BW/DQ/VL + VNNI (or GUI_AGENT_KERNELS=avx2)"

  /// Random operands with leading dimensions wider than the rows, and a C to accumulate onto.
  struct Operands {
    let m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int
    let a: [Float], b: [Float], c0: [Float]
    init(_ m: Int, _ n: Int, _ k: Int, transposeB: Bool = true, seed: UInt64) {
      self.m = m; self.n = n; self.k = k
      lda = k + 3; ldb = (transposeB ? k : n) + 5; ldc = n + 2
      var rng = SeededGenerator(seed: seed)
      a = (0..<(m * lda)).map { _ in Float(rng.nextUnit() * 2 - 1) }
      b = (0..<((transposeB ? n : k) * ldb)).map { _ in Float(rng.nextUnit() * 2 - 1) }
      c0 = (0..<(m * ldc)).map { _ in Float(rng.nextUnit()) }
    }

    /// Runs `body` on C = c0 and returns C.
    func run(_ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) -> [Float] {
      var c = c0
      a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
        body(ap.baseAddress!, bp.baseAddress!, cp.baseAddress!)
      } } }
      return c
    }
  }

  /// C = alpha A op(B) (+ C) by the float kernel on every edge of its 12 x 32 tile and of its
  /// blocks (k 256, rows 96, columns 512), strided operands, both layouts of B, against
  /// double-precision sums and sgemm; columns past n untouched.
  @Test("AVX-512 float product equals the double-precision sum and sgemm",
        arguments: [(1, 1, 1), (3, 5, 17), (12, 32, 16), (9, 13, 47), (5, 7, 1030), (37, 20, 1152),
                    (101, 530, 300), (2, 3, 0)])
  func floatKernel(shape: (Int, Int, Int)) throws {
    #if arch(x86_64)
    guard CPUFeatures.avx512 else { print(Self.skipReason); return }
    let (m, n, k) = shape
    for transposeB in [true, false] {
      let o = Operands(m, n, k, transposeB: transposeB, seed: UInt64(m * 1000 + n * 10 + k))
      for accumulate in [false, true] {
        let alpha: Float = accumulate ? 0.375 : 1
        let c = o.run { a, b, c in
          AVX512.gemm(m: m, n: n, k: k, alpha: alpha, a: a, lda: o.lda, b: b, ldb: o.ldb, transposeB: transposeB,
                      accumulate: accumulate, c: c, ldc: o.ldc)
        }
        let blas = o.run { a, b, c in
          BLAS.gemm(m: m, n: n, k: k, alpha: alpha, a: a, lda: o.lda, b: b, ldb: o.ldb, transposeB: transposeB,
                    beta: accumulate ? 1 : 0, c: c, ldc: o.ldc)
        }
        let tolerance = 1e-5 * Double(max(k, 1)).squareRoot() + 1e-6
        for r in 0..<m {
          for j in 0..<o.ldc {
            let got = c[r * o.ldc + j]
            guard j < n else { #expect(got == o.c0[r * o.ldc + j], "(\(r), \(j)) beyond n was written"); continue }
            var sum = 0.0
            for t in 0..<k {
              sum += Double(o.a[r * o.lda + t]) * Double(transposeB ? o.b[j * o.ldb + t] : o.b[t * o.ldb + j])
            }
            let ref = Double(alpha) * sum + (accumulate ? Double(o.c0[r * o.ldc + j]) : 0)
            #expect(abs(Double(got) - ref) <= tolerance, "\(shape) B^T \(transposeB) acc \(accumulate) (\(r), \(j)): \(got) vs \(ref)")
            #expect(abs(got - blas[r * o.ldc + j]) <= Float(tolerance) * 2, "\(shape) (\(r), \(j)) vs sgemm")
          }
        }
      }
    }
    #endif
  }

  /// A copied once (`packFloatA`, by two threads' ranges) and multiplied by B^T gives the very
  /// values of the product that copies A itself, on the tile's and blocks' edges; columns past n
  /// untouched.
  @Test("AVX-512 float product with A copied once equals the product that copies it",
        arguments: [(1, 1, 1), (13, 33, 17), (37, 70, 300), (101, 530, 600)])
  func packedFloatKernel(shape: (Int, Int, Int)) throws {
    #if arch(x86_64)
    guard CPUFeatures.avx512 else { print(Self.skipReason); return }
    let (m, n, k) = shape
    let o = Operands(m, n, k, transposeB: true, seed: UInt64(m * 7 + n * 3 + k))
    let direct = o.run { a, b, c in
      AVX512.gemm(m: m, n: n, k: k, a: a, lda: o.lda, b: b, ldb: o.ldb, transposeB: true, accumulate: false, c: c, ldc: o.ldc)
    }
    let count = AVX512.floatPackedCount(m: m, k: k)
    let packed = UnsafeMutablePointer<Float>.allocate(capacity: count)
    defer { packed.deallocate() }
    packed.initialize(repeating: .nan, count: count)  // every value the kernel reads must be written
    let once = o.run { a, b, c in
      let split = min(m, AVX512.floatSliverRows)  // two ranges, as two threads pack them
      AVX512.packFloatA(a, lda: o.lda, m: m, k: k, rows: 0..<split, into: packed)
      AVX512.packFloatA(a, lda: o.lda, m: m, k: k, rows: split..<m, into: packed)
      AVX512.gemm(packedA: packed, m: m, n: n, k: k, b: b, ldb: o.ldb, accumulate: false, c: c, ldc: o.ldc)
    }
    #expect(once == direct, "\(shape): the products differ")
    #expect(!once.contains { $0.isNaN }, "\(shape): an unwritten copy was read")
    #endif
  }

  /// The values of a row's 32-value block as the int8 product sees them: quants round(x 127 / amax)
  /// times amax / 127 (Q8_0's rounding), in double.
  static func rounded(_ x: ArraySlice<Float>) -> [Double] {
    let amax = Double(x.map { abs($0) }.max() ?? 0)
    guard amax > 0 else { return x.map { _ in 0 } }
    let scale = Float(amax) / 127, inverse = 127 / Float(amax)  // in float, as the kernel rounds
    return x.map { Double(($0 * inverse).rounded(.toNearestOrEven)) * Double(scale) }
  }

  #if arch(x86_64)
  /// A (m, k), stride lda, rounded into the int8 kernel's layout for the time of `body`.
  static func withPackedRows(_ a: UnsafePointer<Float>, lda: Int, m: Int, k: Int, _ body: (UnsafeRawPointer) -> Void) {
    let packed = UnsafeMutableRawPointer.allocate(byteCount: AVX512.int8PackedBytes(m: m, k: k), alignment: 64)
    defer { packed.deallocate() }
    AVX512.packInt8A(a, lda: lda, m: m, k: k, rows: 0..<m, into: packed)
    body(packed)
  }
  #endif

  /// `rounded` over each block of the k values of x from `start`.
  static func roundedRow(_ x: [Float], at start: Int, _ k: Int) -> [Double] {
    var row: [Double] = []
    for b in stride(from: start, to: start + k, by: 32) { row += rounded(x[b..<(b + 32)]) }
    return row
  }

  /// The int8 product equals the double-precision sum of the rounded operands (B as floats, and
  /// B as Q8_0, Q4_0 and Q5_0 rows taken as stored), stays within the rounding
  /// noise of the float product, and carries a NaN in a block to the outputs that use it.
  @Test("AVX-512 VNNI int8 product equals the sum of int8-rounded operands",
        arguments: [(1, 1, 32), (5, 7, 64), (6, 32, 256), (13, 45, 288), (101, 530, 320)])
  func int8Kernel(shape: (Int, Int, Int)) throws {
    #if arch(x86_64)
    guard CPUFeatures.avx512 else { print(Self.skipReason); return }
    let (m, n, k) = shape
    let o = Operands(m, n, k, seed: UInt64(7 * m + n + k))
    let ra = (0..<m).map { Self.roundedRow(o.a, at: $0 * o.lda, k) }
    let rb = (0..<n).map { Self.roundedRow(o.b, at: $0 * o.ldb, k) }
    for accumulate in [false, true] {
      let c = o.run { a, b, c in
        Self.withPackedRows(a, lda: o.lda, m: m, k: k) { packed in
          AVX512.gemmInt8(packedA: packed, m: m, n: n, k: k, b: b, ldb: o.ldb, accumulate: accumulate, c: c, ldc: o.ldc)
        }
      }
      for r in 0..<m {
        for j in 0..<o.ldc {
          let got = c[r * o.ldc + j]
          guard j < n else { #expect(got == o.c0[r * o.ldc + j], "(\(r), \(j)) beyond n was written"); continue }
          let base = accumulate ? Double(o.c0[r * o.ldc + j]) : 0
          var sum = 0.0, exact = 0.0
          for t in 0..<k {
            sum += ra[r][t] * rb[j][t]
            exact += Double(o.a[r * o.lda + t]) * Double(o.b[j * o.ldb + t])
          }
          #expect(abs(Double(got) - base - sum) <= 1e-4 * Double(k).squareRoot(), "\(shape) (\(r), \(j)): \(got) vs \(base + sum)")
          // Rounding noise: each operand off by at most half a quant (amax / 254 <= 1 / 254 here).
          #expect(abs(Double(got) - base - exact) <= 2 * Double(k) / 254, "\(shape) (\(r), \(j)) vs the float product")
        }
      }
    }
    // B as Q8_0 / Q4_0 / Q5_0 rows (the project's quantizer, as llama.cpp's): taken as stored, so
    // the product is the sum of A's rounded values times B's dequantized values (the project's
    // dequantizer, checked against gguf-py in DequantTests).
    for (type, blocks) in [(TensorDType.q8_0, AVX512.Int8Blocks.q8_0), (.q4_0, .q4_0), (.q5_0, .q5_0)] {
      let rows = try (0..<n).map { j in try Quantizer.quantize(type, Array(o.b[(j * o.ldb)..<(j * o.ldb + k)]), tensor: "b") }
      let stored = rows.flatMap { $0 }, rowBytes = rows[0].count
      var values = [Float](repeating: 0, count: n * k)  // B as the stored blocks say, (n, k)
      stored.withUnsafeBytes { sb in values.withUnsafeMutableBufferPointer { vp in
        dequantize(type, from: sb.baseAddress!, count: n * k, into: vp.baseAddress!)
      } }
      let got = o.run { a, _, c in
        Self.withPackedRows(a, lda: o.lda, m: m, k: k) { packed in
          stored.withUnsafeBytes { sb in
            AVX512.gemmInt8(packedA: packed, m: m, n: n, k: k, blocks: sb.baseAddress!, type: blocks, rowBytes: rowBytes,
                            accumulate: false, c: c, ldc: o.ldc)
          }
        }
      }
      for r in 0..<m {
        for j in 0..<n {
          var sum = 0.0
          for t in 0..<k { sum += ra[r][t] * Double(values[j * k + t]) }
          #expect(abs(Double(got[r * o.ldc + j]) - sum) <= 1e-4 * Double(k).squareRoot(), "\(shape) \(type) B (\(r), \(j))")
        }
      }
    }
    var nan = Operands(m, n, k, seed: 5)
    var a = nan.a
    a[0] = .nan  // row 0, block 0
    nan = Operands(copying: nan, a: a)
    let c = nan.run { a, b, c in
      Self.withPackedRows(a, lda: nan.lda, m: m, k: k) { packed in
        AVX512.gemmInt8(packedA: packed, m: m, n: n, k: k, b: b, ldb: nan.ldb, accumulate: false, c: c, ldc: nan.ldc)
      }
    }
    #expect((0..<n).allSatisfy { c[$0].isNaN }, "row 0 holds a NaN: every output of it is NaN")
    if m > 1 { #expect((0..<n).allSatisfy { c[nan.ldc + $0].isFinite }, "row 1 has none") }
    #endif
  }
}

extension GEMMTests.Operands {
  init(copying o: Self, a: [Float]) {
    self.m = o.m; self.n = o.n; self.k = o.k; self.lda = o.lda; self.ldb = o.ldb; self.ldc = o.ldc
    self.a = a; self.b = o.b; self.c0 = o.c0
  }
}
