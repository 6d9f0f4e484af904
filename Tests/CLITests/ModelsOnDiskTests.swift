import Foundation
import Testing

// `gui-agent models`: the models on disk (embedded, cache, --path), with family, format, size,
// stored types and whether a GGUF pair is complete.

@Suite struct ModelsOnDiskTests {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../EngineTests/Fixtures").standardized

  @Test func listsFoldersFilesAndPairs() throws {
    let temp = FileManager.default.temporaryDirectory.appendingPathComponent("models-\(UUID().uuidString)")
    let cache = temp.appendingPathComponent("cache/models"), lone = temp.appendingPathComponent("lone")
    try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
    try FileManager.default.createDirectory(at: lone, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: temp) }
    let pairDir = Self.fixtures.appendingPathComponent("qwen-vl-gguf/qwen2_5_vl")
    // A cached pair in a subfolder; a language model without its mmproj.
    let cached = cache.appendingPathComponent("Qwen2.5-VL-tiny")
    try FileManager.default.createDirectory(at: cached, withIntermediateDirectories: true)
    for name in ["model-q8_0.gguf", "mmproj-f16.gguf"] {
      try FileManager.default.copyItem(at: pairDir.appendingPathComponent(name), to: cached.appendingPathComponent(name))
    }
    try FileManager.default.copyItem(at: pairDir.appendingPathComponent("model-f16.gguf"), to: lone.appendingPathComponent("model-f16.gguf"))
    var env = ProcessInfo.processInfo.environment
    env["GUI_AGENT_CACHE"] = temp.appendingPathComponent("cache").path
    let folder = Self.fixtures.appendingPathComponent("qwen-vl/qwen3_vl").path
    let r = try CLI.run(["models", "--json", "--path", folder, "--path", lone.path, "--path", "/nonexistent/model"], environment: env)
    #expect(r.status == 0, "\(r.stderr)")
    let entries = try r.json()["on_disk"] as? [[String: Any]] ?? []
    func entry(_ path: String) -> [String: Any]? { entries.first { ($0["path"] as? String) == path } }

    let embedded = entries.first { $0["origin"] as? String == "embedded" }
    #expect(embedded?["family"] as? String == "bluelm_vl" && embedded?["format"] as? String == "checkpoint folder")

    let pair = try #require(entry(cached.appendingPathComponent("model-q8_0.gguf").path), "\(entries)")
    #expect(pair["origin"] as? String == "cache" && pair["format"] as? String == "gguf pair")
    #expect(pair["family"] as? String == "qwen2_5_vl" && pair["pair_complete"] as? Bool == true)
    #expect(pair["mmproj"] as? String == cached.appendingPathComponent("mmproj-f16.gguf").path)
    let types = pair["types"] as? [String: Int] ?? [:]
    #expect((types["q8_0"] ?? 0) > 0 && (types["f16"] ?? 0) > 0 && (types["f32"] ?? 0) > 0)
    let sizes = try ["model-q8_0.gguf", "mmproj-f16.gguf"].map {
      try FileManager.default.attributesOfItem(atPath: cached.appendingPathComponent($0).path)[.size] as? Int ?? 0
    }
    #expect(pair["bytes"] as? Int == sizes.reduce(0, +))

    let half = try #require(entry(lone.appendingPathComponent("model-f16.gguf").path))
    #expect(half["pair_complete"] as? Bool == false && (half["problem"] as? String)?.contains("--mmproj") == true)

    let checkpoint = try #require(entry(folder))
    #expect(checkpoint["family"] as? String == "qwen3_vl" && checkpoint["format"] as? String == "checkpoint folder")
    #expect((checkpoint["types"] as? [String: Int])?["f16"] != nil && checkpoint["problem"] is NSNull)

    #expect(entry("/nonexistent/model")?["problem"] as? String == "does not exist")

    // The table names the same, and says what is incomplete.
    let text = try CLI.run(["models", "--path", lone.path], environment: env)
    #expect(text.status == 0 && text.stdout.contains("On disk") && text.stdout.contains("incomplete")
            && text.stdout.contains("model-q8_0.gguf + mmproj-f16.gguf"), "\(text.stdout)")
  }

  @Test func recognisesAGGUFPairByItsFileAndFolderNames() throws {
    let temp = FileManager.default.temporaryDirectory.appendingPathComponent("uitars-\(UUID().uuidString)")
    let dir = temp.appendingPathComponent("UI-TARS-1.5-7B-GGUF")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: temp) }
    let pairDir = Self.fixtures.appendingPathComponent("qwen-vl-gguf/qwen2_5_vl")
    let lm = dir.appendingPathComponent("UI-TARS-1.5-7B-Q8_0.gguf")
    try FileManager.default.copyItem(at: pairDir.appendingPathComponent("model-q8_0.gguf"), to: lm)
    // Without its mmproj the family (Qwen2-VL or Qwen2.5-VL) is not known: said.
    let alone = try CLI.run(["models", "--model", lm.path, "--json"])
    #expect(alone.status != 0 && alone.stderr.contains("mmproj"), "\(alone.stderr)")
    try FileManager.default.copyItem(at: pairDir.appendingPathComponent("mmproj-f16.gguf"),
                                     to: dir.appendingPathComponent("mmproj-UI-TARS-1.5-7B-f16.gguf"))
    let r = try CLI.run(["models", "--model", lm.path, "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try r.json()
    #expect(j["model_type"] as? String == "qwen2_5_vl" && j["known_model"] as? String == "ui-tars-1.5", "\(j)")
    #expect((j["chosen_by"] as? String)?.contains("UI-TARS-1.5-7B-Q8_0") == true, "\(j)")
  }
}
