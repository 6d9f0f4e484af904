import Foundation
import Testing

/// The embedded model (Models/bluelm-vl-nano) is what model commands run without --model.
@Suite struct DefaultModelTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
  static let heldout = root.appendingPathComponent("training/heldout")
  static let embedded = root.appendingPathComponent("Models/bluelm-vl-nano").path

  @Test func groundWithoutModelRunsTheEmbeddedOne() throws {
    let image = Self.heldout.appendingPathComponent("tk_heldout_000.png").path
    let r = try CLI.run(["ground", "--image", image, "click Fentanyl", "--json", "--threads", "1"])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try r.json()
    #expect((j["model"] as? String).map { URL(fileURLWithPath: $0).standardized.path } == Self.embedded)
    #expect(j["grid"] as? [Int] == [3, 3])  // 640 x 480 at tile 224: the nano config's AnyRes
    // A trained model answers with a point in the format's convention, not with noise.
    #expect(j["x"] is Int && j["y"] is Int, "answer: \(j["answer"] ?? "")")
  }

  @Test func environmentVariableChoosesTheModel() throws {
    let tiny = Self.root.appendingPathComponent("Tests/GroundingTests/Fixtures/tiny-bluelm").path
    let image = Self.heldout.appendingPathComponent("gtk_heldout_000.png").path
    let r = try CLI.run(["ground", "--image", image, "OK", "--json", "--threads", "1"],
                        environment: ["GUI_AGENT_MODEL": tiny])
    #expect(r.status == 0, "\(r.stderr)")
    #expect((try r.json()["model"] as? String) == tiny)

    let missing = try CLI.run(["ground", "--image", image, "OK"], environment: ["GUI_AGENT_MODEL": "/nonexistent/nano"])
    #expect(missing.status == 1)
    #expect(missing.stderr.contains("/nonexistent/nano"), "\(missing.stderr)")
  }

  @Test func evalWithoutMethodScoresTheEmbeddedModel() throws {
    let r = try CLI.run(["eval", "screenspot", "--data", Self.heldout.appendingPathComponent("screenspot_heldout.json").path,
                         "--images", Self.heldout.path, "--limit", "6", "--threads", "1", "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try r.json()
    #expect(j["n"] as? Int == 6)
    #expect(j["no_coordinate"] as? Int == 0)
  }
}
