import Foundation
import Imaging
import ScreenCapture
import Testing
@testable import Agent

/// Responses that hold several actions: all run in order, each its own step, or none runs.
@Suite(.serialized) struct MultiActionTests {
  @Test func bothActionsOfAResponseRunEachAsItsOwnStep() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    let answer = #"[{"thought": "two squares", "action": "click", "target": {"point": [100, 100]}}, "#
      + #"{"action": "click", "target": {"point": [250, 200]}}]"#
    let planner = FakePlanner([answer, #"{"action": "finished", "summary": "drawn"}"#])
    let outcome = try rig.loop(planner: planner).run(task: "draw two squares")
    #expect(outcome.status == .succeeded, "\(outcome.reason)")
    #expect(outcome.steps == 3)
    let steps = try rig.store.steps(episode: outcome.episodeId)
    #expect(steps.map(\.index) == [0, 1, 2])
    #expect(steps.prefix(2).allSatisfy { $0.rawOutput == answer && $0.error == nil && $0.ended != nil })
    #expect(steps[0].action == .click(.at(100, 100)) && steps[1].action == .click(.at(250, 200)))
    #expect(steps[0].groundedPoint == GroundedPoint(x: 100, y: 100))
    #expect(steps[1].groundedPoint == GroundedPoint(x: 250, y: 200))
    #expect(steps.prefix(2).map(\.screenChanged) == [true, true])
    // Each step's screen after shows its own click landed: the first only the first square.
    let id = outcome.episodeId
    let after0 = try PNG.decode(try #require(try rig.store.screenshot(episode: id, step: 0, moment: .after)))
    let after1 = try PNG.decode(try #require(try rig.store.screenshot(episode: id, step: 1, moment: .after)))
    #expect(rig.pixel(after0, 100, 100) == [0, 0, 0] && rig.pixel(after0, 250, 200) == [255, 255, 255])
    #expect(rig.pixel(after1, 100, 100) == [0, 0, 0] && rig.pixel(after1, 250, 200) == [0, 0, 0])
    // Both records keep the screen the model saw, where both points were located.
    let before0 = try #require(try rig.store.screenshot(episode: id, step: 0, moment: .before))
    #expect(try rig.store.screenshot(episode: id, step: 1, moment: .before) == before0)
    // The planner was asked once per response and sees one history entry per action.
    #expect(planner.seen.count == 2)
    #expect(planner.seen[1].stepIndex == 2)
    #expect(planner.seen[1].history.map(\.action) == [JSONActionGrammar.serialize(.click(.at(100, 100))),
                                                      JSONActionGrammar.serialize(.click(.at(250, 200)))])
    #expect(planner.seen[1].history.map(\.thought) == ["thinking", nil])
    // The export readers take the steps as they take any.
    let folder = try TempFolder()
    defer { folder.cleanup() }
    let lines = try String(contentsOf: try rig.store.exportJSONL(episode: id, to: folder.file("export")), encoding: .utf8)
    #expect(lines.split(separator: "\n").count == 3)
    #expect(try rig.store.htmlReport(episode: id).components(separatedBy: "<section class=\"step\"").count == 4)
  }

  @Test func aRefusedSecondActionRunsNeither() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    let screen = try rig.display.capture(.screen)
    let answer = #"[{"action": "click", "target": {"point": [100, 100]}}, {"action": "hotkey", "keys": ["ctrl", "alt", "BackSpace"]}]"#
    let planner = FakePlanner([answer])
    let outcome = try rig.loop(planner: planner).run(task: "click, then kill X")
    let steps = try rig.store.steps(episode: outcome.episodeId)
    #expect(steps.count == 1)
    let error = try #require(steps.first?.error)
    #expect(error.hasPrefix("refused: action 2 of 2 (hotkey): key combination 'ctrl+alt+BackSpace' is denied"), "\(error)")
    #expect(error.hasSuffix("; none of the 2 actions ran"))
    #expect(steps[0].action == .hotkey(["ctrl", "alt", "BackSpace"]))
    // No click landed (no square) and no key arrived (no recolouring).
    #expect(try rig.display.capture(.screen) == screen)
    // The planner is told, and its history shows the whole response.
    #expect(planner.seen.count == 2)
    #expect(planner.seen[1].feedback == error)
    #expect(planner.seen[1].history.map(\.action) == [JSONActionGrammar.serialize(
      ParsedResponse(actions: [.click(.at(100, 100)), .hotkey(["ctrl", "alt", "BackSpace"])]))])
  }

  @Test func finishedEndsTheEpisodeAfterTheActionsBeforeIt() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    let answer = #"[{"action": "click", "target": {"point": [100, 100]}}, {"action": "finished", "summary": "one square"}, "#
      + #"{"action": "click", "target": {"point": [250, 200]}}]"#
    let outcome = try rig.loop(planner: FakePlanner([answer])).run(task: "one square")
    #expect(outcome.status == .succeeded)
    #expect(outcome.reason == "one square")
    let steps = try rig.store.steps(episode: outcome.episodeId)
    #expect(steps.map { $0.action?.name } == ["click", "finished"])
    #expect(try rig.pixel(100, 100) == [0, 0, 0])
    #expect(try rig.pixel(250, 200) == [255, 255, 255])
  }

  @Test func anUnlocatableActionStopsTheWholeResponse() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    var settings = LoopRig.fastSettings()
    settings.maxConsecutiveFailures = 1
    let screen = try rig.display.capture(.screen)
    let answer = #"[{"action": "click", "target": {"point": [100, 100]}}, {"action": "click", "target": {"element": "OK"}}]"#
    let outcome = try rig.loop(settings, planner: FakePlanner([answer])).run(task: "no grounder")
    #expect(outcome.status == .failed)
    let steps = try rig.store.steps(episode: outcome.episodeId)
    #expect(steps.map(\.error) == ["action 2 of 2 (click): no grounding model to locate 'OK'"])
    #expect(try rig.display.capture(.screen) == screen)
  }
}
