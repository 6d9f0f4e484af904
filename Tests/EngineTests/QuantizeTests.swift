import Foundation
import Testing
@testable import Engine

// Quantizers (Quantize.swift, QuantizeK.swift) against reference bytes made by
// scripts/fixtures/make_quantize_fixtures.py: gguf-py's numpy quantizers for f16, bf16, Q8_0, Q4_0,
// Q5_0, Q5_1 (ggml's own bytes agree, the manifest records it) and ggml_quantize_chunk from
// llama.cpp's libggml-base for Q4_K, Q5_K, Q6_K. Run in release mode like all numeric tests.

private struct QuantizeFixture: Decodable {
  struct Entry: Decodable { let file: String; let source: String }
  let rows: Int, columns: Int, input: String
  let types: [String: Entry]

  static let directory = "Fixtures/weights/quantize"

  static func load() throws -> (QuantizeFixture, [Float]) {
    let dir = try #require(Bundle.module.url(forResource: "quantize", withExtension: nil, subdirectory: "Fixtures/weights"))
    let manifest = try JSONDecoder().decode(QuantizeFixture.self, from: Data(contentsOf: dir.appendingPathComponent("manifest.json")))
    let data = try Data(contentsOf: dir.appendingPathComponent(manifest.input))
    let floats = data.withUnsafeBytes { raw in
      (0..<data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
    }
    return (manifest, floats)
  }

  func expected(_ type: String) throws -> [UInt8]? {
    guard let e = types[type] else { return nil }
    let dir = try #require(Bundle.module.url(forResource: "quantize", withExtension: nil, subdirectory: "Fixtures/weights"))
    return [UInt8](try Data(contentsOf: dir.appendingPathComponent(e.file)))
  }
}

/// Dequantizes `bytes` of `type` holding `count` values.
func dequantized(_ type: TensorDType, _ bytes: [UInt8], count: Int) -> [Float] {
  [Float](unsafeUninitializedCapacity: count) { buf, n in
    bytes.withUnsafeBytes { raw in
      if let src = raw.baseAddress, let dst = buf.baseAddress { dequantize(type, from: src, count: count, into: dst) }
    }
    n = count
  }
}

/// sqrt(mean((a - b)^2)) / sqrt(mean(b^2)), in Double.
func rmsRelativeError(_ a: [Float], _ b: [Float]) -> Double {
  var num = 0.0, den = 0.0
  for (x, y) in zip(a, b) {
    num += Double(x - y) * Double(x - y)
    den += Double(y) * Double(y)
  }
  return den > 0 ? (num / den).squareRoot() : num.squareRoot()
}

/// Deterministic N(0, 1) values (Box-Muller on a fixed-seed generator).
func gaussianValues(_ count: Int, seed: UInt64) -> [Float] {
  var g = SeededGenerator(seed: seed)
  return (0..<count).map { _ in
    let u1 = max(Double.random(in: 0..<1, using: &g), 1e-300), u2 = Double.random(in: 0..<1, using: &g)
    return Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
  }
}

@Suite struct QuantizeTests {
  static let typeNames: [(String, TensorDType)] = [
    ("f16", .f16), ("bf16", .bf16), ("q8_0", .q8_0), ("q4_0", .q4_0), ("q5_0", .q5_0), ("q5_1", .q5_1),
    ("q4_K", .q4_K), ("q5_K", .q5_K), ("q6_K", .q6_K),
  ]

  @Test(arguments: typeNames.map(\.0))
  func bytesEqualTheReference(_ name: String) throws {
    let (fixture, input) = try QuantizeFixture.load()
    let type = try #require(Self.typeNames.first { $0.0 == name }?.1)
    let expected = try #require(try fixture.expected(name), "no reference for \(name) (run make_quantize_fixtures.py with the llama.cpp venv)")
    let got = try Quantizer.quantize(type, input, tensor: "fixture")
    #expect(got.count == expected.count)
    let blocks = got.count / type.blockBytes
    let bad = (0..<blocks).filter { b in got[b * type.blockBytes..<(b + 1) * type.blockBytes] != expected[b * type.blockBytes..<(b + 1) * type.blockBytes] }
    #expect(bad.isEmpty, "\(name): \(bad.count) of \(blocks) blocks differ, first block \(bad.first ?? -1)")
  }

  /// RMS error of dequantize(quantize(x)) relative to RMS(x) on N(0, 1) rows, bounded a little above
  /// what was measured (printed; QUANTIZE_ROWS=2048 gives the 2048 x 2048 figures of the report).
  @Test func roundTripErrorOnGaussianRows() throws {
    let rows = ProcessInfo.processInfo.environment["QUANTIZE_ROWS"].flatMap(Int.init) ?? 128, columns = 2048
    let x = gaussianValues(rows * columns, seed: 7)
    // Measured on 2048 x 2048: f16 0.021 %, bf16 0.166 %, q8_0 0.535 %, q6_K 1.77 %, q5_K 3.61 %,
    // q5_1 3.79 %, q5_0 4.27 %, q4_K 7.14 %, q4_0 8.59 %.
    let bounds: [(TensorDType, Double)] = [(.f16, 0.0003), (.bf16, 0.002), (.q8_0, 0.006), (.q6_K, 0.02), (.q5_1, 0.042),
                                           (.q5_K, 0.04), (.q5_0, 0.047), (.q4_K, 0.078), (.q4_0, 0.095)]
    var figures: [String] = []
    for (type, bound) in bounds {
      let started = Date()
      let q = try Quantizer.quantize(type, x, tensor: "gaussian")
      let seconds = Date().timeIntervalSince(started)
      let err = rmsRelativeError(dequantized(type, q, count: x.count), x)
      figures.append("\(type) \(String(format: "%.3f%% (%.0f M values/s)", err * 100, Double(x.count) / seconds / 1e6))")
      #expect(err < bound, "\(type): RMS relative error \(err) >= \(bound)")
    }
    print("N(0,1) \(rows) x \(columns), RMS relative error, one thread: " + figures.joined(separator: ", "))
  }

  @Test func zeroRowsStayZeroAndConstantRowsStayClose() throws {
    for (_, type) in Self.typeNames {
      let zeros = [Float](repeating: 0, count: 512)
      let back = dequantized(type, try Quantizer.quantize(type, zeros, tensor: "zeros"), count: 512)
      #expect(back.allSatisfy { $0 == 0 }, "\(type): zeros")
      for c: Float in [0.37, -5] {
        let row = [Float](repeating: c, count: 512)
        let back = dequantized(type, try Quantizer.quantize(type, row, tensor: "constant"), count: 512)
        #expect(back.allSatisfy { abs($0 - c) <= abs(c) * 0.01 }, "\(type): constant \(c) came back as \(back.prefix(4))")
      }
    }
  }

  @Test func nonFiniteValuesAreRefusedNamingTheTensor() throws {
    for (_, type) in Self.typeNames {
      for bad: Float in [.nan, .infinity, -.infinity] {
        var row = gaussianValues(256, seed: 1)
        row[77] = bad
        let message = weightErrorMessage { _ = try Quantizer.quantize(type, row, tensor: "blk.3.ffn_up.weight") }
        #expect(message?.contains("blk.3.ffn_up.weight") == true, "\(type): \(message ?? "no error")")
        #expect(message?.contains("element 77") == true, "\(type): \(message ?? "")")
      }
    }
  }

  @Test func valuesBeyondF16AreRefused() throws {
    var row = [Float](repeating: 1, count: 256)
    row[5] = 70000
    let message = weightErrorMessage { _ = try Quantizer.quantize(.f16, row, tensor: "token_embd.weight") }
    #expect(message?.contains("token_embd.weight") == true && message?.contains("65504") == true, "\(message ?? "no error")")
    // Q8_0's scale is amax / 127: 70000 fits.
    #expect(throws: Never.self) { _ = try Quantizer.quantize(.q8_0, row, tensor: "t") }
  }

  @Test func partialBlocksAreRefused() throws {
    let message = weightErrorMessage { _ = try Quantizer.quantize(.q4_K, [Float](repeating: 1, count: 128), tensor: "v.blk.0.ffn_up.weight") }
    #expect(message?.contains("v.blk.0.ffn_up.weight") == true && message?.contains("256") == true, "\(message ?? "no error")")
  }
}
