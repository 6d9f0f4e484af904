import Foundation
import Testing
@testable import Agent

// `episodes merge`: stores of several shards joined into a new one.
@Suite struct StoreMergeTests {
  /// A store with `tasks.count` episodes of two steps each (screenshots seeded by `seed`).
  func makeStore(_ url: URL, tasks: [String], seed: UInt64) throws {
    let store = try EpisodeStore(path: url)
    for (n, task) in tasks.enumerated() {
      let id = try store.beginEpisode(task: task, models: ["vlm": "nano"], settings: TestSettings(maxSteps: 2, grammar: "json"),
                                      started: storeDate(1_764_000_000 + Double(n)))
      for i in 0..<2 {
        let s = try store.beginStep(episode: id, index: i, intent: StepIntent(
          started: storeDate(1_764_000_000.5 + Double(n)), rawOutput: "step \(i) of \(task)", action: .click(.at(Double(10 * i), 20)),
          groundedPoint: GroundedPoint(x: Double(i), y: 2), screenshot: fakePNG(seed: seed &+ UInt64(10 * n + i)),
          latencies: ["model": 5]))
        try store.finishStep(s, outcome: StepOutcome(ended: storeDate(1_764_000_000.8 + Double(n)), screenChanged: i == 0,
                                                     screenshotAfter: i == 1 ? fakePNG(seed: seed &+ 99) : nil))
      }
      try store.finishEpisode(id: id, status: .succeeded, summary: "done \(task)", ended: storeDate(1_764_000_001 + Double(n)))
    }
  }

  /// What a store holds, ids aside: per task its status, steps (without ids) and screenshots.
  func contents(_ store: EpisodeStore, _ id: Int64) throws -> String {
    let e = try store.episode(id)
    var parts = ["\(e.task) \(e.status) \(e.summary ?? "")"]
    for s in try store.steps(episode: id) {
      parts.append("\(s.index) \(s.rawOutput) \(s.actionJSON ?? "") \(String(describing: s.groundedPoint)) \(s.latencies)")
      parts.append("\(try store.screenshot(episode: id, step: s.index)?.base64EncodedString() ?? "-") "
                   + "\(try store.screenshot(episode: id, step: s.index, moment: .after)?.base64EncodedString() ?? "-")")
    }
    return parts.joined(separator: "\n")
  }

  @Test func mergeCopiesEverythingWithUniqueIdsAndOrigins() throws {
    let tmp = try TempFolder()
    defer { tmp.cleanup() }
    let a = tmp.file("shard-0-of-2.sqlite"), b = tmp.file("shard-1-of-2.sqlite"), out = tmp.file("all.sqlite")
    try makeStore(a, tasks: ["form", "menu"], seed: 1)
    try makeStore(b, tasks: ["save", "type", "scroll"], seed: 50)
    let summary = try StoreMerge.merge([a, b], into: out)
    #expect(summary.episodes == 5 && summary.steps == 10)
    // b's 1 and 2 are taken by a's; then its 3 by b's own renumbered 1.
    #expect(summary.renumbered.map(\.from) == [1, 2, 3] && summary.renumbered.map(\.to) == [3, 4, 5])

    let merged = try EpisodeStore(path: out)
    let ids = try merged.episodes().map(\.id)
    #expect(ids == [1, 2, 3, 4, 5])
    let sources = [(a, Int64(1)), (a, 2), (b, 1), (b, 2), (b, 3)]
    for (id, (source, oldID)) in zip(ids, sources) {
      let origin = try merged.origin(of: id)
      #expect(origin.sourceStore == source.standardizedFileURL.path && origin.sourceID == oldID)
      #expect(origin.host == StoreMerge.hostName() && !(origin.host ?? "").isEmpty)
      #expect(try contents(merged, id) == contents(try EpisodeStore(path: source), oldID))
    }
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: tmp.url.path).filter { $0.contains(".tmp-") }
    #expect(leftovers.isEmpty)
  }

  @Test func mergeIsDeterministicAndKeepsOriginsThroughASecondMerge() throws {
    let tmp = try TempFolder()
    defer { tmp.cleanup() }
    let a = tmp.file("a.sqlite"), b = tmp.file("b.sqlite"), c = tmp.file("c.sqlite")
    try makeStore(a, tasks: ["one"], seed: 1)
    try makeStore(b, tasks: ["two"], seed: 2)
    try makeStore(c, tasks: ["three"], seed: 3)
    _ = try StoreMerge.merge([a, b], into: tmp.file("ab1.sqlite"))
    _ = try StoreMerge.merge([a, b], into: tmp.file("ab2.sqlite"))
    let one = try EpisodeStore(path: tmp.file("ab1.sqlite")), two = try EpisodeStore(path: tmp.file("ab2.sqlite"))
    #expect(try one.episodes() == two.episodes())
    for id in try one.episodes().map(\.id) { #expect(try contents(one, id) == contents(two, id)) }

    _ = try StoreMerge.merge([tmp.file("ab1.sqlite"), c], into: tmp.file("abc.sqlite"))
    let abc = try EpisodeStore(path: tmp.file("abc.sqlite"))
    let origins = try abc.episodes().map { try abc.origin(of: $0.id) }
    #expect(origins.map(\.sourceStore) == [a, b, c].map { $0.standardizedFileURL.path })
    #expect(origins.map(\.sourceID) == [1, 1, 1])
  }

  @Test func refusesAnExistingOutputAndBadInputs() throws {
    let tmp = try TempFolder()
    defer { tmp.cleanup() }
    let a = tmp.file("a.sqlite"), out = tmp.file("all.sqlite")
    try makeStore(a, tasks: ["one"], seed: 1)
    try Data("keep me".utf8).write(to: out)
    let exists = #expect(throws: AgentError.self) { try StoreMerge.merge([a], into: out) }
    #expect(exists?.localizedDescription.contains("refusing to overwrite") == true)
    #expect(try Data(contentsOf: out) == Data("keep me".utf8))

    let missing = #expect(throws: AgentError.self) { try StoreMerge.merge([tmp.file("nope.sqlite")], into: tmp.file("x.sqlite")) }
    #expect(missing?.localizedDescription.contains("nope.sqlite") == true)
    let empty = tmp.file("empty.sqlite")
    try Data().write(to: empty)
    #expect(throws: AgentError.self) { try StoreMerge.merge([a, empty], into: tmp.file("y.sqlite")) }
    #expect(!FileManager.default.fileExists(atPath: tmp.file("y.sqlite").path))
    #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.url.path).filter { $0.contains(".tmp-") }.isEmpty)
  }

  @Test func aVersionOneStoreMigratesAndNewEpisodesRecordTheirHost() throws {
    let tmp = try TempFolder()
    defer { tmp.cleanup() }
    let url = tmp.file("old.sqlite")
    do {
      let db = try SQLiteConnection(path: url.path)
      try StoreSchema.migrate(db, migrations: Array(StoreSchema.migrations.prefix(1)))
      try db.run("INSERT INTO episodes (task, started, status, pid) VALUES ('old', '2026-01-01T00:00:00.000Z', 'succeeded', 1)",
                 step: "an episode of version 1")
    }
    let store = try EpisodeStore(path: url)
    #expect(try store.origin(of: 1) == EpisodeOrigin(host: nil, sourceStore: nil, sourceID: nil))
    #expect(try store.episode(1).task == "old")
    let id = try store.beginEpisode(task: "new", models: [:], settings: [String: String]())
    #expect(try store.origin(of: id) == EpisodeOrigin(host: StoreMerge.hostName(), sourceStore: nil, sourceID: nil))
  }

  @Test func aVersionOneStoreMergesWithoutHost() throws {
    let tmp = try TempFolder()
    defer { tmp.cleanup() }
    let old = tmp.file("v1.sqlite")
    try makeStore(old, tasks: ["old"], seed: 4)
    // Back to schema version 1: as a store written before hosts were recorded.
    let db = try SQLiteConnection(path: old.path)
    try db.execute("""
      ALTER TABLE episodes DROP COLUMN host; ALTER TABLE episodes DROP COLUMN source_store;
      ALTER TABLE episodes DROP COLUMN source_id; PRAGMA user_version = 1;
      """, step: "downgrading")
    _ = try StoreMerge.merge([old], into: tmp.file("out.sqlite"))
    let merged = try EpisodeStore(path: tmp.file("out.sqlite"))
    #expect(try merged.origin(of: 1) == EpisodeOrigin(host: nil, sourceStore: old.standardizedFileURL.path, sourceID: 1))
    #expect(try merged.steps(episode: 1).count == 2)
  }
}
