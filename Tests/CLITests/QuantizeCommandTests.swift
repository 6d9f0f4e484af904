import Foundation
import Testing

// `gui-agent quantize` end to end on the tiny Qwen-VL folders (Tests/EngineTests/Fixtures/qwen-vl)
// and the converter's GGUF of one (Fixtures/qwen-vl-gguf): --json fields, logs on a pipe, refused
// inputs with their message and no file left behind. The bytes themselves are checked against
// llama.cpp in EngineTests/GGUFExportTests.
@Suite struct QuantizeCommandTests {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("EngineTests/Fixtures")

  func scratch() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("quantizecli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  func size(_ path: String) -> Int? { (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int }

  @Test func folderToPairJSON() throws {
    let dir = try scratch()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("m.gguf").path
    let r = try CLI.run(["quantize", "--model", Self.fixtures.appendingPathComponent("qwen-vl/qwen3_vl").path,
                         "--type", "q4_k", "-o", out, "--json", "--threads", "2"])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try r.json()
    #expect(j["type"] as? String == "q4_k" && j["mmproj_type"] as? String == "f16")
    let files = try #require(j["files"] as? [[String: Any]])
    #expect(files.map { $0["role"] as? String } == ["model", "mmproj"])
    let mmproj = dir.appendingPathComponent("mmproj-m.gguf").path
    #expect(files.map { $0["path"] as? String } == [out, mmproj])
    for f in files {
      let path = try #require(f["path"] as? String)
      #expect(f["bytes"] as? Int == size(path), "\(path)")
      let types = try #require(f["types"] as? [String: Int])
      #expect(types.values.reduce(0, +) == f["tensors"] as? Int)
    }
    // The tiny rows (64, 128 values) do not divide into 256-blocks: every 2-D weight falls back.
    let modelTypes = try #require(files[0]["types"] as? [String: Int])
    #expect(modelTypes["q4_K"] == nil && (modelTypes["q5_0"] ?? 0) > 0 && (modelTypes["q8_0"] ?? 0) > 0, "\(modelTypes)")
    let fallbacks = try #require(j["fallbacks"] as? [String])
    #expect(fallbacks.contains { $0.contains("blk.0.ffn_up.weight") && $0.contains("q5_0") }, "\(fallbacks)")
    #expect((j["seconds"] as? Double ?? -1) >= 0 && (j["skipped"] as? [String]) == [])
    // stderr is a pipe here: the log lines, no progress bar.
    #expect(r.stderr.contains("gui-agent: fallback: blk.0.ffn_up.weight") && !r.stderr.contains("\r"), "\(r.stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["m.gguf", "mmproj-m.gguf"])
  }

  @Test func ggufFileIsRequantized() throws {
    let dir = try scratch()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("q8.gguf").path
    let r = try CLI.run(["quantize", "--model", Self.fixtures.appendingPathComponent("qwen-vl-gguf/qwen2_vl/model-f16.gguf").path,
                         "--type", "q8_0", "-o", out])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("model: \(out)") && size(out) != nil)
    let mix = try CLI.run(["quantize", "--model", Self.fixtures.appendingPathComponent("qwen-vl-gguf/qwen2_vl/model-f16.gguf").path,
                           "--type", "q8_0", "-o", out, "--mmproj-out", dir.appendingPathComponent("x.gguf").path])
    #expect(mix.status == 2 && mix.stderr.contains("--mmproj-out"), "\(mix.stderr)")
  }

  @Test func badFolderIsRefusedAndLeavesNothing() throws {
    let dir = try scratch()
    defer { try? FileManager.default.removeItem(at: dir) }
    let folder = dir.appendingPathComponent("empty-folder")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let out = dir.appendingPathComponent("m.gguf").path
    let r = try CLI.run(["quantize", "--model", folder.path, "--type", "f16", "-o", out, "--json"])
    #expect(r.status == 1 && r.stdout.isEmpty, "\(r.stdout)")
    #expect(r.stderr.contains("error: ") && r.stderr.contains(folder.appendingPathComponent("config.json").path), "\(r.stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["empty-folder"])
  }

  @Test func usageErrors() throws {
    let model = Self.fixtures.appendingPathComponent("qwen-vl/qwen2_vl").path
    for (args, fragment) in [(["--model", model, "--type", "q3_k", "-o", "/tmp/x.gguf"], "--type: 'q3_k'"),
                             (["--model", model, "-o", "/tmp/x.gguf"], "missing --type"),
                             (["--model", model, "--type", "f16"], "missing -o"),
                             (["--model", model, "--type", "f16", "-o", "/tmp/x.gguf", "--mmproj-type", "q4_0"], "--mmproj-type: 'q4_0'")] {
      let r = try CLI.run(["quantize"] + args)
      #expect(r.status == 2 && r.stderr.contains(fragment), "\(args): \(r.stderr)")
    }
  }

  @Test func helpExplainsThePairAndThePolicy() throws {
    let r = try CLI.run(["quantize", "--help"])
    #expect(r.status == 0)
    for fragment in ["mmproj", "Q4_K_M", "falls back", "--mmproj-type", "re-quantized"] {
      #expect(r.stdout.contains(fragment), "\(fragment)")
    }
  }
}
