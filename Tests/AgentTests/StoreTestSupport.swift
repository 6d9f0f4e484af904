import Foundation
import Testing
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

// MARK: - Real screenshots

// 80x50 PNGs written by Pillow (scripts/fixtures/make_agent_png_fixtures.py prints these lines).
let screen80x50 = Data(base64Encoded: "iVBORw0KGgoAAAANSUhEUgAAAFAAAAAyCAIAAABET8urAAAAeUlEQVR4nO3YwQnAIAxA0Vq6iXM4k7N0ps7RCbJEF6gnQeHnv2sQ8snNEhFHJufuBVYzmM5gOoPpDKa7dC/yr/Z35vlz19Eo3YUNpjOYzmA6g+nSBRc/8eAMpjOYzmA6g+kMpjOYzmA6g+kMpjOYzmA6g+kMpksX/AE79gjnWnSMnAAAAABJRU5ErkJggg==") ?? Data()
let screen80x50After = Data(base64Encoded: "iVBORw0KGgoAAAANSUhEUgAAAFAAAAAyCAIAAABET8urAAAAd0lEQVR4nO3YsQ3AIAwAwRBlHgomYrRMlCLjuMoCoUIC6f3XWkh+uaNExJHJuXuB1QymM5jOYDqD6a7dC/yr/Zl5/t5tNEp3YYPpDKYzmM5gunTBxU88OIPpDKYzmM5gOoPpDKYzmM5gOoPpDKYzmM5gOoPp0gV/Q6UJQQVVYsgAAAAASUVORK5CYII=") ?? Data()

/// An episode of two steps for the export tests: a click with its outcome, then a step whose
/// outcome was never written. Returns the store and the episode id.
func makeExportEpisode(in tmp: TempFolder, finished: Bool) throws -> (EpisodeStore, Int64) {
  let store = try EpisodeStore(path: tmp.file("export.sqlite"))
  let id = try store.beginEpisode(task: "Open <b>Settings</b> & save", models: ["planner": "ui-tars"],
                                  settings: TestSettings(maxSteps: 3, grammar: "json"), started: storeDate(1_764_000_000))
  let s0 = try store.beginStep(episode: id, index: 0, intent: StepIntent(
    started: storeDate(1_764_000_001.5), reasoning: #"Click it. <script>alert("x")</script> & 'q'"#,
    rawOutput: "Action: click(start_box='(10,20)')", action: .click(.at(10, 20)),
    groundedPoint: GroundedPoint(x: 60, y: 15), screenshot: screen80x50, tokens: TokenCounts(prompt: 10, completion: 5),
    latencies: ["model": 800]))
  try store.finishStep(s0, outcome: StepOutcome(ended: storeDate(1_764_000_002.5), screenChanged: true,
                                                latencies: ["action": 25], screenshotAfter: screen80x50After))
  _ = try store.beginStep(episode: id, index: 1, intent: StepIntent(
    started: storeDate(1_764_000_003), rawOutput: "Action: hotkey(key='ctrl s')", action: .hotkey(["ctrl", "s"]),
    screenshot: screen80x50After))
  if finished { try store.finishEpisode(id: id, status: .succeeded, summary: "saved", ended: storeDate(1_764_000_004)) }
  return (store, id)
}

/// The lines of a JSONL file, each parsed as a JSON object.
func jsonLines(_ url: URL) throws -> [[String: Any]] {
  try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
    try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
  }
}
