import Foundation
import Testing

// `--grounder ocr|hybrid` end to end: real Tesseract on the screenspot-mini screenshots.
@Suite struct GrounderCommandTests {
  static let mini = EvalCommandTests.mini

  /// The annotation of `instruction` in screenspot_mini.json: image and box [x, y, w, h].
  func sample(_ instruction: String) throws -> (String, [Double]) {
    let list = try #require(try JSONSerialization.jsonObject(
      with: Data(contentsOf: Self.mini.appendingPathComponent("screenspot_mini.json"))) as? [[String: Any]])
    let o = try #require(list.first { $0["instruction"] as? String == instruction })
    return (try #require(o["img_filename"] as? String), try #require(o["bbox"] as? [Double]))
  }

  @Test(arguments: ["cancel", "remember me", "the Dark mode checkbox"])
  func groundsVisibleText(instruction: String) throws {
    let (image, b) = try sample(instruction)
    let r = try CLI.run(["ground", "--grounder", "ocr", "--image", Self.mini.appendingPathComponent(image).path,
                         instruction, "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try r.json()
    let x = try #require(j["x"] as? Int), y = try #require(j["y"] as? Int)
    #expect(Double(x) >= b[0] && Double(x) <= b[0] + b[2] && Double(y) >= b[1] && Double(y) <= b[1] + b[3], "\(j)")
    #expect(j["method"] as? String == "ocr" && j["grounder"] as? String == "ocr")
  }

  @Test func textThatIsNotThereIsNotFound() throws {
    let r = try CLI.run(["ground", "--grounder", "ocr", "--image", Self.mini.appendingPathComponent("tk_login.png").path,
                         "the purple elephant icon"])
    #expect(r.status == 3)
    #expect(r.stderr.contains("no text on the screen reads 'purple elephant'"), "\(r.stderr)")
  }

  /// "sign in" reads twice on the login screen (title and button): hybrid lets the embedded
  /// model's pointer head choose, and says so.
  @Test func hybridLetsTheModelChooseAmongMatches() throws {
    let r = try CLI.run(["ground", "--grounder", "hybrid", "--threads", "2", "--image",
                         Self.mini.appendingPathComponent("tk_login.png").path, "sign in", "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try r.json()
    #expect(j["method"] as? String == "hybrid", "\(j)")
    let timings = try #require(j["timings"] as? [String: Double])
    #expect(timings["ocr"] != nil && timings["pointer"] != nil)
    #expect((j["score"] as? Double).map { $0 > 0 && $0 <= 1 } == true)
  }

  @Test func evalScoresOCR() throws {
    let r = try CLI.run(["eval", "screenspot", "--grounder", "ocr", "--data", Self.mini.appendingPathComponent("screenspot_mini.json").path,
                         "--images", Self.mini.path, "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try r.json()
    // The three instructions that quote their element's text are hits; the functional ones
    // ("save the preferences") have no text to match.
    #expect((j["hits"] as? Int ?? 0) >= 3)
    #expect(j["grounder"] as? String == "ocr")
    #expect((j["no_coordinate"] as? Int ?? 0) >= 8)
  }

  @Test(arguments: [
    ["--grounder", "telepathy"],
    ["--ocr-scale", "2"],
    ["--grounder", "ocr", "--model", "Models/bluelm-vl-nano"],
    ["--grounder", "ocr", "--baseline", "center"],
    ["--grounder", "ocr", "--ocr-scale", "9"],
  ])
  func usageErrors(extra: [String]) throws {
    let r = try CLI.run(["eval", "screenspot", "--data", Self.mini.appendingPathComponent("screenspot_mini.json").path,
                         "--images", Self.mini.path] + extra)
    #expect(r.status == 2, "\(extra): \(r.stderr)")
  }
}
