import Foundation
import Imaging
import Testing
@testable import Agent

/// The loop with scripted plans against a real X server (a private Xvfb) and a real client.
@Suite(.serialized) struct LoopTests {
  @Test func clicksLandAndChangesAreRecorded() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    let p = try plan("""
      {"steps": [{"action": {"action": "click", "target": {"point": [100, 100]}}, "expect_change": true},
                 {"action": {"action": "wait", "seconds": 0.1}, "expect_change": false},
                 {"action": {"action": "finished", "summary": "clicked"}}]}
      """)
    let outcome = try rig.loop().run(task: "click the canvas", plan: p)
    #expect(outcome.status == .succeeded)
    #expect(outcome.reason == "clicked")
    #expect(outcome.steps == 3)
    let steps = try rig.store.steps(episode: outcome.episodeId)
    #expect(steps.map(\.screenChanged) == [true, false, nil])
    #expect(steps[0].groundedPoint == GroundedPoint(x: 100, y: 100))
    #expect(steps.allSatisfy { $0.ended != nil && $0.error == nil })
    // The after-screenshot shows the square the click drew; the before one does not.
    let before = try PNG.decode(try #require(try rig.store.screenshot(episode: outcome.episodeId, step: 0, moment: .before)))
    let after = try PNG.decode(try #require(try rig.store.screenshot(episode: outcome.episodeId, step: 0, moment: .after)))
    #expect(rig.pixel(before, 100, 100) == [255, 255, 255])
    #expect(rig.pixel(after, 100, 100) == [0, 0, 0])
    #expect(rig.pixel(after, 100, 130) == [255, 255, 255])
    let episode = try rig.store.episode(outcome.episodeId)
    #expect(episode.status == .succeeded && episode.summary == "clicked")
    #expect(episode.models["planner"] == "scripted")
  }

  @Test func dryRunSendsNoEvents() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    let pointer = try rig.display.pointerPosition()
    let screen = try rig.display.capture(.screen)
    var settings = LoopRig.fastSettings()
    settings.dryRun = true
    let p = try plan("""
      {"steps": [{"action": {"action": "click", "target": {"point": [100, 100]}}},
                 {"action": {"action": "type", "text": "abc"}},
                 {"action": {"action": "drag", "from": {"point": [10, 10]}, "to": {"point": [300, 200]}}}]}
      """)
    let outcome = try rig.loop(settings).run(task: "dry", plan: p)
    #expect(outcome.status == .succeeded)
    let steps = try rig.store.steps(episode: outcome.episodeId)
    #expect(steps.count == 3)
    #expect(steps.map(\.screenChanged) == [false, false, false])
    #expect(steps.map { $0.action?.name } == ["click", "type", "drag"])
    #expect(try rig.display.capture(.screen) == screen)
    #expect(try rig.display.pointerPosition() == pointer)
  }

  @Test func deniedHotkeyIsRefusedAndRecorded() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    let screen = try rig.display.capture(.screen)
    // Any key press would recolour the Tk window: an unchanged screen proves none was sent.
    let p = try plan("""
      {"steps": [{"action": {"action": "hotkey", "keys": ["ctrl", "alt", "BackSpace"]}},
                 {"action": {"action": "hotkey", "keys": ["Control_R+Alt_L+Delete"]}},
                 {"action": {"action": "finished"}}]}
      """)
    let outcome = try rig.loop().run(task: "deny", plan: p)
    #expect(outcome.status == .succeeded)
    let steps = try rig.store.steps(episode: outcome.episodeId)
    #expect(steps.count == 3)
    for s in steps.prefix(2) {
      #expect(s.error?.hasPrefix("refused: key combination") == true, "\(s.error ?? "no error")")
      #expect(s.action?.name == "hotkey")
      #expect(s.screenChanged == nil)
    }
    #expect(try rig.display.capture(.screen) == screen)
  }

  @Test func allowListRefusesOtherActions() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    var settings = LoopRig.fastSettings()
    settings.allowedActions = ["click", "finished"]
    settings.maxConsecutiveFailures = 1
    let p = try plan(#"{"steps": [{"action": {"action": "type", "text": "x"}}]}"#)
    let outcome = try rig.loop(settings).run(task: "allow", plan: p)
    #expect(outcome.status == .failed)
    let steps = try rig.store.steps(episode: outcome.episodeId)
    #expect(steps.count == 1)
    #expect(steps[0].error?.contains("not in the allow-list") == true)
  }

  @Test func maxStepsEndsTheEpisode() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    var settings = LoopRig.fastSettings()
    settings.maxSteps = 3
    settings.settleSeconds = 0
    let wait = #"{"action": {"action": "wait", "seconds": 0}}"#
    let p = try plan(#"{"steps": ["# + Array(repeating: wait, count: 6).joined(separator: ",") + "]}")
    let outcome = try rig.loop(settings).run(task: "wait forever", plan: p)
    #expect(outcome.status == .maxSteps)
    #expect(outcome.steps == 3)
    #expect(try rig.store.episode(outcome.episodeId).status == .maxSteps)
    #expect(try rig.store.steps(episode: outcome.episodeId).count == 3)
  }

  @Test func failSafeStopsWhenThePointerIsInACorner() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    // The person shoves the pointer into the bottom-right corner before the step.
    try rig.display.movePointer(to: ScreenPoint(x: 639, y: 478))
    let screen = try rig.display.capture(.screen)
    let p = try plan(#"{"steps": [{"action": {"action": "click", "target": {"point": [100, 100]}}}]}"#)
    let outcome = try rig.loop().run(task: "fail-safe", plan: p)
    #expect(outcome.status == .stopped)
    #expect(outcome.reason.contains("bottom-right corner"))
    let steps = try rig.store.steps(episode: outcome.episodeId)
    #expect(steps.count == 1)
    #expect(steps[0].error?.hasPrefix("fail-safe") == true)
    #expect(try rig.display.capture(.screen) == screen)
  }

  @Test func aCornerTheAgentClickedDoesNotTripTheFailSafe() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    let p = try plan("""
      {"steps": [{"action": {"action": "click", "target": {"point": [0, 0]}}, "expect_change": true},
                 {"action": {"action": "click", "target": {"point": [100, 100]}}, "expect_change": true}]}
      """)
    let outcome = try rig.loop().run(task: "corner", plan: p)
    #expect(outcome.status == .succeeded, "\(outcome.reason)")
    #expect(try rig.store.steps(episode: outcome.episodeId).map(\.screenChanged) == [true, true])
  }

  @Test func unmetExpectationFailsTheEpisode() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    // Outside the Tk window: the root window does not react to a click.
    let p = try plan(#"{"steps": [{"action": {"action": "click", "target": {"point": [600, 400]}}, "expect_change": true}]}"#)
    let outcome = try rig.loop().run(task: "expect", plan: p)
    #expect(outcome.status == .failed)
    #expect(outcome.reason.contains("expected the screen to change"))
  }

  @Test func elementTargetsWithoutAGroundingModelAreRecordedFailures() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    var settings = LoopRig.fastSettings()
    settings.maxConsecutiveFailures = 2
    let p = try plan("""
      {"steps": [{"action": {"action": "click", "target": {"element": "the OK button"}}},
                 {"action": {"action": "click", "target": {"point": [5000, 10]}}}]}
      """)
    let outcome = try rig.loop(settings).run(task: "no grounder", plan: p)
    #expect(outcome.status == .failed)
    let steps = try rig.store.steps(episode: outcome.episodeId)
    #expect(steps.map(\.error) == ["no grounding model to locate 'the OK button'",
                                   "refused: point (5000, 10) is outside the screen 640x480+0+0"])
  }
}
