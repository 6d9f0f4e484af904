import Foundation
import Testing
@testable import Grounding

// The report's numbers on hand-made results whose accuracies are counted by hand.
@Suite struct EvaluationReportTests {
  func record(_ i: Int, _ source: String, _ type: String, hit: Bool, point: Bool = true, skipped: String? = nil) -> EvaluationRecord {
    EvaluationRecord(index: i, imageFilename: "s\(i).png", instruction: "i\(i)", x: point ? 1 : nil, y: point ? 2 : nil,
                     hit: hit, source: source, uiType: type, skipped: skipped)
  }

  @Test func countsOverallTypesAndSources() throws {
    // A: text hit, text miss, icon hit; B: text hit, icon without a point; one skipped (B, text).
    let records = [
      record(0, "A", "text", hit: true), record(1, "A", "text", hit: false), record(2, "A", "icon", hit: true),
      record(3, "B", "text", hit: true), record(4, "B", "icon", hit: false, point: false),
      record(5, "B", "text", hit: false, point: false, skipped: "image not found"),
    ]
    let r = AccuracyReport(records: records)
    #expect(r.n == 5 && r.skipped == 1 && r.noCoordinate == 1 && r.overall.hits == 3)
    #expect(r.overall.accuracy == 0.6)
    #expect(r.text.accuracy == 2.0 / 3.0 && r.text.n == 3)
    #expect(r.icon.accuracy == 0.5 && r.icon.n == 2)
    #expect(r.bySource["A"]?.all == AccuracyReport.Tally(n: 3, hits: 2))
    #expect(r.bySource["B"]?.all == AccuracyReport.Tally(n: 2, hits: 1))

    let json = r.jsonObject()
    #expect(json["n"] as? Int == 5 && json["skipped"] as? Int == 1)
    #expect(json["overall"] as? Double == 0.6 && json["icon"] as? Double == 0.5)
    let a = try #require((json["by_source"] as? [String: Any])?["A"] as? [String: Any])
    #expect(a["n"] as? Int == 3 && a["accuracy"] as? Double == 2.0 / 3.0)
    let b = try #require((json["by_source"] as? [String: Any])?["B"] as? [String: Any])
    #expect(b["icon"] as? Double == 0 && b["text"] as? Double == 1)
  }

  @Test func emptyGroupsAreNullNotZero() {
    let r = AccuracyReport(records: [record(0, "A", "text", hit: true)])
    #expect(r.jsonObject()["icon"] is NSNull)
    #expect(r.table().contains("100.0%"))
    #expect(r.markdown(title: "t").contains("| **overall** | 1 | 100.0% | - | 100.0% |"))
  }

  @Test func boxEdgesCountAsInside() {
    let box = EvaluationBox(x1: 10, y1: 20, x2: 30, y2: 40)
    #expect(box.contains(x: 10, y: 20) && box.contains(x: 30, y: 40) && box.contains(x: 20, y: 30))
    #expect(!box.contains(x: 9.999, y: 30) && !box.contains(x: 30.001, y: 30) && !box.contains(x: 20, y: 40.5))
  }

  // Predictions placed by hand on the real fixture: 3 hits of 15 samples.
  @Test func scoresAPredictionsFileOnTheMiniSet() throws {
    let samples = try EvalFixture.samples(EvalFixture.v1)
    #expect(samples.count == 15)
    func line(_ i: Int, _ x: Double?, _ y: Double?) -> String {
      let s = samples[i]
      let xy = x.map { "\"x\": \($0), \"y\": \(y ?? 0)" } ?? "\"x\": null, \"y\": null"
      return "{\"img_filename\": \"\(s.imageFilename)\", \"instruction\": \"\(s.instruction)\", \(xy)}"
    }
    let b = samples.map(\.box)
    let text = [
      line(0, (b[0].x1 + b[0].x2) / 2, (b[0].y1 + b[0].y2) / 2),   // 0 settings text: hit (center)
      line(5, b[5].x2, b[5].y2),                                     // 5 settings icon: hit (far corner)
      line(9, b[9].x1, b[9].y1),                                     // 9 login icon: hit (near corner)
      line(1, b[1].x1 - 1, b[1].y1),                                 // 1 settings text: miss (1 px left)
      line(6, nil, nil),                                             // 6 login text: no point, miss
    ].joined(separator: "\n") + "\n"
    let table = try PredictionTable.parse(Data(text.utf8), path: "preds.jsonl")
    let evaluator = ScreenSpotEvaluator(imagesDirectory: try EvalFixture.folder.path, method: .predictions(table))
    let records = try evaluator.records(try EvalFixture.annotations(EvalFixture.v1))
    #expect(records.count == 15)
    #expect(records.filter(\.hit).map(\.index) == [0, 5, 9])
    #expect(records.filter { $0.noCoordinate?.hasPrefix("no prediction") == true }.count == 10)
    let r = AccuracyReport(records: records)
    #expect(r.n == 15 && r.skipped == 0 && r.noCoordinate == 11)
    #expect(r.overall.accuracy == 0.2)
    #expect(r.text == AccuracyReport.Tally(n: 11, hits: 1) && r.icon == AccuracyReport.Tally(n: 4, hits: 2))
    #expect(r.bySource["tk-settings"]?.all == AccuracyReport.Tally(n: 6, hits: 2))
    #expect(r.bySource["tk-login"]?.all == AccuracyReport.Tally(n: 4, hits: 1))
    #expect(r.bySource["tk-editor"]?.all == AccuracyReport.Tally(n: 5, hits: 0))
  }

  @Test func predictionsAsAJSONListAndTheirErrors() throws {
    let list = #"[{"img_filename": "a.png", "instruction": "go", "x": 3, "y": 4.5}]"#
    let t = try PredictionTable.parse(Data(list.utf8), path: "p.json")
    #expect(t.points[.init(imageFilename: "a.png", instruction: "go")] == .init(x: 3, y: 4.5))
    let conflicting = """
      {"img_filename": "a.png", "instruction": "go", "x": 3, "y": 4}
      {"img_filename": "a.png", "instruction": "go", "x": 5, "y": 4}
      """
    #expect(throws: GroundingError.recordFile(path: "p.jsonl", line: 2, reason: "a second, different prediction for (a.png, \"go\")")) {
      try PredictionTable.parse(Data(conflicting.utf8), path: "p.jsonl")
    }
    #expect(throws: GroundingError.self) {
      try PredictionTable.parse(Data(#"{"img_filename": "a.png", "instruction": "go", "x": 3}"#.utf8), path: "p.jsonl")
    }
    #expect(throws: GroundingError.self) { try PredictionTable.parse(Data(), path: "p.jsonl") }
  }
}
