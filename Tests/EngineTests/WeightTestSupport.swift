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
struct ScratchDirectory {
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
func engineErrorMessage(_ body: () throws -> Void) -> String? {
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
