import Foundation
import Testing

/// `ground` and `eval screenspot` with a model that has a pointer head (the tiny random
/// checkpoint of Tests/GroundingTests/Fixtures/pointer-bluelm; where it points is checked against
/// PyTorch in GroundingTests/PointerHeadTests, here the command surface and exit codes).
@Suite struct PointerCommandTests {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../GroundingTests/Fixtures").standardized
  static let model = fixtures.appendingPathComponent("pointer-bluelm").path
  static let image = fixtures.appendingPathComponent("pointer/strip_150x30.png").path

  /// The reference of the strip case: its pixel and pixel box.
  static func reference() throws -> (point: [Int], box: [Int], score: Double) {
    let data = try Data(contentsOf: fixtures.appendingPathComponent("pointer/manifest.json"))
    let m = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let cases = try #require(m["cases"] as? [[String: Any]])
    let strip = try #require(cases.first { $0["name"] as? String == "strip_150x30" })
    let region = try #require(strip["region"] as? [String: Any])
    return (try #require(strip["pixel"] as? [Int]), try #require(strip["pixel_box"] as? [Int]),
            try #require(region["score"] as? Double))
  }

  @Test func groundJSONReportsThePointerAnswer() throws {
    let r = try CLI.run(["ground", "--model", Self.model, "--image", Self.image, "click the OK button", "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try r.json()
    let ref = try Self.reference()
    #expect(j["method"] as? String == "pointer" && j["found"] as? Bool == true)
    #expect(j["point"] as? [Int] == ref.point)
    #expect(j["x"] as? Int == ref.point[0] && j["y"] as? Int == ref.point[1])
    let box = try #require(j["box"] as? [String: Int])
    #expect([box["x"], box["y"], box["w"], box["h"]] == ref.box.map { Optional($0) })
    #expect(abs((j["score"] as? Double ?? -1) - ref.score) < 1e-5)
    #expect((j["timings"] as? [String: Double])?["pointer"] != nil)
  }

  @Test func belowTheMinimumScoreIsNotFoundWithExitStatus3() throws {
    let r = try CLI.run(["ground", "--model", Self.model, "--image", Self.image, "click the OK button",
                         "--json", "--min-score", "0.9"])
    #expect(r.status == 3, "\(r.stderr)")
    #expect(r.stderr.contains("not found"))
    let j = try r.json()
    #expect(j["found"] as? Bool == false && j["point"] is NSNull && j["box"] is NSNull)
    #expect((j["score"] as? Double ?? 1) < 0.9)
    // Text output: the same exit status, the message on standard error only.
    let plain = try CLI.run(["ground", "--model", Self.model, "--image", Self.image, "OK", "--min-score", "0.9"])
    #expect(plain.status == 3 && plain.stderr.contains("not found") && !plain.stdout.contains("not found"))
  }

  @Test func minScoreIsARangeCheckedNumber() throws {
    let r = try CLI.run(["ground", "--model", Self.model, "--image", Self.image, "OK", "--min-score", "2"])
    #expect(r.status == 2)
  }

  @Test func aTextModelReportsTheTextMethod() throws {
    let tiny = Self.fixtures.appendingPathComponent("tiny-bluelm").path
    let r = try CLI.run(["ground", "--model", tiny, "--image", Self.image, "OK", "--json", "--max-tokens", "4",
                         "--min-score", "0.5"])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try r.json()
    #expect(j["method"] as? String == "text" && j["score"] is NSNull)
    #expect(r.stderr.contains("--min-score"))  // noted as having no effect
  }

  @Test func evalCountsNotFoundAsAMiss() throws {
    let mini = Self.fixtures.appendingPathComponent("screenspot-mini")
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("pointer-eval-\(UUID().uuidString).jsonl")
    defer { try? FileManager.default.removeItem(at: out) }
    let r = try CLI.run(["eval", "screenspot", "--data", mini.appendingPathComponent("screenspot_mini.json").path,
                         "--images", mini.path, "--model", Self.model, "--min-score", "1", "--limit", "3",
                         "--out", out.path, "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try r.json()
    #expect(j["n"] as? Int == 3 && j["hits"] as? Int == 0 && j["skipped"] as? Int == 0)
    let lines = try String(contentsOf: out, encoding: .utf8).split(separator: "\n").dropFirst()   // the header
    #expect(lines.count == 3)
    for line in lines {
      let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
      #expect(record["x"] is NSNull && (record["no_coordinate"] as? String)?.hasPrefix("not found") == true)
    }
  }

  @Test func minScoreGoesWithAModel() throws {
    let mini = Self.fixtures.appendingPathComponent("screenspot-mini")
    let r = try CLI.run(["eval", "screenspot", "--data", mini.appendingPathComponent("screenspot_mini.json").path,
                         "--images", mini.path, "--baseline", "center", "--min-score", "0.5"])
    #expect(r.status == 2)
  }
}
