import Foundation
import Testing
@testable import Engine

// MARK: - Fixtures and scratch files shared by the weight-reader tests

enum WeightFixtures {
  /// URL of a fixture under Fixtures/weights/<subdirectory>.
  static func url(_ name: String, _ ext: String, _ subdirectory: String) throws -> URL {
    try #require(Bundle.module.url(forResource: name, withExtension: ext,
                                   subdirectory: "Fixtures/weights/\(subdirectory)"),
                 "fixture \(subdirectory)/\(name).\(ext) is missing")
  }

  /// A raw little-endian float32 file made by scripts/fixtures/make_weight_fixtures.py.
  static func expectedFloats(_ name: String, _ subdirectory: String) throws -> [Float] {
    let data = try Data(contentsOf: url(name, "f32", subdirectory))
    return data.withUnsafeBytes { raw in
      (0..<data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
    }
  }

  /// Bitwise equality (so -0.0 and +0.0 differ and infinities compare).
  static func bits(_ a: [Float]) -> [UInt32] { a.map(\.bitPattern) }
}

/// A fresh temporary directory, removed by `cleanup()`.
struct WeightScratchDirectory {
  let url: URL
  init() throws {
    url = FileManager.default.temporaryDirectory.appendingPathComponent("engine-weights-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }
  func write(_ name: String, _ bytes: [UInt8]) throws -> URL {
    let u = url.appendingPathComponent(name)
    try Data(bytes).write(to: u)
    return u
  }
  func cleanup() { try? FileManager.default.removeItem(at: url) }
}

/// The message of the `EngineError` that `body` throws, or nil when it does not throw.
/// Any other error is recorded as a test failure.
func weightErrorMessage(_ body: () throws -> Void) -> String? {
  do {
    try body()
    return nil
  } catch let error as EngineError {
    return error.errorDescription
  } catch {
    Issue.record("expected an EngineError, got \(error)")
    return "\(error)"
  }
}

// MARK: - Opening broken files

/// Writes `bytes` as `fileName` in a scratch directory and opens it with `open`; expects an
/// EngineError whose message names the file and contains every fragment.
func expectOpenError(_ bytes: [UInt8], fileName: String, _ fragments: [String], open: (URL) throws -> Void,
                     sourceLocation: SourceLocation = #_sourceLocation) throws {
  let scratch = try WeightScratchDirectory()
  defer { scratch.cleanup() }
  let url = try scratch.write(fileName, bytes)
  let message = weightErrorMessage { try open(url) }
  #expect(message != nil, "expected an error containing \(fragments)", sourceLocation: sourceLocation)
  for f in [fileName] + fragments {
    #expect(message?.contains(f) == true, "'\(message ?? "")' should contain '\(f)'", sourceLocation: sourceLocation)
  }
}

// MARK: - Corruption sweeps

/// Opens every truncation (at `stride`) and `mutations` randomly corrupted copies of `original`
/// with `open`, which must throw an `EngineError` or succeed and read all tensors: never trap.
/// Returns how many truncations and mutations were rejected.
func corruptionSweep(_ original: [UInt8], stride step: Int, mutations: Int, seed: UInt64,
                     open: (URL) throws -> Void) throws -> (truncations: Int, mutations: Int) {
  let scratch = try WeightScratchDirectory()
  defer { scratch.cleanup() }
  var rejectedTruncations = 0, rejectedMutations = 0
  for length in stride(from: 0, to: original.count, by: step) {
    let url = try scratch.write("t.bin", Array(original.prefix(length)))
    if weightErrorMessage({ try open(url) }) != nil { rejectedTruncations += 1 }
  }
  var g = WeightTestRNG(seed)
  for _ in 0..<mutations {
    var bytes = original
    for _ in 0..<(1 + Int(g.next() % 4)) {
      let i = Int(g.next() % UInt64(bytes.count))
      let choices: [UInt8] = [0, 0xFF, 0x7F, 0x80, UInt8(truncatingIfNeeded: g.next())]
      bytes[i] = choices[Int(g.next() % UInt64(choices.count))]
    }
    let url = try scratch.write("m.bin", bytes)
    if weightErrorMessage({ try open(url) }) != nil { rejectedMutations += 1 }
  }
  return (rejectedTruncations, rejectedMutations)
}
