import Foundation
import Testing

// `ground` on a llama.cpp GGUF pair (--model LM.gguf --mmproj MMPROJ.gguf) answers as on the folder
// it was converted from (Qwen3-VL: the tiny folder is f16, so the pair holds the same numbers),
// and the pixel budget it used is said on stderr.

@Suite struct GGUFPairCommandTests {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../EngineTests/Fixtures").standardized
  static let pair = fixtures.appendingPathComponent("qwen-vl-gguf/qwen3_vl")
  static let image = fixtures.appendingPathComponent("qwen-vl/qwen3_vl-ref/wide_300x60.png").path

  @Test func groundOnAPairAnswersAsOnTheFolder() throws {
    let budget = ["--min-pixels", "4096", "--max-pixels", "16384"]
    let onPair = try CLI.run(["ground", "--model", Self.pair.appendingPathComponent("model-f16.gguf").path,
                              "--mmproj", Self.pair.appendingPathComponent("mmproj-f16.gguf").path,
                              "--image", Self.image, "--json", "the OK button"] + budget)
    #expect(onPair.status == 0 || onPair.status == 3, "\(onPair.stderr)")
    #expect(onPair.stderr.contains("pixel budget 4096...16384 from --min-pixels/--max-pixels"), "\(onPair.stderr)")
    let onFolder = try CLI.run(["ground", "--model", Self.fixtures.appendingPathComponent("qwen-vl/qwen3_vl").path,
                                "--image", Self.image, "--json", "the OK button"])
    let a = try onPair.json(), b = try onFolder.json()
    #expect(a["answer"] as? String == b["answer"] as? String && !(a["answer"] as? String ?? "").isEmpty)
    #expect(a["known_model"] as? String == "qwen3-vl" && a["convention"] as? String == b["convention"] as? String)
    #expect(a["mmproj"] as? String == Self.pair.appendingPathComponent("mmproj-f16.gguf").path && b["mmproj"] is NSNull)
    #expect("\(a["point"] ?? "")" == "\(b["point"] ?? "")")
  }

  @Test func aLanguageModelWithoutItsMmprojIsAUsageProblemNamed() throws {
    let r = try CLI.run(["ground", "--model", Self.pair.appendingPathComponent("model-f16.gguf").path,
                         "--image", Self.image, "the OK button"])
    #expect(r.status != 0 && r.stderr.contains("--mmproj"), "\(r.stderr)")
    let missing = try CLI.run(["ground", "--model", Self.pair.appendingPathComponent("model-f16.gguf").path,
                               "--mmproj", "/nonexistent/mmproj.gguf", "--image", Self.image, "the OK button"])
    #expect(missing.status != 0 && missing.stderr.contains("/nonexistent/mmproj.gguf"), "\(missing.stderr)")
  }
}
