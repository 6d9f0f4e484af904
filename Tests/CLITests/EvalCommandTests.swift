import Foundation
import Testing

// `gui-agent eval screenspot` and `eval merge` end to end on the screenspot-mini fixture
// (Tests/GroundingTests/Fixtures/screenspot-mini, made by scripts/make-screenspot-mini).
@Suite struct EvalCommandTests {
  static let mini = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("GroundingTests/Fixtures/screenspot-mini")

  func screenspot(_ extra: [String], data: String = "screenspot_mini.json") throws -> CLIResult {
    try CLI.run(["eval", "screenspot", "--data", Self.mini.appendingPathComponent(data).path,
                 "--images", Self.mini.path] + extra)
  }

  func scratch() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("evalcli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  /// Hits of the image center (320, 240), counted here from the annotation file itself.
  func centerHits(_ data: String) throws -> (Int, Int) {
    let list = try #require(try JSONSerialization.jsonObject(
      with: Data(contentsOf: Self.mini.appendingPathComponent(data))) as? [[String: Any]])
    let hits = list.filter { o in
      guard let b = o["bbox"] as? [Double] else { return false }
      return b[0] <= 320 && 320 <= b[0] + b[2] && b[1] <= 240 && 240 <= b[1] + b[3]
    }
    return (hits.count, list.count)
  }

  @Test func centerBaselineJSON() throws {
    let r = try screenspot(["--baseline", "center", "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try r.json()
    let (hits, n) = try centerHits("screenspot_mini.json")
    #expect(j["n"] as? Int == n && j["skipped"] as? Int == 0 && j["format"] as? String == "v1")
    // Counts exactly; the fraction within 1e-12, as Foundation's JSON reader rounds on Linux.
    #expect(j["hits"] as? Int == hits)
    #expect(abs((j["overall"] as? Double ?? -1) - Double(hits) / Double(n)) < 1e-12)
    let by = try #require(j["by_source"] as? [String: [String: Any]])
    #expect(Set(by.keys) == ["tk-settings", "tk-login", "tk-editor"])
    #expect(by.values.compactMap { $0["n"] as? Int }.reduce(0, +) == n)
  }

  @Test func tableAndMarkdown() throws {
    let dir = try scratch()
    defer { try? FileManager.default.removeItem(at: dir) }
    let md = dir.appendingPathComponent("r.md").path
    let r = try screenspot(["--baseline", "random", "--seed", "3", "--markdown", md], data: "tk_mini_pro.json")
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("ScreenSpot Pro") && r.stdout.contains("overall") && r.stdout.contains("linux"))
    let text = try String(contentsOfFile: md, encoding: .utf8)
    #expect(text.contains("| source | n | text | icon | all |") && text.contains("| linux | 15 |"))
  }

  @Test func resumeShardAndMerge() throws {
    let dir = try scratch()
    defer { try? FileManager.default.removeItem(at: dir) }
    func path(_ n: String) -> String { dir.appendingPathComponent(n).path }
    let whole = try screenspot(["--baseline", "random", "--seed", "5", "--json"]).json()

    // Interrupted after 6 samples, then continued: a header and 15 records, none twice.
    #expect(try screenspot(["--baseline", "random", "--seed", "5", "--limit", "6", "--out", path("all.jsonl")]).status == 0)
    let again = try screenspot(["--baseline", "random", "--seed", "5", "--out", path("all.jsonl"), "--json"])
    #expect(again.stderr.contains("6 samples were already in"))
    let lines = try String(contentsOfFile: path("all.jsonl"), encoding: .utf8).split(separator: "\n")
    #expect(lines.count == 16 && lines[0].hasPrefix(#"{"results_header":"#))
    #expect(try again.json()["overall"] as? Double == whole["overall"] as? Double)

    for k in 0..<3 {
      let r = try screenspot(["--baseline", "random", "--seed", "5", "--shard", "\(k)/3", "--out", path("s\(k).jsonl")])
      #expect(r.status == 0, "\(r.stderr)")
    }
    let merged = try CLI.run(["eval", "merge", path("s0.jsonl"), path("s1.jsonl"), path("s2.jsonl"), "--json"]).json()
    for key in ["n", "skipped"] { #expect(merged[key] as? Int == whole[key] as? Int) }
    for key in ["overall", "text", "icon"] { #expect(merged[key] as? Double == whole[key] as? Double) }
    #expect(NSDictionary(dictionary: merged["by_source"] as? [String: Any] ?? [:])
            == NSDictionary(dictionary: whole["by_source"] as? [String: Any] ?? [:]))

    // Another seed's shard is another setup: merge refuses, naming the file.
    #expect(try screenspot(["--baseline", "random", "--seed", "6", "--shard", "0/3", "--out", path("x.jsonl")]).status == 0)
    let conflict = try CLI.run(["eval", "merge", path("s1.jsonl"), path("s2.jsonl"), path("x.jsonl")])
    #expect(conflict.status == 1 && conflict.stderr.contains("different setups") && conflict.stderr.contains("x.jsonl"))
  }

  @Test func predictionsMissingAreMisses() throws {
    let dir = try scratch()
    defer { try? FileManager.default.removeItem(at: dir) }
    let preds = dir.appendingPathComponent("p.jsonl")
    try Data(#"{"img_filename": "tk_settings.png", "instruction": "save the preferences", "x": 470, "y": 435}"#.utf8).write(to: preds)
    let r = try screenspot(["--predictions", preds.path, "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.contains("14 samples have no prediction") && r.stderr.contains("counted as misses"))
    let j = try r.json()
    #expect(j["n"] as? Int == 15 && j["hits"] as? Int == 1)
  }

  @Test func skippedSamplesAreNamedOnStandardError() throws {
    let dir = try scratch()
    defer { try? FileManager.default.removeItem(at: dir) }
    let data = dir.appendingPathComponent("a.json")
    try Data(#"""
      [{"img_filename": "tk_login.png", "instruction": "sign in", "bbox": [250, 270, 98, 31], "data_type": "text", "data_source": "tk"},
       {"img_filename": "nowhere.png", "instruction": "ghost", "bbox": [0, 0, 5, 5], "data_type": "icon", "data_source": "tk"}]
      """#.utf8).write(to: data)
    let r = try CLI.run(["eval", "screenspot", "--data", data.path, "--images", Self.mini.path, "--baseline", "center", "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.contains("skipped sample 1 (nowhere.png, \"ghost\"): image not found"))
    let j = try r.json()
    #expect(j["n"] as? Int == 1 && j["skipped"] as? Int == 1)
  }

  @Test(arguments: [
    (["--baseline", "center", "--shard", "3/2"], Int32(2), "--shard"),
    (["--baseline", "center", "--predictions", "p.jsonl"], 2, "give only one of"),
    (["--baseline", "center", "--think"], 2, "--think goes with --model"),
    (["--baseline", "middle"], 2, "--baseline: 'middle'"),
    (["--baseline", "center", "--seed", "1"], 2, "--seed goes with --baseline random"),
    (["--baseline", "center", "--format", "v3"], 2, "--format: 'v3'"),
  ])
  func badCommandLines(extra: [String], status: Int32, message: String) throws {
    let r = try screenspot(extra)
    #expect(r.status == status && r.stderr.contains(message), "\(r.stderr)")
  }

  // The tiny random checkpoint answers noise: only the shape of the run is checked.
  @Test func modelRunWritesOneRecordPerSample() throws {
    let dir = try scratch()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("m.jsonl").path
    let model = Self.mini.deletingLastPathComponent().appendingPathComponent("tiny-bluelm").path
    let r = try screenspot(["--model", model, "--limit", "3", "--max-tokens", "8", "--out", out, "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try r.json()
    #expect((j["n"] as? Int ?? 0) + (j["skipped"] as? Int ?? 0) == 3)
    let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").dropFirst()   // the header
    #expect(lines.count == 3)
    for line in lines {
      let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
      #expect(o["answer"] is String && o["x"] != nil && o["no_coordinate"] != nil && o["seconds"] is Double)
    }
  }

  @Test func missingImagesFolderFails() throws {
    let r = try CLI.run(["eval", "screenspot", "--data", Self.mini.appendingPathComponent("screenspot_mini.json").path,
                         "--images", "/nonexistent/images", "--baseline", "center"])
    #expect(r.status == 1 && r.stderr.contains("--images /nonexistent/images is not a folder"))
  }

  @Test func unreadableAnnotationFileFails() throws {
    let r = try CLI.run(["eval", "screenspot", "--data", "/nonexistent/a.json", "--images", "/tmp", "--baseline", "center"])
    #expect(r.status == 1 && r.stderr.contains("annotation file /nonexistent/a.json"))
  }
}

/// `eval screenspot` on Qwen-VL folders: the known model's setup is reported, and each sample's
/// point is what `ground` answers on that screenshot and instruction (the tiny GUI-Actor head on
/// Qwen2-VL always points, so the points are compared, not only the shape of the run).
@Suite struct QwenVLEvalCommandTests {
  static let qwen = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../EngineTests/Fixtures/qwen-vl").standardized

  @Test(arguments: [("gui_actor_qwen2_vl", "gui-actor"), ("qwen2_5_vl", "qwen2.5-vl")])
  func evalPointsAreGroundPoints(folder: String, known: String) throws {
    let model = Self.qwen.appendingPathComponent(folder).path
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("evalqwen-\(UUID().uuidString).jsonl")
    defer { try? FileManager.default.removeItem(at: out) }
    let r = try CLI.run(["eval", "screenspot", "--data", EvalCommandTests.mini.appendingPathComponent("screenspot_mini.json").path,
                         "--images", EvalCommandTests.mini.path, "--model", model, "--limit", "2", "--max-tokens", "8",
                         "--threads", "1", "--out", out.path, "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    let report = try r.json()
    #expect(report["n"] as? Int == 2)
    #expect(report["known_model"] as? String == known, "\(report)")
    let samples = try #require(try JSONSerialization.jsonObject(
      with: Data(contentsOf: EvalCommandTests.mini.appendingPathComponent("screenspot_mini.json"))) as? [[String: Any]])
    let lines = try String(contentsOf: out, encoding: .utf8).split(separator: "\n").dropFirst()   // the header
    #expect(lines.count == 2)
    for (line, sample) in zip(lines, samples) {
      let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
      let image = EvalCommandTests.mini.appendingPathComponent(try #require(sample["img_filename"] as? String)).path
      let ground = try CLI.run(["ground", "--model", model, "--image", image, try #require(sample["instruction"] as? String),
                                "--max-tokens", "8", "--threads", "1", "--json"])
      #expect(ground.status == 0, "\(ground.stderr)")
      let g = try ground.json()
      // A pointer-head run has no text answer: null in the record, "" from ground.
      #expect(record["answer"] as? String ?? "" == g["answer"] as? String)
      #expect((record["x"] as? NSNumber)?.doubleValue == (g["x"] as? NSNumber)?.doubleValue)
      #expect((record["y"] as? NSNumber)?.doubleValue == (g["y"] as? NSNumber)?.doubleValue)
      if folder.hasPrefix("gui_actor") { #expect(record["x"] is NSNumber, "the pointer head always points") }
    }
  }
}
