import Foundation
import Imaging
import Testing
@testable import Grounding

// Running, resuming, sharding and merging; baselines; samples that cannot be scored.
@Suite struct EvaluationRunTests {
  func evaluator(_ method: EvaluationMethod = .random(seed: 7), shard: Shard = .whole, limit: Int? = nil) throws -> ScreenSpotEvaluator {
    ScreenSpotEvaluator(imagesDirectory: try EvalFixture.folder.path, method: method, shard: shard, limit: limit)
  }

  /// Runs `e` appending to the results file at `path`, as the CLI does.
  @discardableResult
  func run(_ e: ScreenSpotEvaluator, _ a: ScreenSpotAnnotations, out path: String) throws -> ScreenSpotEvaluator.Run {
    let contents = try ResultsFile.read(path: path)
    let writer = try ResultsFile.Writer(path: path, validLength: contents.validLength)
    return try e.run(a, existing: contents.records) { r, _, _ throws(GroundingError) in try writer.append(r) }
  }

  // MARK: - Resume

  @Test func resumeContinuesWithoutDuplicates() throws {
    let dir = try ScratchFolder()
    let out = dir.path("r.jsonl")
    let a = try EvalFixture.annotations(EvalFixture.v1)
    let first = try run(evaluator(limit: 7), a, out: out)        // "interrupted" after 7 samples
    #expect(first.records.count == 7 && first.resumed == 0)
    let second = try run(evaluator(), a, out: out)
    #expect(second.resumed == 7 && second.unmatched == 0 && second.records.count == 15)
    let third = try run(evaluator(), a, out: out)                 // nothing left to do
    #expect(third.resumed == 15)

    let onDisk = try ResultsFile.read(path: out)
    #expect(onDisk.records.count == 15 && !onDisk.droppedPartialLine)
    #expect(Set(onDisk.records.map(\.key)).count == 15)
    let fresh = try evaluator().records(a)
    #expect(onDisk.records.map(\.outcome) == fresh.map(\.outcome))
    #expect(AccuracyReport(records: onDisk.records) == AccuracyReport(records: fresh))
  }

  @Test func aTruncatedLastLineIsDroppedAndRewritten() throws {
    let dir = try ScratchFolder()
    let out = dir.path("r.jsonl")
    let a = try EvalFixture.annotations(EvalFixture.v1)
    try run(evaluator(limit: 5), a, out: out)
    let whole = try Data(contentsOf: URL(fileURLWithPath: out))
    // A crash in the middle of writing record 6: half a line, no newline.
    let sixth = try evaluator().evaluate(a.entries[5])
    let line = try JSONEncoder().encode(sixth)
    try (whole + line.prefix(line.count / 2)).write(to: URL(fileURLWithPath: out))

    let cut = try ResultsFile.read(path: out)
    #expect(cut.records.count == 5 && cut.droppedPartialLine && cut.validLength == whole.count)
    let resumed = try run(evaluator(), a, out: out)
    #expect(resumed.resumed == 5 && resumed.records.count == 15)
    let after = try ResultsFile.read(path: out)
    #expect(after.records.count == 15 && !after.droppedPartialLine)
    #expect(after.records.map(\.index) == Array(0..<15))
  }

  @Test func aBadLineInTheMiddleIsAnError() throws {
    let dir = try ScratchFolder()
    let out = dir.path("r.jsonl")
    try run(evaluator(limit: 2), try EvalFixture.annotations(EvalFixture.v1), out: out)
    var text = try String(contentsOfFile: out, encoding: .utf8)
    text = "{\"index\": 0}\n" + text
    try dir.write(text, to: "r.jsonl")
    #expect(throws: GroundingError.recordFile(path: out, line: 1, reason: "not a result record (missing field img_filename)")) {
      try ResultsFile.read(path: out)
    }
  }

  // MARK: - Shards

  @Test func shardsMergeToTheUnshardedResult() throws {
    let a = try EvalFixture.annotations(EvalFixture.pro)
    let whole = try evaluator().records(a)
    var parts: [[EvaluationRecord]] = []
    for k in 0..<4 {
      let part = try evaluator(shard: Shard(index: k, count: 4)).records(a)
      #expect(part.allSatisfy { $0.index % 4 == k })
      parts.append(part)
    }
    #expect(parts.map(\.count) == [4, 4, 4, 3])
    let merged = try ResultsFile.merge(parts + [parts[1]])   // a shard given twice counts once
    #expect(merged.map(\.outcome) == whole.map(\.outcome))
    #expect(AccuracyReport(records: merged) == AccuracyReport(records: whole))
  }

  @Test func conflictingDuplicatesAreAnError() throws {
    let a = try EvalFixture.annotations(EvalFixture.v1)
    let one = try evaluator(.random(seed: 1), limit: 3).records(a)
    let other = try evaluator(.random(seed: 2), limit: 3).records(a)
    #expect(throws: GroundingError.self) { try ResultsFile.merge([one, other]) }
    #expect(try ResultsFile.merge([one, one]) == one)
  }

  @Test(arguments: ["4/4", "-1/2", "1/0", "a/b", "1", "1/2/3"])
  func badShardsAreRejected(text: String) {
    #expect(throws: GroundingError.self) { try Shard(parsing: text) }
  }

  // MARK: - Baselines

  @Test func centerHitsABoxAroundTheCenter() throws {
    let dir = try ScratchFolder()
    try dir.writePNG(width: 101, height: 61, to: "c.png")
    try dir.write("""
      [{"img_filename": "c.png", "instruction": "middle", "bbox": [48, 28, 4, 4], "data_type": "icon", "data_source": "x"},
       {"img_filename": "c.png", "instruction": "corner", "bbox": [0, 0, 10, 10], "data_type": "icon", "data_source": "x"}]
      """, to: "c.json")
    let a = try ScreenSpotAnnotations.read(path: dir.path("c.json"))
    let r = try ScreenSpotEvaluator(imagesDirectory: dir.url.path, method: .center).records(a)
    #expect(r.map(\.hit) == [true, false])
    #expect(r[0].x == 50.5 && r[0].y == 30.5)
  }

  @Test func randomIsSeededAndInsideTheImage() throws {
    let a = try EvalFixture.annotations(EvalFixture.v1)
    let r1 = try evaluator(.random(seed: 42)).records(a)
    let r2 = try evaluator(.random(seed: 42)).records(a)
    let r3 = try evaluator(.random(seed: 43)).records(a)
    #expect(r1.map(\.outcome) == r2.map(\.outcome))
    #expect(r1.map(\.outcome) != r3.map(\.outcome))
    for r in r1 {
      let x = try #require(r.x), y = try #require(r.y)
      #expect((0..<640).contains(Int(x)) && (0..<480).contains(Int(y)) && x == x.rounded())
    }
    // Different samples of one screenshot get different points (the index enters the seed).
    #expect(Set(r1.map { [$0.x, $0.y] }).count > 10)
  }

  // MARK: - Samples that cannot be scored

  @Test func badSamplesAreSkippedAndNamed() throws {
    let dir = try ScratchFolder()
    try dir.writePNG(width: 64, height: 48, to: "ok.png")
    try dir.write("this is not a png", to: "garbage.png")
    try dir.write("", to: "empty.png")
    func entry(_ file: String, _ bbox: String, size: String = "[64, 48]", type: String = "text") -> String {
      #"{"img_filename": "\#(file)", "instruction": "find it", "bbox": \#(bbox), "ui_type": "\#(type)", "platform": "p", "img_size": \#(size)}"#
    }
    try dir.write("[" + [
      entry("ok.png", "[10, 10, 20, 20]"),              // 0 scored
      entry("missing.png", "[10, 10, 20, 20]"),         // 1 no such file
      entry("garbage.png", "[10, 10, 20, 20]"),         // 2 not a PNG
      entry("empty.png", "[10, 10, 20, 20]"),           // 3 empty file
      entry("ok.png", "[50, 40, 70, 47]"),              // 4 box beyond the right edge
      entry("ok.png", "[10, 10, 20, 20]", size: "[640, 480]"),  // 5 img_size disagrees
      entry("ok.png", "[10, 10, 20, 20]", type: "widget"),      // 6 unknown ui_type
    ].joined(separator: ",\n") + "]", to: "pro.json")
    let a = try ScreenSpotAnnotations.read(path: dir.path("pro.json"))
    #expect(a.format == .pro)
    for method in [EvaluationMethod.center, .random(seed: 0)] {
      let records = try ScreenSpotEvaluator(imagesDirectory: dir.url.path, method: method).records(a)
      #expect(records.count == 7)
      #expect(records[0].skipped == nil)
      let reasons = records.dropFirst().map { $0.skipped ?? "" }
      #expect(reasons[0].contains("image not found") && reasons[0].contains("missing.png"))
      #expect(reasons[1].contains("garbage.png") && reasons[1].contains("not a PNG"))
      #expect(reasons[2].contains("empty.png") && reasons[2].contains("empty"))
      #expect(reasons[3].contains("outside the 64x48 image"))
      #expect(reasons[4].contains("img_size 640x480 differs from the image's 64x48"))
      #expect(reasons[5].contains("ui_type must be \"text\" or \"icon\", found \"widget\""))
      #expect(records[1].key.description == "sample 1 (missing.png, \"find it\")")
      let report = AccuracyReport(records: records)
      #expect(report.n == 1 && report.skipped == 6)
    }
  }

  /// A downloaded annotation file cannot make the evaluator read outside its images folder:
  /// absolute names and '..' are refused (the PNG there exists and would be readable).
  @Test func imageNamesStayInsideTheImagesFolder() throws {
    let outside = try ScratchFolder()
    try outside.writePNG(width: 64, height: 48, to: "secret.png")
    let dir = try ScratchFolder()
    try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("sub"), withIntermediateDirectories: true)
    try dir.writePNG(width: 64, height: 48, to: "sub/ok.png")
    let escape = "../" + outside.url.lastPathComponent + "/secret.png"
    try dir.write("[" + ["sub/ok.png", outside.path("secret.png"), escape, "sub/../../x.png"].map {
      #"{"img_filename": "\#($0)", "instruction": "find it", "bbox": [10, 10, 20, 20], "data_type": "text", "data_source": "web"}"#
    }.joined(separator: ",") + "]", to: "v2.json")
    let records = try ScreenSpotEvaluator(imagesDirectory: dir.url.path, method: .center)
      .records(try ScreenSpotAnnotations.read(path: dir.path("v2.json")))
    #expect(records.count == 4)
    #expect(records[0].skipped == nil)
    for r in records.dropFirst() {
      #expect(r.skipped?.contains("leaves the images folder") == true, "\(r.skipped ?? "scored")")
    }
  }
}
