import Foundation
import Testing

/// `ground` on the tiny random Qwen-VL folders with the known-model options, and `models`. The
/// random models rarely write a coordinate: these check what is chosen and reported, not where.
@Suite struct KnownModelCommandTests {
  static let qwen = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../EngineTests/Fixtures/qwen-vl").standardized
  static var qwen2VL: String { qwen.appendingPathComponent("qwen2_vl").path }
  static var image: String { qwen.appendingPathComponent("qwen2_vl-ref/wide_300x60.png").path }

  /// A folder named `name` whose files link to the tiny `family` checkpoint's.
  static func linkedFolder(_ name: String, family: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cli-known-\(UUID().uuidString)/\(name)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let source = qwen.appendingPathComponent(family)
    for file in try FileManager.default.contentsOfDirectory(atPath: source.path) {
      try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent(file),
                                                 withDestinationURL: source.appendingPathComponent(file))
    }
    return dir
  }

  @Test func groundOnTheTinyQwen2VLFolderReportsItsConvention() throws {
    let r = try CLI.run(["ground", "--model", Self.qwen2VL, "--image", Self.image, "the OK button",
                         "--json", "--threads", "1", "--max-tokens", "8"])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try r.json()
    #expect(j["convention"] as? String == "norm1000")
    #expect(j["known_model"] as? String == "qwen2-vl")
    #expect(j["prompt_template"] as? String == "bare")
    #expect(j["chosen_by"] as? String == "folder name 'qwen2_vl'")
    #expect(j["method"] as? String == "text" && j["answer"] is String && j["grid"] is NSNull)
    if j["point"] is NSNull {
      #expect(j["found"] as? Bool == false && j["x"] is NSNull)
      #expect((j["no_coordinate"] as? String ?? "").contains("holds no point") || (j["no_coordinate"] as? String ?? "").contains("outside"))
    } else {
      let p = j["point"] as? [Int] ?? []
      #expect(p.count == 2 && (0..<300).contains(p[0]) && (0..<60).contains(p[1]))
    }
    #expect(r.stderr.contains("grounding as Qwen2-VL (folder name 'qwen2_vl'): norm1000 coordinates, prompt 'bare'"))
  }

  @Test func overridesShowInTheJSON() throws {
    let r = try CLI.run(["ground", "--model", Self.qwen2VL, "--image", Self.image, "OK", "--json", "--threads", "1",
                         "--max-tokens", "4", "--model-name", "uground-v1", "--convention", "unit",
                         "--prompt-template", "Where is {instruction}?"])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try r.json()
    #expect(j["known_model"] as? String == "uground-v1" && j["chosen_by"] as? String == "--model-name")
    #expect(j["convention"] as? String == "unit" && j["prompt_template"] as? String == "custom")
  }

  @Test func aFolderNamedUITARS15IsReadAsUITARS15() throws {
    let dir = try Self.linkedFolder("UI-TARS-1.5-7B", family: "qwen2_5_vl")
    defer { try? FileManager.default.removeItem(at: dir.deletingLastPathComponent()) }
    let r = try CLI.run(["ground", "--model", dir.path, "--image", Self.image, "the OK button", "--json",
                         "--threads", "1", "--max-tokens", "4"])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try r.json()
    #expect(j["known_model"] as? String == "ui-tars-1.5" && j["convention"] as? String == "resized-pixels")
    #expect(j["prompt_template"] as? String == "ui-tars-1.5")
    // `models --model` says the same without loading the weights.
    let m = try CLI.run(["models", "--model", dir.path, "--json"])
    #expect(m.status == 0, "\(m.stderr)")
    let mj = try m.json()
    #expect(mj["known_model"] as? String == "ui-tars-1.5" && mj["model_type"] as? String == "qwen2_5_vl")
  }

  @Test func badKnownModelOptionsAreUsageErrors() throws {
    let unknown = try CLI.run(["ground", "--model", Self.qwen2VL, "--image", Self.image, "OK", "--model-name", "gpt-ui"])
    #expect(unknown.status == 2 && unknown.stderr.contains("no known model is named 'gpt-ui'") && unknown.stderr.contains("ui-tars-1.5"))
    let convention = try CLI.run(["ground", "--model", Self.qwen2VL, "--image", Self.image, "OK", "--convention", "pixels"])
    #expect(convention.status == 2 && convention.stderr.contains("norm1000, resized-pixels, unit"))
    let template = try CLI.run(["ground", "--model", Self.qwen2VL, "--image", Self.image, "OK", "--prompt-template", "find it"])
    #expect(template.status == 2 && template.stderr.contains("nor text holding {instruction}"))
    // A known name of another architecture: the model loads, then the mismatch is named.
    let other = try CLI.run(["ground", "--model", Self.qwen2VL, "--image", Self.image, "OK", "--model-name", "gta1"])
    #expect(other.status == 1 && other.stderr.contains("GTA1 models are qwen2_5_vl, but this model's model_type is qwen2_vl"))
  }

  @Test func modelsListsTheTable() throws {
    let r = try CLI.run(["models", "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    let rows = try r.json()["models"] as? [[String: Any]] ?? []
    let byId = Dictionary(uniqueKeysWithValues: rows.compactMap { row in (row["id"] as? String).map { ($0, row) } })
    #expect(byId["ui-tars-1.5"]?["convention"] as? String == "resized-pixels")
    #expect(byId["showui"]?["convention"] as? String == "unit")
    #expect(byId["se-gui"]?["prompt_template"] is NSNull)
    #expect((byId["gta1"]?["system"] as? String)?.contains("{width}") == true)
    let text = try CLI.run(["models"])
    #expect(text.status == 0 && text.stdout.contains("ui-venus-ground") && text.stdout.contains("ui-tars-1.5-grounding"))
    let help = try CLI.run(["ground", "--help"])
    #expect(help.stdout.contains("--convention norm1000|resized-pixels|unit") && help.stdout.contains("--model-name NAME"))
  }
}
