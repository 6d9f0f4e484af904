import Foundation
import Testing

/// `gui-agent bench qwen-vl` on the tiny Qwen2.5-VL fixture folder (Tests/EngineTests/Fixtures/qwen-vl)
/// and on llama.cpp's GGUF pair of it (Tests/EngineTests/Fixtures/qwen-vl-gguf): it runs, the image
/// tokens it reports are those of transformers' processor for the same image (the fixture
/// manifest's image_grid_thw) and of smart_resize for the default 1920x1080 screenshot, a pair is
/// reported as one with its tensor types, and an anchor that saw another number of image tokens
/// fails the run.
@Suite struct BenchQwenVLCommandTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../EngineTests/Fixtures/qwen-vl").standardized
  static let folder = root.appendingPathComponent("qwen2_5_vl").path
  static let pairFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../EngineTests/Fixtures/qwen-vl-gguf/qwen2_5_vl").standardized
  /// The pair with the folder's pixel budget (preprocessor_config.json: 3136...12544; a pair
  /// stores none, and the published one would make 2,691 image tokens of the screenshot).
  static let pair = ["--model", pairFolder.appendingPathComponent("model-f16.gguf").path,
                     "--mmproj", pairFolder.appendingPathComponent("mmproj-f16.gguf").path,
                     "--min-pixels", "3136", "--max-pixels", "12544"]

  struct Manifest: Decodable {
    struct Image: Decodable { let file: String; let resized: [Int]; let image_grid_thw: [Int] }
    struct Case: Decodable { let images: [Image] }
    let cases: [Case]
  }

  @Test func imageTokensAreTheProcessors() throws {
    let refs = Self.root.appendingPathComponent("qwen2_5_vl-ref")
    let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: refs.appendingPathComponent("manifest.json")))
    for image in manifest.cases.flatMap(\.images) {
      let r = try CLI.run(["bench", "qwen-vl", "--model", Self.folder, "--image", refs.appendingPathComponent(image.file).path,
                           "--decode-tokens", "2", "--threads", "2", "--json"])
      #expect(r.status == 0, "\(image.file): \(r.stderr)")
      let j = try r.json()
      #expect(j["image_tokens"] as? Int == image.image_grid_thw.reduce(1, *) / 4, "\(image.file)")
      let size = j["image"] as? [String: Any]
      #expect([size?["resized_height"] as? Int, size?["resized_width"] as? Int] == image.resized.map { Optional($0) }, "\(image.file)")
      #expect(size?["grid"] as? [Int] == image.image_grid_thw, "\(image.file)")
    }
  }

  @Test func theDefaultScreenshotFollowsSmartResize() throws {
    let r = try CLI.run(["bench", "qwen-vl", "--model", Self.folder, "--decode-tokens", "2", "--threads", "2", "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try r.json()
    let size = try #require(j["image"] as? [String: Any])
    #expect(size["width"] as? Int == 1920 && size["height"] as? Int == 1080)
    // The fixture's preprocessor_config.json: size.shortest_edge / longest_edge, patch 14, merge 2.
    let processor = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.folder)
      .appendingPathComponent("preprocessor_config.json"))) as? [String: Any])
    let bounds = try #require(processor["size"] as? [String: Int])
    let (h, w) = Self.smartResize(height: 1080, width: 1920, factor: 28, minPixels: try #require(bounds["shortest_edge"]),
                                  maxPixels: try #require(bounds["longest_edge"]))
    #expect(size["resized_height"] as? Int == h && size["resized_width"] as? Int == w)
    #expect(j["image_tokens"] as? Int == (h / 28) * (w / 28))
    let measured = try #require(j["measured"] as? [String: Any])
    let full = try #require(j["full_depth"] as? [String: Any])
    for key in ["ttft_seconds", "vision_seconds", "prefill_seconds", "decode_tokens_per_s"] {
      #expect(((measured[key] as? Double) ?? 0) > 0, "\(key)")
      #expect(((full[key] as? Double) ?? 0) > 0, "full depth \(key)")
    }
    // Full depth (32 vision, 36 decoder layers) is slower than the 3 + 2 layers measured.
    #expect(((full["ttft_seconds"] as? Double) ?? 0) > ((measured["ttft_seconds"] as? Double) ?? .infinity))
    #expect(((j["peak_rss_mib"] as? Double) ?? 0) > 0)
  }

  @Test func anAnchorWithOtherImageTokensIsRefused() throws {
    let report = #"{"image_tokens": 7, "prompt_tokens": 60, "preprocess_seconds": 0.1, "vision_seconds": 1, "vision_window_block_seconds": [0.2, 0.2], "vision_full_block_seconds": [0.5], "prefill_seconds": 1, "prefill_layer_seconds": 0.9, "decode_step_seconds": 0.1, "decode_layer_seconds": 0.05, "text_layers": 2, "peak_rss_mib": 100}"#
    let r = try CLI.run(["bench", "qwen-vl", "--model", Self.folder, "--decode-tokens", "2", "--threads", "2",
                         "--anchor-cmd", "echo '\(report)'"])
    #expect(r.status == 1)
    #expect(r.stderr.contains("7 image tokens") && r.stderr.contains("15"), "\(r.stderr)")
  }

  @Test func aPairIsMeasuredAndReportedAsOne() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bench-qwen-vl-pair-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let logits = dir.appendingPathComponent("logits.bin").path, png = dir.appendingPathComponent("resized.png").path
    let r = try CLI.run(["bench", "qwen-vl"] + Self.pair + ["--decode-tokens", "3", "--threads", "2", "--json",
                                                            "--logits-out", logits, "--save-image", png])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try r.json()
    #expect(j["format"] as? String == "gguf pair")
    #expect((j["mmproj"] as? String)?.hasSuffix("mmproj-f16.gguf") == true)
    #expect(j["family"] as? String == "qwen2_5_vl")
    #expect(j["pixel_budget"] as? [Int] == [3136, 12544])
    // The same image tokens as the folder with the same budget (smart_resize of 1920x1080: 140x84).
    #expect(j["image_tokens"] as? Int == 15)
    let size = try #require(j["image"] as? [String: Any])
    #expect(size["resized_width"] as? Int == 140 && size["resized_height"] as? Int == 84)
    // The converter's f16 file: matrices f16, norms and biases f32.
    let types = try #require(j["lm_tensor_types"] as? [String: [String: Any]])
    #expect(Set(types.keys) == ["f16", "f32"], "\(types)")
    #expect(((types["f16"]?["tensors"] as? Int) ?? 0) > 0 && ((types["f16"]?["mib"] as? Double) ?? 0) > 0)
    #expect(j["mmproj_tensor_types"] is [String: Any])
    #expect(((j["load_seconds"] as? Double) ?? 0) > 0)
    #expect(((j["peak_rss_mib"] as? Double) ?? 0) > 0)
    let measured = try #require(j["measured"] as? [String: Any])
    for key in ["ttft_seconds", "vision_seconds", "prefill_seconds", "decode_tokens_per_s"] {
      #expect(((measured[key] as? Double) ?? 0) > 0, "\(key)")
    }
    #expect((j["greedy_ids"] as? [Int])?.count == 3)
    // --logits-out: one float per vocabulary entry (the fixture's 416); --save-image: a PNG.
    #expect(try Data(contentsOf: URL(fileURLWithPath: logits)).count == 416 * 4)
    #expect(try Data(contentsOf: URL(fileURLWithPath: png)).prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))
  }

  @Test func aPairWithAnAnchorOfOtherImageTokensIsRefused() throws {
    let report = #"{"image_tokens": 7, "prompt_tokens": 60, "preprocess_seconds": 0.1, "vision_seconds": 1, "prefill_seconds": 1, "decode_step_seconds": 0.1, "text_layers": 2, "peak_rss_mib": 100}"#
    let r = try CLI.run(["bench", "qwen-vl"] + Self.pair + ["--decode-tokens", "2", "--threads", "2",
                                                            "--anchor-cmd", "echo '\(report)'"])
    #expect(r.status == 1)
    #expect(r.stderr.contains("7 image tokens") && r.stderr.contains("15"), "\(r.stderr)")
  }

  /// llama.cpp's anchor times no blocks or layers: it is compared as measured, with no full-depth
  /// estimate; it gets the pair's mmproj and our rendered prompt.
  @Test func anAnchorWithoutLayerTimesIsComparedAsMeasured() throws {
    let report = #"{"anchor": "llama.cpp mtmd", "image_tokens": 15, "prompt_tokens": 1, "preprocess_seconds": 0.1, "vision_seconds": 1, "prefill_seconds": 1, "decode_step_seconds": 0.1, "text_layers": 2, "load_seconds": 0.5, "peak_rss_mib": 100}"#
    // The anchor echoes its environment's mmproj and prompt to stderr, where the test cannot see
    // them; it checks them itself and prints nothing when they are wrong.
    let check = #"case "$BENCH_MMPROJ" in *mmproj-f16.gguf) ;; *) exit 3;; esac; case "$BENCH_PROMPT" in *'<|vision_start|><|image_pad|><|vision_end|>Click the Save button.<|im_end|>'*) ;; *) exit 4;; esac; "#
    let r = try CLI.run(["bench", "qwen-vl"] + Self.pair + ["--decode-tokens", "2", "--threads", "2", "--json",
                                                            "--anchor-cmd", check + "echo '\(report)'"])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try r.json()
    let anchor = try #require(j["anchor"] as? [String: Any])
    #expect(anchor["measured"] is [String: Any])
    #expect(anchor["full_depth"] == nil)
    let speed = try #require(j["speed_over_anchor"] as? [String: Any])
    #expect(speed["measured"] is [String: Any] && speed["full_depth"] == nil)
    #expect(((j["load_speed_over_anchor"] as? Double) ?? 0) > 0)
    // Some of the per-layer fields but not all: refused.
    let partial = #"{"image_tokens": 15, "prompt_tokens": 1, "preprocess_seconds": 0.1, "vision_seconds": 1, "prefill_seconds": 1, "prefill_layer_seconds": 0.9, "decode_step_seconds": 0.1, "text_layers": 2}"#
    let bad = try CLI.run(["bench", "qwen-vl"] + Self.pair + ["--decode-tokens", "2", "--threads", "2",
                                                              "--anchor-cmd", "echo '\(partial)'"])
    #expect(bad.status == 1)
    #expect(bad.stderr.contains("vision_window_block_seconds"), "\(bad.stderr)")
  }

  /// transformers' smart_resize (Python's round: halves to even).
  static func smartResize(height: Int, width: Int, factor f: Int, minPixels: Int, maxPixels: Int) -> (Int, Int) {
    let h = Double(height), w = Double(width), fd = Double(f)
    var hBar = Int((h / fd).rounded(.toNearestOrEven)) * f, wBar = Int((w / fd).rounded(.toNearestOrEven)) * f
    if hBar * wBar > maxPixels {
      let beta = (h * w / Double(maxPixels)).squareRoot()
      hBar = max(f, Int((h / beta / fd).rounded(.down)) * f)
      wBar = max(f, Int((w / beta / fd).rounded(.down)) * f)
    } else if hBar * wBar < minPixels {
      let beta = (Double(minPixels) / (h * w)).squareRoot()
      hBar = Int((h * beta / fd).rounded(.up)) * f
      wBar = Int((w * beta / fd).rounded(.up)) * f
    }
    return (hBar, wBar)
  }
}
