import Engine
import Foundation
import Imaging
import Testing
@testable import Agent

/// A planner that answers from a list and remembers what it was shown.
final class FakePlanner: ActionPlanner {
  var answers: [String]
  var seen: [PlannerContext] = []
  var name: String { "fake" }
  /// Seconds each answer takes (a slow model).
  var delay: Double = 0

  init(_ answers: [String]) { self.answers = answers }

  func next(_ context: PlannerContext) throws -> PlannerOutput? {
    seen.append(context)
    if delay > 0 { Thread.sleep(forTimeInterval: delay) }
    guard !answers.isEmpty else { return nil }
    return PlannerOutput(rawOutput: answers.removeFirst(), reasoning: "thinking", pointSpace: .screen)
  }
}

@Suite(.serialized) struct LoopPlannerTests {
  static let tiny = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../GroundingTests/Fixtures/tiny-bluelm").standardized.path

  @Test func parseFailuresAreRecordedAndRetriedWithTheError() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    let planner = FakePlanner([
      "I think I should click somewhere.",
      #"{"action": "click"}"#,
      #"{"thought": "now properly", "action": "click", "target": {"point": [120, 80]}}"#,
      "Thought: done\nAction: finished(content='ok')",
    ])
    let outcome = try rig.loop(planner: planner).run(task: "retry")
    #expect(outcome.status == .succeeded, "\(outcome.reason)")
    #expect(outcome.reason == "ok")
    let steps = try rig.store.steps(episode: outcome.episodeId)
    #expect(steps.count == 4)
    #expect(steps[0].action == nil && steps[0].error?.hasPrefix("the output did not parse") == true)
    #expect(steps[1].action == nil && steps[1].error?.contains("target") == true, "\(steps[1].error ?? "")")
    #expect(steps[0].rawOutput == "I think I should click somewhere.")
    #expect(steps[2].action == .click(.at(120, 80)) && steps[2].screenChanged == true && steps[2].error == nil)
    // The planner saw each failure as feedback and in its history, and none after the success.
    #expect(planner.seen[0].feedback == nil)
    #expect(planner.seen[1].feedback == steps[0].error)
    #expect(planner.seen[2].feedback == steps[1].error)
    #expect(planner.seen[3].feedback == nil)
    #expect(planner.seen[3].history.map(\.result) == [steps[0].error, steps[1].error, "the screen changed"])
    #expect(planner.seen.map(\.stepIndex) == [0, 1, 2, 3])
  }

  @Test func tooManyFailuresInARowFailTheEpisode() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    var settings = LoopRig.fastSettings()
    settings.maxConsecutiveFailures = 3
    let planner = FakePlanner(Array(repeating: "no action here", count: 10))
    let outcome = try rig.loop(settings, planner: planner).run(task: "garbage")
    #expect(outcome.status == .failed)
    #expect(outcome.steps == 3)
    #expect(outcome.reason.hasPrefix("3 failed steps in a row"))
    #expect(try rig.store.episode(outcome.episodeId).error == outcome.reason)
  }

  @Test func historyIsLimitedToTheLastKSteps() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    var settings = LoopRig.fastSettings()
    settings.historyLength = 2
    settings.settleSeconds = 0
    let planner = FakePlanner(Array(repeating: #"{"action": "wait", "seconds": 0}"#, count: 4))
    _ = try rig.loop(settings, planner: planner).run(task: "history")
    #expect(planner.seen.map(\.history.count) == [0, 1, 2, 2, 2])
  }

  @Test func aSlowStepTimesOutWithoutActing() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    var settings = LoopRig.fastSettings()
    settings.stepTimeoutSeconds = 0.2
    let planner = FakePlanner([#"{"action": "click", "target": {"point": [100, 100]}}"#])
    planner.delay = 0.4
    let screen = try rig.display.capture(.screen)
    let outcome = try rig.loop(settings, planner: planner).run(task: "slow")
    #expect(outcome.status == .failed)
    #expect(outcome.reason.contains("step timeout of 0.2 s ran out while planning"))
    #expect(try rig.store.steps(episode: outcome.episodeId).first?.error?.contains("timeout") == true)
    #expect(try rig.display.capture(.screen) == screen)
    // The planner is told its deadline, so a model stops generating in time.
    let context = try #require(planner.seen.first)
    #expect(context.deadline - ContinuousClock.now < .seconds(0.2))
  }

  @Test func theEpisodeTimeoutEndsTheEpisode() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    var settings = LoopRig.fastSettings()
    settings.episodeTimeoutSeconds = 0.5
    settings.settleSeconds = 0
    let planner = FakePlanner(Array(repeating: #"{"action": "wait", "seconds": 0.2}"#, count: 20))
    let outcome = try rig.loop(settings, planner: planner).run(task: "long")
    #expect(outcome.status == .failed)
    #expect(outcome.reason.contains("episode timeout"))
    #expect(outcome.steps >= 1 && outcome.steps <= 4)
  }

  @Test func aDeclinedConfirmationStopsBeforeTheAction() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    let screen = try rig.display.capture(.screen)
    nonisolated(unsafe) var asked: [(AgentAction, [ScreenPoint])] = []
    var configuration = AgentLoop.Configuration(display: rig.display, store: rig.store, settings: LoopRig.fastSettings())
    configuration.confirm = { action, points in
      asked.append((action, points))
      return false
    }
    let p = try plan(#"{"steps": [{"action": {"action": "wait", "seconds": 0}}, {"action": {"action": "click", "target": {"point": [100, 100]}}}]}"#)
    let outcome = try AgentLoop(configuration: configuration).run(task: "confirm", plan: p)
    #expect(outcome.status == .stopped)
    #expect(asked.count == 1)  // a wait sends no input and is not asked about
    #expect(asked.first?.0 == .click(.at(100, 100)) && asked.first?.1 == [ScreenPoint(x: 100, y: 100)])
    #expect(try rig.store.steps(episode: outcome.episodeId).last?.error == "the user declined the action")
    #expect(try rig.display.capture(.screen) == screen)
  }

  /// The model paths with the tiny random checkpoint: its answers are noise, so the loop must
  /// record them as failures (unparsable output, or an element the grounder gives no point for)
  /// and end cleanly.
  @Test func tinyModelRunsThroughTheLoop() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    let model = try ModelLoader.load(path: Self.tiny)
    var settings = LoopRig.fastSettings()
    settings.maxSteps = 2
    settings.thinkBudget = 4
    settings.maxAnswerTokens = 24
    settings.dryRun = true
    // Mode 1: the VLM plans.
    let loop = AgentLoop(configuration: try AgentLoop.Configuration(
      display: rig.display, store: rig.store, vlm: model, planner: nil, settings: settings))
    let outcome = try loop.run(task: "click OK")
    let steps = try rig.store.steps(episode: outcome.episodeId)
    #expect(steps.count == outcome.steps && steps.count >= 1)
    // The ending agrees with what was recorded.
    switch outcome.status {
    case .maxSteps: #expect(steps.count == settings.maxSteps)
    case .succeeded: #expect(steps.last?.action.map { if case .finished = $0 { true } else { false } } == true)
    case .stopped: #expect(steps.last?.action.map { if case .callUser = $0 { true } else { false } } == true)
    case .failed: #expect(steps.last?.error != nil, "\(outcome.reason)")
    default: Issue.record("unexpected ending \(outcome.status): \(outcome.reason)")
    }
    for s in steps {
      #expect(!s.rawOutput.isEmpty)
      #expect(s.tokens != nil)
      #expect(s.action != nil || s.error != nil)
    }
    #expect(try rig.store.episode(outcome.episodeId).models["planner"] == Self.tiny)
    // The episode names the exact weights: the checkpoint file's SHA-256.
    let weights = try Data(contentsOf: URL(fileURLWithPath: Self.tiny).appendingPathComponent("model.safetensors"))
    let digest = weights.withUnsafeBytes { SHA256.hex($0) }
    #expect(try rig.store.episode(outcome.episodeId).models["planner_sha256"] == digest)
    // Mode 1 with constrained decoding: the same noise now always forms an action.
    var constrainedSettings = settings
    constrainedSettings.constrainedDecoding = true
    constrainedSettings.maxAnswerTokens = 800
    let constrained = try AgentLoop(configuration: AgentLoop.Configuration(
      display: rig.display, store: rig.store, vlm: model, planner: nil, settings: constrainedSettings)).run(task: "click OK")
    let constrainedSteps = try rig.store.steps(episode: constrained.episodeId)
    #expect(!constrainedSteps.isEmpty)
    for s in constrainedSteps {
      #expect(s.action != nil, "\(s.rawOutput)")
      #expect(s.error?.hasPrefix("the output did not parse") != true)
    }
    // Mode 2: a text planner (the same tiny model, without the image) and the VLM grounding.
    let mode2 = AgentLoop(configuration: try AgentLoop.Configuration(
      display: rig.display, store: rig.store, vlm: model, planner: model, settings: settings))
    let textOutcome = try mode2.run(task: "click OK")
    let textSteps = try rig.store.steps(episode: textOutcome.episodeId)
    #expect(textSteps.count == textOutcome.steps && textSteps.allSatisfy { $0.action != nil || $0.error != nil })
    #expect(try rig.store.episode(textOutcome.episodeId).models == [
      "planner": Self.tiny, "grounding": Self.tiny, "planner_sha256": digest, "grounding_sha256": digest])
    // Mode 3 with grounding: an element target is located by the tiny VLM or recorded as a failure.
    let p = try plan(#"{"steps": [{"action": {"action": "click", "target": {"element": "the OK button"}}}]}"#)
    let grounded = try loop.run(task: "ground", plan: p)
    let step = try #require(try rig.store.steps(episode: grounded.episodeId).first)
    if step.groundedPoint == nil {
      #expect(step.error?.hasPrefix("could not locate 'the OK button'") == true, "\(step.error ?? "")")
      // A scripted step that did not run fails the plan.
      #expect(grounded.status == .failed)
      #expect(grounded.reason.contains("1 step(s) that did not run"), "\(grounded.reason)")
    } else {
      #expect(step.error == nil || step.error?.hasPrefix("refused") == true)
    }
  }
}
