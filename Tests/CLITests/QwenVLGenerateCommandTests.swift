import Foundation
import Testing

/// `gui-agent generate` on the tiny Qwen-VL folders (Tests/EngineTests/Fixtures/qwen-vl), as a user
/// would run it on a downloaded checkpoint: the raw prompt holds the family's placeholder once per
/// image, `prompt_ids` is the expanded sequence, the greedy tokens and the last position's logits
/// are transformers'.
@Suite struct QwenVLGenerateCommandTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../EngineTests/Fixtures/qwen-vl").standardized

  struct Case: Decodable {
    struct Image: Decodable { let file: String }
    struct Array2: Decodable { let file: String; let shape: [Int] }
    let name: String, images: [Image], prompt: String, input_ids: [Int], greedy: [Int], logits: Array2
  }
  struct Manifest: Decodable { let cases: [Case] }

  @Test(arguments: ["qwen2_vl", "qwen2_5_vl", "qwen3_vl"])
  func rawPromptWithImagesMatchesTransformers(_ family: String) throws {
    let refs = Self.root.appendingPathComponent(family + "-ref")
    let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: refs.appendingPathComponent("manifest.json")))
    for c in manifest.cases {
      let logitsPath = FileManager.default.temporaryDirectory.appendingPathComponent("\(getpid())-\(family)-\(c.name).f32").path
      defer { try? FileManager.default.removeItem(atPath: logitsPath) }
      var args = ["generate", "--model", Self.root.appendingPathComponent(family).path, "--raw", "--prompt", c.prompt,
                  "--max-tokens", "\(c.greedy.count)", "--json", "--logits-out", logitsPath, "--threads", "2",
                  "--kv-cache", "f32"]  // float32 throughout, as transformers
      for image in c.images { args += ["--image", refs.appendingPathComponent(image.file).path] }
      let r = try CLI.run(args)
      #expect(r.status == 0, "\(family) \(c.name): \(r.stderr)")
      let j = try r.json()
      #expect(j["family"] as? String == family)
      #expect(j["prompt_ids"] as? [Int] == c.input_ids, "\(family) \(c.name): expanded ids")
      #expect(j["ids"] as? [Int] == c.greedy, "\(family) \(c.name): greedy")
      // --logits-out: the last prompt position's logits, float32.
      let ours = try Data(contentsOf: URL(fileURLWithPath: logitsPath))
      let all = try Data(contentsOf: refs.appendingPathComponent(c.logits.file))
      let vocab = c.logits.shape[1]
      #expect(ours.count == vocab * 4)
      func floats(_ d: Data, from: Int) -> [Float] {
        d.withUnsafeBytes { raw in (0..<vocab).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: (from + $0) * 4, as: UInt32.self))) } }
      }
      let reference = floats(all, from: (c.logits.shape[0] - 1) * vocab)
      let got = floats(ours, from: 0)
      let scale = reference.map(abs).max() ?? 1
      #expect(zip(got, reference).map { abs($0 - $1) }.max() ?? .infinity <= 1e-4 * scale, "\(family) \(c.name): logits")
    }
  }

  @Test func aFolderWithoutItsProcessorFileIsNamed() throws {
    let broken = FileManager.default.temporaryDirectory.appendingPathComponent("\(getpid())-qwen-no-preprocessor")
    try? FileManager.default.removeItem(at: broken)
    try FileManager.default.copyItem(at: Self.root.appendingPathComponent("qwen2_vl"), to: broken)
    defer { try? FileManager.default.removeItem(at: broken) }
    try FileManager.default.removeItem(at: broken.appendingPathComponent("preprocessor_config.json"))
    let r = try CLI.run(["generate", "--model", broken.path, "--prompt", "hi", "--max-tokens", "2"])
    #expect(r.status != 0)
    #expect(r.stderr.contains("preprocessor_config.json"), "\(r.stderr)")
    // A shard named in the index that is missing.
    let sharded = FileManager.default.temporaryDirectory.appendingPathComponent("\(getpid())-qwen-missing-shard")
    try? FileManager.default.removeItem(at: sharded)
    try FileManager.default.copyItem(at: Self.root.appendingPathComponent("qwen2_5_vl"), to: sharded)
    defer { try? FileManager.default.removeItem(at: sharded) }
    try FileManager.default.removeItem(at: sharded.appendingPathComponent("model-00002-of-00003.safetensors"))
    let s = try CLI.run(["generate", "--model", sharded.path, "--prompt", "hi", "--max-tokens", "2"])
    #expect(s.status != 0)
    #expect(s.stderr.contains("model-00002-of-00003.safetensors"), "\(s.stderr)")
  }

  @Test func anUnknownKVCacheTypeIsAUsageError() throws {
    let r = try CLI.run(["generate", "--model", Self.root.appendingPathComponent("qwen2_vl").path, "--prompt", "hi",
                         "--kv-cache", "q8_0"])
    #expect(r.status == 2, "\(r.stderr)")
    #expect(r.stderr.contains("--kv-cache") && r.stderr.contains("f16, f32"), "\(r.stderr)")
  }
}
