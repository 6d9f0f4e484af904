import Foundation
import Testing
@testable import Engine

// MARK: - Fixture access for the model parity tests
//
// Fixtures come from scripts/fixtures/make_model_fixtures.py (transformers references).

struct ModelFixture {
  struct Reference: Decodable { let file: String; let shape: [Int] }
  struct Manifest: Decodable {
    let special_ids: [String: Int]
    let grid: Int
    let tokens_per_tile: Int
    let n_tiles: Int
    let references: [String: Reference]
    let text_ids: [Int]
    let text_greedy: [Int]
    let image_ids: [Int]
    let image_greedy: [Int]
  }

  static let variants = ["llama_gqa", "qwen2_tied_bf16", "llama_bias_headdim"]

  let directory: URL
  let manifest: Manifest

  init(_ name: String) throws {
    let url = try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/models"))
    directory = url
    manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: url.appendingPathComponent("manifest.json")))
  }

  /// A reference array (raw little-endian float32) by manifest key.
  func reference(_ key: String) throws -> [Float] {
    let ref = try #require(manifest.references[key], "no reference \(key)")
    let data = try Data(contentsOf: directory.appendingPathComponent(ref.file))
    #expect(data.count == ref.shape.reduce(4, *))
    return data.withUnsafeBytes { raw in
      (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
    }
  }

  func model(threads: Int = 1) throws -> BlueLMVLModel {
    try ModelRegistry.loadBlueLMVL(directory: directory, threads: threads)
  }

  var imagePad: Int { manifest.special_ids["image_pad"] ?? -1 }
}

/// max |a - b| / max |b|: the error relative to the reference's scale; infinity when a value on
/// either side is not finite, so that a partly NaN output fails every tolerance.
func relativeError(_ a: [Float], _ b: [Float]) -> Float {
  guard a.count == b.count, !b.isEmpty, a.allSatisfy(\.isFinite), b.allSatisfy(\.isFinite) else { return .infinity }
  let scale = b.map(abs).max() ?? 0
  let diff = zip(a, b).map { abs($0 - $1) }.max() ?? 0
  return diff / max(scale, .leastNormalMagnitude)
}

/// The larger of two errors, NaN when either is NaN. Swift's `max` returns its first argument
/// when the second is NaN, so `worst = max(worst, err)` would step over a NaN error.
func worse<T: FloatingPoint>(_ a: T, _ b: T) -> T {
  a.isNaN || b.isNaN ? .nan : Swift.max(a, b)
}

/// Index of the first maximum (torch.argmax's tie rule).
func argmax(_ x: [Float]) -> Int {
  var best = 0
  for i in x.indices where x[i] > x[best] { best = i }
  return best
}
