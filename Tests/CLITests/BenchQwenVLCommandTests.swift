import Foundation
import Testing

/// `gui-agent bench qwen-vl` on the tiny Qwen2.5-VL fixture folder (Tests/EngineTests/Fixtures/qwen-vl):
/// it runs, the image tokens it reports are those of transformers' processor for the same image
/// (the fixture manifest's image_grid_thw) and of smart_resize for the default 1920x1080
/// screenshot, and an anchor that saw another number of image tokens fails the run.
@Suite struct BenchQwenVLCommandTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../EngineTests/Fixtures/qwen-vl").standardized
  static let folder = root.appendingPathComponent("qwen2_5_vl").path

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
