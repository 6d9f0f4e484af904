import Engine
import Foundation
import Grounding
import Imaging
import Testing
import TestSupport
@testable import Agent

/// `gui-agent run --model <Qwen-VL folder>` on a live Xvfb screen: a plan's element target is
/// grounded by the folder's model (its known model, convention and prompt, GUI-Actor's pointer
/// head where it has one), and the recorded point or failure is what that grounder gives on the
/// recorded screenshot; with no plan the Qwen model itself plans. Folders: the tiny random
/// checkpoints of scripts/fixtures/make_qwen_vl_fixtures.py and make_gui_actor_fixtures.py.
@Suite(.serialized) struct QwenVLRunTests {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("EngineTests/Fixtures/qwen-vl")

  @Test(arguments: ["gui_actor_qwen2_vl", "qwen2_vl"])
  func planElementsAreGroundedByTheFolder(folder: String) throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    let model = Self.fixtures.appendingPathComponent(folder).path
    let plan = rig.folder.file("plan.json")
    try Data(#"{"steps": [{"action": {"action": "click", "target": {"element": "the white canvas"}}}, {"action": {"action": "finished", "summary": "ok"}}]}"#.utf8)
      .write(to: plan)
    let storePath = rig.folder.file("qwen.sqlite").path
    let run = try runProgram(try guiAgentBinary(), [
      "run", "click the canvas", "--plan", plan.path, "--model", model, "--store", storePath,
      "--display", rig.xvfb.display, "--settle", "50", "--dry-run", "--threads", "1", "--json",
    ])
    let result = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any],
                              "\(run.stderr)")
    let id = try #require(result["episode"] as? Int)
    let store = try EpisodeStore(path: URL(fileURLWithPath: storePath))
    let steps = try store.steps(episode: Int64(id))
    let png = try #require(try store.screenshot(episode: Int64(id), step: 0, moment: .before))
    let locator = try GrounderLocator(model: try ModelLoader.load(path: model, threads: 1))
    let direct = try locator.locate("the white canvas", in: try PNG.decode(png))
    if let point = direct.point {
      // The pointer head always points; a text answer may hold a coordinate.
      #expect(run.status == 0, "\(run.stderr)")
      #expect(steps.first?.groundedPoint == GroundedPoint(x: Double(point.x), y: Double(point.y)))
      #expect(steps.count == 2 && result["status"] as? String == "succeeded")
    } else {
      #expect(folder == "qwen2_vl", "GUI-Actor's head gave no point")
      // A scripted plan goes on after a step that could not be grounded.
      #expect(steps.first?.groundedPoint == nil && steps.count == 2)
      #expect(steps.first?.error?.contains(try #require(direct.why)) == true, "\(steps.first?.error ?? "no error")")
    }
    let known = folder.hasPrefix("gui_actor") ? "GUI-Actor" : "Qwen2-VL"
    #expect(run.stderr.contains("grounding as \(known) (folder name '\(folder)'): norm1000 coordinates"), "\(run.stderr)")
  }

  /// Mode 1: the Qwen model plans from the screenshot. The tiny random model answers noise, so
  /// the episode fails, but the step holds the model's own answer and the run ends in order.
  @Test func theQwenModelPlans() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    let model = Self.fixtures.appendingPathComponent("qwen3_vl").path
    let storePath = rig.folder.file("plan.sqlite").path
    let run = try runProgram(try guiAgentBinary(), [
      "run", "click the canvas", "--model", model, "--store", storePath, "--display", rig.xvfb.display,
      "--max-steps", "1", "--think-budget", "0", "--settle", "50", "--dry-run", "--threads", "1", "--json",
    ])
    #expect(run.status == 1, "\(run.stderr)")
    let result = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    let id = try #require(result["episode"] as? Int)
    let store = try EpisodeStore(path: URL(fileURLWithPath: storePath))
    let steps = try store.steps(episode: Int64(id))
    #expect(steps.count == 1)
    #expect(steps.first?.rawOutput.isEmpty == false)
    #expect((steps.first?.tokens?.prompt ?? 0) > 100, "the screenshot's image tokens are in the prompt")
    #expect(try store.episode(Int64(id)).status != .running)
  }
}
