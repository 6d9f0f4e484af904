import Testing
@testable import Grounding

// The answer forms of the known GUI models (KnownModels.swift): each read as its authors' own
// parsers read it, reasoning text skipped.
@Suite struct AnswerFormTests {
  @Test func uiTarsTakesThePointFromTheActionLineNotTheThought() {
    let text = "Thought: The Save icon at (12, 40) looks disabled; the one at [300, 20] is the target.\n"
      + "Action: click(start_box='(412,73)')"
    #expect(GroundingAnswer.parse(text) == .point(x: 412, y: 73))
    let tokens = "Thought: (1,2) is wrong.\nAction: click(start_box='<|box_start|>(5,6)<|box_end|>')"
    #expect(GroundingAnswer.parse(tokens) == .point(x: 5, y: 6))
    let newer = "Thought: <point>1 2</point> is the menu.\nAction: click(point='<point>300 40</point>')"
    #expect(GroundingAnswer.parse(newer) == .point(x: 300, y: 40))
  }

  @Test func anActionWithoutCoordinatesHasNone() {
    // The Thought's numbers are not a fallback: the model decided on something else.
    let text = "Thought: The dialog at (100, 200) is open; I should wait.\nAction: wait()"
    #expect(GroundingAnswer.parse(text) == .noCoordinate(.noCoordinateFound))
  }

  @Test func qwen2VLBoxTokensAndObjectReference() {
    let text = "<|object_ref_start|>the OK button<|object_ref_end|><|box_start|>(120,40),(180,62)<|box_end|>"
    #expect(GroundingAnswer.parse(text) == .box(x1: 120, y1: 40, x2: 180, y2: 62))
  }

  @Test func showUIFractions() {
    #expect(GroundingAnswer.parse("[0.49, 0.37]", validRange: CoordinateConvention.unitInterval.validRange())
            == .point(x: 0.49, y: 0.37))
  }

  @Test func qwen25VLJSONBoxesAndPoints() {
    let box = "```json\n[\n  {\"bbox_2d\": [311, 52, 402, 80], \"label\": \"Save button 2\"}\n]\n```"
    #expect(GroundingAnswer.parse(box) == .box(x1: 311, y1: 52, x2: 402, y2: 80))
    let point = "{\"point_2d\": [412, 73], \"label\": \"the 3rd tab\"}"
    #expect(GroundingAnswer.parse(point) == .point(x: 412, y: 73))
  }

  @Test func holo2XYObject() {
    #expect(GroundingAnswer.parse("{\"x\": 412, \"y\": 73}") == .point(x: 412, y: 73))
    #expect(GroundingAnswer.parse("{\"y\":73,\n \"x\" : 41.5}") == .point(x: 41.5, y: 73))
    #expect(GroundingAnswer.parse("{\"x\": -4, \"y\": 73}")
            == .noCoordinate(.outOfRange(value: -4, allowed: 0...Double.greatestFiniteMagnitude)))
    #expect(GroundingAnswer.parse("{\"x\": 412}") == .noCoordinate(.noCoordinateFound))
  }

  @Test func maiUIAnswerTagsSkipTheReasoning() {
    let text = "<grounding_think>Not (10,10), the toolbar one.</grounding_think>\n<answer>\n{\"coordinate\": [412,73]}\n</answer>"
    #expect(GroundingAnswer.parse(text) == .point(x: 412, y: 73))
  }

  @Test func thinkingIsSkipped() {
    let text = "<think>The icon near (5, 5) is a decoy.</think>\n[{\"point_2d\": [412, 73]}]"
    #expect(GroundingAnswer.parse(text) == .point(x: 412, y: 73))
    #expect(GroundingAnswer.parse("<think>(5, 5)</think>   ") == .noCoordinate(.noCoordinateFound))
  }

  @Test func uiVenusInfeasibleMarkerIsNoCoordinate() {
    #expect(GroundingAnswer.parse("[-1,-1]", validRange: 0...1000)
            == .noCoordinate(.outOfRange(value: -1, allowed: 0...1000)))
  }

  @Test func everyRowsExampleAnswerReadsAsItsForm() throws {
    for row in KnownModels.all {
      let parsed = GroundingAnswer.parse(row.exampleAnswer)
      switch (row.answer, parsed) {
      case (.box, .box), (.point, .point), (.uiTarsAction, .point): break
      case (.pointerHead, .noCoordinate): break
      default: Issue.record("\(row.id): \(row.answer) example '\(row.exampleAnswer)' read as \(parsed)")
      }
    }
  }
}
