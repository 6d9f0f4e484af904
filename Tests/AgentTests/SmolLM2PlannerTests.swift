import Foundation
import Testing
import TestSupport
@testable import Agent

/// Mode 2 with the real planner: SmolLM2 (GGUF) thinks and emits actions on element
/// descriptions under constrained decoding; the tiny VLM grounds them (its answers are noise, so
/// the steps fail at grounding, and that failure is recorded). `make test` fetches the GGUF.
@Suite(.serialized) struct SmolLM2PlannerTests {
  static var smolLM2: String {
    get throws {
      let path = ProcessInfo.processInfo.environment["GUI_AGENT_SMOLLM2_GGUF"]
        ?? (NSHomeDirectory() + "/.cache/gui-agent/models/SmolLM2-135M-Instruct.Q4_1.gguf")
      guard FileManager.default.fileExists(atPath: path) else {
        throw PlannerTestError("SmolLM2 GGUF missing at \(path): run scripts/fetch-models (make test does)")
      }
      return path
    }
  }
  static let tiny = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../GroundingTests/Fixtures/tiny-bluelm").standardized.path

  @Test func plannerThinksAndEmitsParsedActionsThatAreRecorded() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    let storePath = rig.folder.file("smol.sqlite").path
    let run = try runProgram(try guiAgentBinary(), [
      "run", "Press the button in the window", "--model", Self.tiny, "--planner", try Self.smolLM2,
      "--constrained", "--think-budget", "12", "--max-steps", "2", "--dry-run", "--store", storePath,
      "--display", rig.xvfb.display, "--json"])
    // The episode cannot succeed (the tiny VLM grounds nothing), but it must end in a recorded
    // failure, not a crash.
    #expect(run.status == 1, "\(run.stderr)")
    let store = try EpisodeStore(path: URL(fileURLWithPath: storePath))
    let episode = try #require(try store.episodes().first)
    #expect(episode.status == .maxSteps || episode.status == .failed)
    let steps = try store.steps(episode: episode.id)
    #expect(!steps.isEmpty)
    for step in steps {
      // Constrained decoding: every planner output parses into an action.
      #expect(step.action != nil, "raw output: \(step.rawOutput) error: \(step.error ?? "")")
      #expect(!(step.reasoning ?? "").isEmpty)
    }
  }
}

struct PlannerTestError: Error, CustomStringConvertible {
  let description: String
  init(_ d: String) { description = d }
}
