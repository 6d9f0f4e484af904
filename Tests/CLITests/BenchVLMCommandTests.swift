import Foundation
import Testing

/// `gui-agent bench vlm` on the tiny f16 bluelm_vl fixture with a pointer head (Tests/GroundingTests/
/// Fixtures/pointer-bluelm): it runs the default 1920x1080 screenshot through AnyRes, reports the
/// parts of the time to first token, decode against the bandwidth, and memory against the weight
/// file; decode reads the decoder's tensors, not the tower's, the adapter's or the pointer head's.
@Suite struct BenchVLMCommandTests {
  static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../GroundingTests/Fixtures/pointer-bluelm").standardized.path

  @Test func reportsTimesMemoryAndBandwidth() throws {
    let r = try CLI.run(["bench", "vlm", "--model", Self.folder, "--decode-tokens", "3", "--threads", "2", "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try r.json()
    #expect(j["family"] as? String == "bluelm_vl")
    #expect((j["tiles"] as? Int ?? 0) > 1, "a 1920x1080 screenshot is cut into several tiles")
    #expect((j["greedy_ids"] as? [Int])?.count == 3)
    for key in ["vision_seconds", "prefill_seconds", "ttft_seconds", "decode_tokens_per_s", "read_bandwidth_gb_per_s",
                "decode_fraction_of_bandwidth", "peak_rss_mib", "peak_rss_over_weight_files"] {
      #expect(((j[key] as? Double) ?? 0) > 0, "\(key)")
    }
    let ttft = (j["preprocess_seconds"] as? Double ?? 0) + (j["vision_seconds"] as? Double ?? 0) + (j["prefill_seconds"] as? Double ?? 0)
    #expect(abs(ttft - (j["ttft_seconds"] as? Double ?? 0)) < 1e-9)
    let file = try #require(j["weight_file_bytes"] as? Int)
    let size = try #require(FileManager.default.attributesOfItem(atPath: Self.folder + "/model.safetensors")[.size] as? Int)
    #expect(file == size)
    let decodeBytes = try #require(j["decode_weight_bytes"] as? Int)
    #expect(decodeBytes > 0 && decodeBytes < file, "the tower and adapter are not read by decode")
    let memory = try #require(j["memory"] as? [String: Any])
    #expect(Set(memory.keys) == ["after_load", "after_vision", "after_prefill", "after_decode"])
  }

  @Test func widenLoadsTheOldFloat32Path() throws {
    let r = try CLI.run(["bench", "vlm", "--model", Self.folder, "--decode-tokens", "2", "--threads", "2", "--widen", "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try r.json()
    #expect(j["widened"] as? Bool == true)
    #expect((j["greedy_ids"] as? [Int])?.count == 2)
    let qwen = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("../EngineTests/Fixtures/qwen-vl/qwen2_5_vl").standardized.path
    let other = try CLI.run(["bench", "vlm", "--model", qwen, "--decode-tokens", "1", "--widen"])
    #expect(other.status == 2 && other.stderr.contains("--widen"), "\(other.stderr)")
  }

  @Test func needsAModel() throws {
    let r = try CLI.run(["bench", "vlm"])
    #expect(r.status == 2, "\(r.stderr)")
  }
}
