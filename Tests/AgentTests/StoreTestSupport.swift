import Foundation
@testable import Agent

/// A fresh folder under the system temp dir, removed by `cleanup()`.
struct TempFolder {
  let url: URL

  init() throws {
    url = FileManager.default.temporaryDirectory.appendingPathComponent("agent-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  func file(_ name: String) -> URL { url.appendingPathComponent(name) }

  func cleanup() { try? FileManager.default.removeItem(at: url) }
}

/// Times on whole milliseconds, as the store keeps them.
func storeDate(_ secondsSinceEpoch: Double) -> Date { Date(timeIntervalSince1970: secondsSinceEpoch) }

/// Deterministic stand-in bytes for a screenshot (the store keeps bytes as given).
func fakePNG(seed: UInt64, count: Int = 3000) -> Data {
  var rng = SplitMix64(seed: seed)
  return Data((0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
}

struct TestSettings: Codable, Equatable {
  var maxSteps: Int
  var grammar: String
}
