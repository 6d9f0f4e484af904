import Foundation
import Imaging
import Testing

/// generate, tiles and ground end to end on the tiny random checkpoint (its answers are noise:
/// these tests check the command surface and the wiring, not what the model says).
@Suite struct ModelCommandTests {
  static let tiny = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../GroundingTests/Fixtures/tiny-bluelm").standardized.path
  static let image = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../GroundingTests/Fixtures/pipeline").standardized

  func tempPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("\(getpid())-\(name)").path
  }

  func firstPNG() throws -> String {
    let files = try FileManager.default.contentsOfDirectory(atPath: Self.image.path).filter { $0.hasSuffix(".png") }.sorted()
    guard let f = files.first else { throw CLIHarnessError("no PNG in \(Self.image.path)") }
    return Self.image.appendingPathComponent(f).path
  }

  @Test func generateJSONHasTheStableFields() throws {
    let logits = tempPath("logits.f32")
    defer { try? FileManager.default.removeItem(atPath: logits) }
    let r = try CLI.run(["generate", "--model", Self.tiny, "--prompt", "Hello", "--max-tokens", "5",
                         "--json", "--logits-out", logits, "--threads", "1"])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try r.json()
    let ids = j["ids"] as? [Int] ?? []
    #expect(ids.count == 5)
    #expect(j["finish_reason"] as? String == "length")
    #expect((j["prompt_ids"] as? [Int] ?? []).count > 2)
    #expect(j["text"] is String && j["answer"] is String && j["reasoning"] is String)
    let timings = j["timings"] as? [String: Double] ?? [:]
    #expect(Set(timings.keys) == ["load", "preprocess", "vision", "prefill", "decode"])
    // The logits file holds one float32 per vocabulary entry.
    let size = try FileManager.default.attributesOfItem(atPath: logits)[.size] as? Int
    #expect(size == 480 * 4)
  }

  @Test func generateWithImageAndThinkingBudget() throws {
    let r = try CLI.run(["generate", "--model", Self.tiny, "--prompt", "click OK", "--image", try firstPNG(),
                         "--think-budget", "3", "--max-tokens", "8", "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try r.json()
    #expect(j["reasoning_tokens"] as? Int == 3)
    let prompt = j["prompt_ids"] as? [Int] ?? []
    #expect(prompt.count > 10)  // the image expanded into many positions
    #expect((j["timings"] as? [String: Double])?["vision"] ?? 0 > 0)
  }

  @Test func rawPromptWithoutPlaceholderForAnImageFails() throws {
    let r = try CLI.run(["generate", "--model", Self.tiny, "--prompt", "no placeholder", "--raw",
                         "--image", try firstPNG()])
    #expect(r.status == 1)
    #expect(r.stderr.contains("image placeholders"))
  }

  @Test func tilesPrintsThePlanAndDrawsTheGrid() throws {
    let out = tempPath("grid.png")
    defer { try? FileManager.default.removeItem(atPath: out) }
    let src = try firstPNG()
    let r = try CLI.run(["tiles", "--image", src, "--model", Self.tiny, "-o", out, "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try r.json()
    #expect((j["grid"] as? [Int])?.count == 2)
    let original = try PNG.read(path: src), drawn = try PNG.read(path: out)
    #expect(drawn.width == original.width && drawn.height == original.height)
    #expect(drawn != original)
  }

  @Test func groundAnswersWithAPointOrSaysWhyNot() throws {
    let out = tempPath("annotated.png")
    defer { try? FileManager.default.removeItem(atPath: out) }
    let r = try CLI.run(["ground", "--model", Self.tiny, "--image", try firstPNG(), "the OK button",
                         "--json", "--annotate", out])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try r.json()
    for key in ["x", "y", "box", "answer", "reasoning", "grid", "timings"] { #expect(j[key] != nil, "missing \(key)") }
    // The random model writes no coordinate: x/y are null and the reason is given.
    if j["x"] is NSNull { #expect(j["no_coordinate"] is String) }
    #expect(FileManager.default.fileExists(atPath: out))
  }

  @Test func groundOnALiveCaptureOfOneMonitor() throws {
    guard let display = ProcessInfo.processInfo.environment["DISPLAY"], !display.isEmpty else {
      throw CLIHarnessError("DISPLAY is unset: run the tests under Xvfb (make test)")
    }
    let r = try CLI.run(["ground", "--model", Self.tiny, "--capture", "--monitor", "0", "the OK button",
                         "--json", "--display", display, "--max-tokens", "4"])
    #expect(r.status == 0, "\(r.stderr)")
    let grid = try r.json()["grid"] as? [Int]
    #expect(grid?.count == 2)
  }

  @Test func missingModelIsARuntimeErrorNamingThePath() throws {
    let r = try CLI.run(["generate", "--model", "/nonexistent/model", "--prompt", "x"])
    #expect(r.status == 1)
    #expect(r.stderr.contains("/nonexistent/model"))
  }

  @Test func groundNeedsAnImageSource() throws {
    let r = try CLI.run(["ground", "--model", Self.tiny, "the OK button"])
    #expect(r.status == 2)
  }
}
