import Foundation
import Grounding
import Imaging
import Testing
@testable import Agent

/// The region each step's target was found in, from the locator or the element list to the
/// step record.
@Suite(.serialized) struct LoopGroundingRegionTests {
  @Test func theLocatorsRegionIsRecordedWithItsPoint() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    let locator = FixedRegionLocator(point: ScreenPoint(x: 120, y: 90), box: PixelRect(x: 100, y: 80, width: 41, height: 21))
    let p = try plan("""
      {"steps": [{"action": {"action": "click", "target": {"element": "the canvas"}}, "expect_change": true},
                 {"action": {"action": "click", "target": {"point": [200, 150]}}},
                 {"action": {"action": "click", "target": {"element": "nothing"}}}]}
      """)
    let outcome = try rig.loop(locator: locator).run(task: "click the canvas", plan: p)
    let steps = try rig.store.steps(episode: outcome.episodeId)
    #expect(steps.count == 3)
    #expect(steps[0].groundedPoint == GroundedPoint(x: 120, y: 90))
    #expect(steps[0].groundedBox == PixelRect(x: 100, y: 80, width: 41, height: 21))
    #expect(steps[0].screenChanged == true)
    // A point target has no region; a description the locator could not find records neither.
    #expect(steps[1].groundedPoint == GroundedPoint(x: 200, y: 150) && steps[1].groundedBox == nil)
    #expect(steps[2].groundedPoint == nil && steps[2].groundedBox == nil)
    #expect(steps[2].error?.hasPrefix("could not locate 'nothing'") == true, "\(steps[2].error ?? "")")
    #expect(locator.asked == ["the canvas", "nothing"])
  }

  @Test func anElementIdRecordsTheListedElementsBox() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    let parse = ScreenParse(area: PixelRect(x: 0, y: 0, width: 640, height: 480), elements: [
      ScreenElement(id: 1, kind: .text, text: "Open", box: PixelRect(x: 10, y: 20, width: 30, height: 10), confidence: 90),
      ScreenElement(id: 2, kind: .text, text: "Save", box: PixelRect(x: 150, y: 60, width: 40, height: 16), confidence: 90),
    ], milliseconds: 1)
    let planner = ListedElementPlanner(parse: parse, answers: [
      #"{"action": "click", "target": {"element_id": 2}}"#,
      #"{"action": "finished", "summary": "saved"}"#,
    ])
    let outcome = try rig.loop(planner: planner).run(task: "click Save")
    #expect(outcome.status == .succeeded, "\(outcome.reason)")
    let steps = try rig.store.steps(episode: outcome.episodeId)
    // The element's centre is clicked; its box is the region.
    #expect(steps[0].groundedPoint == GroundedPoint(x: 170, y: 68))
    #expect(steps[0].groundedBox == PixelRect(x: 150, y: 60, width: 40, height: 16))
    #expect(steps[1].groundedBox == nil)
  }
}

/// Finds every description but "nothing" at one point in one region, and remembers what it was asked.
final class FixedRegionLocator: ElementLocator {
  let point: ScreenPoint
  let box: PixelRect
  var asked: [String] = []
  var name: String { "fixed region" }
  init(point: ScreenPoint, box: PixelRect) { (self.point, self.box) = (point, box) }
  func locate(_ description: String, in screenshot: RGBImage) throws -> Located {
    asked.append(description)
    return description == "nothing" ? .notFound("not on the screen") : Located(point: point, box: box, milliseconds: 1)
  }
}

/// Answers in order, each with the same element list, as a text planner shown a screen parse does.
final class ListedElementPlanner: ActionPlanner {
  let parse: ScreenParse
  var answers: [String]
  var name: String { "listed elements" }
  init(parse: ScreenParse, answers: [String]) { (self.parse, self.answers) = (parse, answers) }
  func next(_ context: PlannerContext) throws -> PlannerOutput? {
    guard !answers.isEmpty else { return nil }
    return PlannerOutput(rawOutput: answers.removeFirst(), parse: parse)
  }
}
