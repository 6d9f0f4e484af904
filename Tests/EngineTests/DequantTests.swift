import Foundation
import Testing
@testable import Engine

// Fixtures: scripts/fixtures/make_weight_fixtures.py. `types.gguf` is written by gguf.GGUFWriter;
// Q8_0/Q4_0/Q4_1/Q5_0/Q5_1 are `gguf.quants.quantize` of random rows, K-quants are random valid
// blocks; the expected floats are `gguf.quants.dequantize` (Q8_K: d * q in numpy, the package has
// no Q8_K dequantizer). Dequantization must match bitwise.

private let dir = "gguf"
private let quantNames = ["quant.q8_0", "quant.q4_0", "quant.q4_1", "quant.q5_0", "quant.q5_1",
                          "quant.q4_k", "quant.q5_k", "quant.q6_k", "quant.q8_k"]
private let plainNames = ["plain.f32_3d", "plain.f16", "plain.bf16", "plain.f32_1d"]

private func typesFile() throws -> GGUFFile {
  try GGUFFile(url: WeightFixtures.url("types", "gguf", dir))
}

// MARK: - Dequantization against gguf.quants

@Suite struct DequantTests {
  @Test(arguments: quantNames + plainNames)
  func dequantizeMatchesGGUFPackageBitwise(_ name: String) throws {
    let file = try typesFile()
    let expected = try WeightFixtures.expectedFloats(name, dir)
    let got = try file.floats(name)
    #expect(got.count == expected.count)
    let mismatches = zip(got, expected).enumerated().filter { $0.element.0.bitPattern != $0.element.1.bitPattern }
    #expect(mismatches.isEmpty, "\(name): \(mismatches.count) mismatches, first \(mismatches.first.map { "\($0)" } ?? "")")
  }

  @Test func everyTypeIsCovered() throws {
    let file = try typesFile()
    let types = Set(file.tensors.map(\.type))
    #expect(types == Set(TensorDType.allCases))
  }

  @Test func matrixDequantizedEqualsFloats() throws {
    let file = try typesFile()
    for name in quantNames {
      let m = try file.matrix(name)
      #expect(WeightFixtures.bits(m.dequantized()) == WeightFixtures.bits(try file.floats(name)), "\(name)")
    }
  }
}

// MARK: - Quantized dot products and matrix-vector products

/// `W x` in Double from the package's dequantized floats: the reference for the quantized kernels.
private func referenceMatVec(_ w: [Float], rows: Int, columns: Int, _ x: [Float]) -> [Double] {
  (0..<rows).map { r in (0..<columns).reduce(0.0) { $0 + Double(w[r * columns + $1]) * Double(x[$1]) } }
}

/// Largest |got - ref| relative to the row's sum of |w_i x_i| (the scale of rounding error).
private func worstRelativeError(_ got: [Float], _ ref: [Double], _ w: [Float], columns: Int, _ x: [Float]) -> Double {
  var worst = 0.0
  for r in 0..<ref.count {
    let scale = (0..<columns).reduce(0.0) { $0 + abs(Double(w[r * columns + $1]) * Double(x[$1])) }
    worst = worse(worst, abs(Double(got[r]) - ref[r]) / max(scale, 1e-30))
  }
  return worst
}

private func randomVector(_ n: Int, seed: UInt64) -> [Float] {
  var g = WeightTestRNG(seed)
  return (0..<n).map { _ in Float(g.nextUnit() * 2 - 1) }
}

/// A small deterministic generator (tests must not depend on the system RNG).
struct WeightTestRNG {
  private var state: UInt64
  init(_ seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

@Suite struct QuantizedMatVecTests {
  @Test(arguments: quantNames + plainNames)
  func matVecMatchesDequantizedDot(_ name: String) throws {
    let file = try typesFile()
    let m = try file.matrix(name)
    let w = try WeightFixtures.expectedFloats(name, dir)
    let x = randomVector(m.columns, seed: 7)
    let y = try m.multiply(x)
    let ref = referenceMatVec(w, rows: m.rows, columns: m.columns, x)
    let err = worstRelativeError(y, ref, w, columns: m.columns, x)
    #expect(err < 1e-5, "\(name): relative error \(err)")
    // One row through `dot` gives the same value as the product.
    let d0 = try x.withUnsafeBufferPointer { try m.dot(row: 0, $0) }
    #expect(d0 == y[0])
  }

  /// A matrix big enough to be split across threads: the fixture's rows repeated.
  @Test(arguments: ["quant.q4_0", "quant.q4_k", "quant.q6_k", "quant.q8_0", "plain.f16"])
  func threadedMatVecMatchesReference(_ name: String) throws {
    let file = try typesFile()
    let t = try #require(file.tensor(name))
    let raw = try file.withRawBytes(name) { [UInt8]($0) }
    let repeats = (1 << 19) / raw.count + 1
    let bytes = [UInt8]((0..<repeats).map { _ in raw }.joined())
    let m = try QuantizedMatrix(type: t.type, rows: t.rowCount * repeats, columns: t.rowLength, bytes: bytes)
    let x = randomVector(m.columns, seed: 11)
    let y = try m.multiply(x)
    let w1 = try WeightFixtures.expectedFloats(name, dir)
    let ref1 = referenceMatVec(w1, rows: t.rowCount, columns: t.rowLength, x)
    let sampled = stride(from: 0, to: m.rows, by: 97).map { $0 }
    let base = sampled.map { $0 % t.rowCount }
    let w = base.flatMap { w1[$0 * t.rowLength..<($0 + 1) * t.rowLength] }
    let err = worstRelativeError(sampled.map { y[$0] }, base.map { ref1[$0] }, w, columns: t.rowLength, x)
    #expect(err < 1e-5, "\(name): relative error \(err) over \(m.rows) rows")
    #expect(y[m.rows - 1] == y[t.rowCount - 1])
  }

  /// A source that only knows floats gets the default f32 `matrix`; file-backed ones keep their type.
  @Test func matrixThroughTheProtocol() throws {
    struct InMemory: WeightSource {
      let tensorNames = ["w"]
      func info(_ name: String) -> TensorInfo? { name == "w" ? TensorInfo(name: "w", dtype: .f32, shape: [2, 3]) : nil }
      func floats(_ name: String) throws(EngineError) -> [Float] {
        guard name == "w" else { throw .missingTensor(name) }
        return [1, 2, 3, 4, 5, 6]
      }
    }
    let m = try InMemory().matrix("w")
    #expect(m.type == .f32 && m.rows == 2 && m.columns == 3)
    #expect(try m.multiply([1, 0, -1]) == [-2, -2])
    #expect(throws: EngineError.missingTensor("v")) { try InMemory().matrix("v") }
    let source: any WeightSource = try typesFile()
    #expect(try source.matrix("quant.q4_k").type == .q4_K)
  }

  @Test func rejectsMismatchedSizes() throws {
    #expect(throws: EngineError.self) { try QuantizedMatrix(type: .q4_0, rows: 1, columns: 33, bytes: []) }
    #expect(throws: EngineError.self) { try QuantizedMatrix(type: .q4_0, rows: 2, columns: 32, bytes: [UInt8](repeating: 0, count: 18)) }
    let m = try QuantizedMatrix(type: .q8_0, rows: 1, columns: 32, bytes: [UInt8](repeating: 0, count: 34))
    #expect(throws: EngineError.self) { try m.multiply([1, 2, 3]) }
    let x = [Float](repeating: 1, count: 32)
    #expect(throws: EngineError.self) { try x.withUnsafeBufferPointer { try m.dot(row: 1, $0) } }
    #expect(throws: EngineError.self) {
      var y = [Float](repeating: 0, count: 2)
      try x.withUnsafeBufferPointer { xb in try y.withUnsafeMutableBufferPointer { try m.multiply(xb, into: $0) } }
    }
  }
}
