import Foundation
import Grounding
import Imaging
import Testing
@testable import Agent

/// How a served VLM's name picks its convention, grammar and input size; how its points map to
/// the screen; the element-number target; Qwen's computer-use calls.
@Suite struct RemoteVisionModelTests {
  @Test func servedNamesPickTheKnownModel() throws {
    let tars15 = try RemoteVisionModel(servedName: "ui-tars-1.5-7b")
    #expect(tars15.knownModel?.id == "ui-tars-1.5" && tars15.convention == .resizedPixels && tars15.grammar == .uiTars)
    #expect(tars15.resize != nil)
    let hf = try RemoteVisionModel(servedName: "ByteDance-Seed/UI-TARS-1.5-7B")
    #expect(hf.knownModel?.id == "ui-tars-1.5")
    let tars10 = try RemoteVisionModel(servedName: "bytedance-research/UI-TARS-7B-DPO")
    #expect(tars10.knownModel?.id == "ui-tars" && tars10.convention == .norm1000 && tars10.resize == nil)
    let qwen = try RemoteVisionModel(servedName: "qwen2.5-vl:7b")
    #expect(qwen.knownModel?.id == "qwen2.5-vl" && qwen.grammar == .json && qwen.convention == .resizedPixels)
    // A fine-tune's name wins over its base's.
    #expect(KnownModels.recognise(servedName: "my-ui-tars-1.5-qwen2.5-vl")?.id == "ui-tars-1.5")
    #expect(throws: AgentError.self) { try RemoteVisionModel(servedName: "llama-3-8b") }
    let given = try RemoteVisionModel(servedName: "llama-3-8b", convention: .unitInterval)
    #expect(given.knownModel == nil && given.convention == .unitInterval && given.grammar == .json)
    // --convention overrides the row's.
    #expect(try RemoteVisionModel(servedName: "ui-tars-1.5-7b", convention: .norm1000).resize == nil)
  }

  @Test func resizedPixelsModelsGetTheSmartResizedScreenshot() throws {
    let model = try RemoteVisionModel(servedName: "ui-tars-1.5-7b")
    let screen = try RGBImage(width: 1920, height: 1080, fill: RGB(200, 200, 200))
    let sent = try model.input(screen)
    // smart_resize(1080, 1920, factor 28): 1092 x 1932, both multiples of 28.
    #expect(sent.width == 1932 && sent.height == 1092)
    // A point in the sent image maps back by the ratio of the sizes.
    #expect(try model.screenPoint(ModelPoint(x: 966, y: 546), sent: (1932, 1092), screen: (1920, 1080)) == ScreenPoint(x: 960, y: 540))
    let tars10 = try RemoteVisionModel(servedName: "ui-tars-7b-sft")
    #expect(try tars10.input(screen).width == 1920)
    #expect(try tars10.screenPoint(ModelPoint(x: 500, y: 500), sent: (1920, 1080), screen: (1920, 1080)) == ScreenPoint(x: 960, y: 540))
  }

  @Test func pointsOutsideTheImageAreRefusedNotClamped() throws {
    let model = try RemoteVisionModel(servedName: "ui-tars-1.5-7b")
    #expect(throws: AgentError.self) { try model.screenPoint(ModelPoint(x: 2000, y: 10), sent: (1932, 1092), screen: (1920, 1080)) }
    #expect(throws: AgentError.self) { try model.screenPoint(ModelPoint(x: -1, y: 10), sent: (1932, 1092), screen: (1920, 1080)) }
    let tars10 = try RemoteVisionModel(servedName: "ui-tars-7b-sft")
    #expect(throws: AgentError.self) { try tars10.screenPoint(ModelPoint(x: 10, y: 1001), sent: (1920, 1080), screen: (1920, 1080)) }
  }

  @Test func elementNumberTargetsInBothGrammars() throws {
    let json = JSONActionGrammar.parse(#"{"action": "click", "target": {"element_id": 3}}"#)
    #expect(try json.get().actions == [.click(.elementNumber(3))])
    #expect(try JSONActionGrammar.parse(#"{"action": "click", "target": {"element_id": "4"}}"#).get().actions == [.click(.elementNumber(4))])
    guard case let .failure(f) = JSONActionGrammar.parse(#"{"action": "click", "target": {"element_id": 0}}"#) else {
      Issue.record("element_id 0 parsed"); return
    }
    #expect(f.message.contains("element_id"))
    #expect(JSONActionGrammar.serialize(.click(.elementNumber(3))) == #"{"action":"click","target":{"element_id":3}}"#)
    let tars = UITARSGrammar.parse("Action: drag(start_element_id='2', end_element_id='5')")
    #expect(try tars.get().actions == [.drag(from: .elementNumber(2), to: .elementNumber(5))])
    for action: AgentAction in [.rightClick(.elementNumber(7)), .scroll(at: .elementNumber(1), direction: .down, amount: 2)] {
      for grammar in ActionGrammar.allCases {
        #expect(try grammar.parse(grammar.serialize(ParsedResponse(actions: [action]))).get().actions == [action])
      }
    }
  }

  @Test func qwenToolCallsBecomeActions() throws {
    func action(_ text: String) throws -> AgentAction? {
      guard let json = QwenComputerUse.translate(text) else { return nil }
      return try JSONActionGrammar.parse(json).get().actions.first
    }
    let click = """
      The button is there.
      <tool_call>
      {"name": "computer_use", "arguments": {"action": "left_click", "coordinate": [412, 73]}}
      </tool_call>
      """
    #expect(try action(click) == .click(.at(412, 73)))
    #expect(try JSONActionGrammar.parse(QwenComputerUse.translate(click) ?? "").get().thought == "The button is there.")
    #expect(try action(#"<tool_call>{"name": "computer_use", "arguments": {"action": "key", "keys": ["ctrl", "s"]}}</tool_call>"#)
            == .hotkey(["ctrl", "s"]))
    #expect(try action(#"{"name": "computer_use", "arguments": {"action": "type", "text": "hi"}}"#) == .type("hi"))
    #expect(try action(#"{"arguments": {"action": "scroll", "pixels": -300, "coordinate": [5, 6]}}"#)
            == .scroll(at: .at(5, 6), direction: .down, amount: 3))
    #expect(try action(#"{"arguments": {"action": "left_click_drag", "start_coordinate": [1, 2], "coordinate": [3, 4]}}"#)
            == .drag(from: .at(1, 2), to: .at(3, 4)))
    #expect(try action(#"{"arguments": {"action": "terminate", "status": "success"}}"#) == .finished(summary: "success"))
    // Not a tool call, or one this agent cannot do: left to the JSON grammar.
    #expect(QwenComputerUse.translate(#"{"action": "click", "target": {"point": [1, 2]}}"#) == nil)
    #expect(QwenComputerUse.translate(#"{"arguments": {"action": "mouse_move", "coordinate": [1, 2]}}"#) == nil)
    #expect(QwenComputerUse.translate(#"{"arguments": {"action": "left_click"}}"#) == nil)
  }
}
