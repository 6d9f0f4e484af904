import Foundation
import Imaging
import Testing
import TestSupport
@testable import Agent

/// A step's grounding region (`grounded_box_*`, schema version 3): migrated onto older stores,
/// written, read, exported, merged and drawn.
@Suite struct GroundedBoxStoreTests {
  static let region = PixelRect(x: 52, y: 9, width: 17, height: 12)

  /// An episode of two steps on the 80x50 screenshot: a click found in `region`, then a
  /// point click without one.
  func makeEpisode(_ url: URL) throws -> (EpisodeStore, Int64) {
    let store = try EpisodeStore(path: url)
    let id = try store.beginEpisode(task: "click OK", models: [:], settings: TestSettings(maxSteps: 2, grammar: "json"),
                                    started: storeDate(1_764_000_000))
    let s0 = try store.beginStep(episode: id, index: 0, intent: StepIntent(
      started: storeDate(1_764_000_001), rawOutput: #"{"action": "click", "target": {"element": "OK"}}"#,
      action: .click(.element("OK")), groundedPoint: GroundedPoint(x: 60, y: 15), groundedBox: Self.region,
      screenshot: screen80x50))
    try store.finishStep(s0, outcome: StepOutcome(ended: storeDate(1_764_000_002), screenChanged: true))
    let s1 = try store.beginStep(episode: id, index: 1, intent: StepIntent(
      started: storeDate(1_764_000_003), rawOutput: "click", action: .click(.at(5, 6)),
      groundedPoint: GroundedPoint(x: 5, y: 6), screenshot: screen80x50))
    try store.finishStep(s1, outcome: StepOutcome(ended: storeDate(1_764_000_004)))
    try store.finishEpisode(id: id, status: .succeeded, ended: storeDate(1_764_000_005))
    return (store, id)
  }

  /// Takes a store back to schema version 2: as one written before regions were recorded.
  func downgradeToVersion2(_ url: URL) throws {
    let db = try SQLiteConnection(path: url.path)
    try db.execute("""
      ALTER TABLE steps DROP COLUMN grounded_box_x; ALTER TABLE steps DROP COLUMN grounded_box_y;
      ALTER TABLE steps DROP COLUMN grounded_box_w; ALTER TABLE steps DROP COLUMN grounded_box_h;
      PRAGMA user_version = 2;
      """, step: "downgrading")
  }

  @Test func migrationThreeAddsTheRegionToAVersionTwoStore() throws {
    let tmp = try TempFolder()
    defer { tmp.cleanup() }
    let url = tmp.file("v2.sqlite")
    do {
      let db = try SQLiteConnection(path: url.path)
      try StoreSchema.migrate(db, migrations: Array(StoreSchema.migrations.prefix(2)))
      try db.run("INSERT INTO episodes (task, started, status, pid) VALUES ('old', '2026-01-01T00:00:00.000Z', 'succeeded', 1)",
                 step: "an episode of version 2")
      try db.run("""
        INSERT INTO steps (episode_id, idx, started, raw_output, grounded_x, grounded_y)
        VALUES (1, 0, '2026-01-01T00:00:01.000Z', 'old step', 7, 8)
        """, step: "a step of version 2")
      #expect(try StoreSchema.userVersion(db) == 2)
    }
    let store = try EpisodeStore(path: url)
    let db = try SQLiteConnection(path: url.path)
    #expect(StoreSchema.currentVersion == 3)
    #expect(try StoreSchema.userVersion(db) == 3)
    let columns = try db.query("SELECT name FROM pragma_table_info('steps')", step: "columns") { $0.text(0) }
    #expect(["grounded_box_x", "grounded_box_y", "grounded_box_w", "grounded_box_h"].allSatisfy(columns.contains))
    // The old step keeps its point and has no region; a new one records its region.
    let old = try #require(try store.steps(episode: 1).first)
    #expect(old.rawOutput == "old step" && old.groundedPoint == GroundedPoint(x: 7, y: 8) && old.groundedBox == nil)
    _ = try store.beginStep(episode: 1, index: 1, intent: StepIntent(rawOutput: "new", groundedPoint: GroundedPoint(x: 60, y: 15),
                                                                     groundedBox: Self.region))
    #expect(try store.steps(episode: 1).map(\.groundedBox) == [nil, Self.region])
  }

  @Test func theRegionRoundTripsThroughTheStoreJSONLAndMerge() throws {
    let tmp = try TempFolder()
    defer { tmp.cleanup() }
    let (store, id) = try makeEpisode(tmp.file("a.sqlite"))
    #expect(try store.steps(episode: id).map(\.groundedBox) == [Self.region, nil])

    let lines = try jsonLines(try store.exportJSONL(episode: id, to: tmp.url.appendingPathComponent("jsonl")))
    #expect(lines[0]["grounded_box"] as? [String: Int] == ["x": 52, "y": 9, "w": 17, "h": 12])
    #expect(lines[1]["grounded_box"] is NSNull)

    _ = try StoreMerge.merge([tmp.file("a.sqlite")], into: tmp.file("merged.sqlite"))
    let merged = try EpisodeStore(path: tmp.file("merged.sqlite"))
    #expect(try merged.steps(episode: 1).map(\.groundedBox) == [Self.region, nil])
    #expect(try merged.steps(episode: 1).map(\.groundedPoint) == [GroundedPoint(x: 60, y: 15), GroundedPoint(x: 5, y: 6)])
  }

  @Test func aVersionTwoStoreMergesWithoutRegions() throws {
    let tmp = try TempFolder()
    defer { tmp.cleanup() }
    let old = tmp.file("v2.sqlite"), new = tmp.file("v3.sqlite")
    _ = try makeEpisode(old)
    _ = try makeEpisode(new)
    try downgradeToVersion2(old)
    _ = try StoreMerge.merge([old, new], into: tmp.file("out.sqlite"))
    let merged = try EpisodeStore(path: tmp.file("out.sqlite"))
    let steps = try merged.episodes().map { try merged.steps(episode: $0.id) }
    #expect(steps.map { $0.map(\.groundedBox) } == [[nil, nil], [Self.region, nil]])
    #expect(steps[0].map(\.groundedPoint) == [GroundedPoint(x: 60, y: 15), GroundedPoint(x: 5, y: 6)])
  }

  @Test func theExportDrawsTheRegionOnItsPixels() throws {
    let tmp = try TempFolder()
    defer { tmp.cleanup() }
    let (store, id) = try makeEpisode(tmp.file("a.sqlite"))
    let page = try store.htmlReport(episode: id)
    let step0 = try EpisodeOverlayTests().section(page, step: 0)
    // The region under the click, on the 80x50 screenshot's own pixels, named in the legend.
    #expect(step0.contains("<svg class=\"overlay\" viewBox=\"0 0 80 50\" preserveAspectRatio=\"none\""))
    #expect(step0.contains("aria-label=\"click at (60, 15), grounding region 17 x 12 at (52, 9)\""))
    #expect(step0.contains("<g class=\"region\" data-x=\"52\" data-y=\"9\" data-w=\"17\" data-h=\"12\">"
      + "<rect x=\"52\" y=\"9\" width=\"17\" height=\"12\" class=\"halo\"/><rect x=\"52\" y=\"9\" width=\"17\" height=\"12\" class=\"ink\"/></g>"))
    let region = try #require(step0.range(of: "<g class=\"region\""))
    let click = try #require(step0.range(of: "<g class=\"click\" data-x=\"60\" data-y=\"15\">"))
    #expect(region.upperBound < click.lowerBound)
    #expect(step0.contains("<p class=\"legend\"><span class=\"key click\"></span>click at (60, 15) screen pixels</p>"
      + "<p class=\"legend\"><span class=\"key region\"></span>grounding region 17 x 12 at (52, 9) screen pixels</p>"))
    #expect(page.contains(".overlay .region .ink{stroke:#1a73e8;stroke-width:2;stroke-dasharray:6 4}"))
    // A point target: the click alone.
    let step1 = try EpisodeOverlayTests().section(page, step: 1)
    #expect(step1.contains("<g class=\"click\" data-x=\"5\" data-y=\"6\">") && !step1.contains("class=\"region\""))
    #expect(!step1.contains("grounding region"))
  }

  @Test func episodesShowPrintsTheRegion() throws {
    let tmp = try TempFolder()
    defer { tmp.cleanup() }
    let (_, id) = try makeEpisode(tmp.file("a.sqlite"))
    let show = try runProgram(try guiAgentBinary(), ["episodes", "show", "\(id)", "--store", tmp.file("a.sqlite").path])
    #expect(show.status == 0, "\(show.stderr)")
    #expect(show.stdout.contains("  point: (60, 15)\n  grounding region: 17 x 12 at (52, 9)\n"), "\(show.stdout)")
    #expect(show.stdout.components(separatedBy: "grounding region").count == 2)
  }

  @Test func aRegionAloneIsDrawn() {
    let svg = StepOverlay.svg(point: nil, box: PixelRect(x: 0, y: 1, width: 2, height: 3), width: 10, height: 10)
    #expect(svg.contains("<rect x=\"0\" y=\"1\" width=\"2\" height=\"3\" class=\"ink\"/>") && !svg.contains("class=\"click\""))
    #expect(StepOverlay.legend(point: nil, box: PixelRect(x: 0, y: 1, width: 2, height: 3))
      == "<p class=\"legend\"><span class=\"key region\"></span>grounding region 2 x 3 at (0, 1) screen pixels</p>")
    #expect(StepOverlay.svg(point: nil, box: nil, width: 10, height: 10).isEmpty)
  }
}
