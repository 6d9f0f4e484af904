import Engine
import Foundation
import Testing
@testable import Agent

@Suite struct ConstrainedDecodingTests {
  static let sentences: [(String, AgentAction)] = [
    (#"{"thought": "Save it.", "action": "click", "target": {"point": [512, 300]}}"#, .click(.at(512, 300))),
    (#"{"thought": "", "action": "double_click", "target": {"element": "the \"report\" icon"}}"#, .doubleClick(.element("the \"report\" icon"))),
    (#"{"thought": "t", "action": "right_click", "target": {"point": [-1.5, 2.25]}}"#, .rightClick(.at(-1.5, 2.25))),
    (#"{"thought": "t", "action": "drag", "from": {"point": [1, 2]}, "to": {"element": "the Trash"}}"#, .drag(from: .at(1, 2), to: .element("the Trash"))),
    (#"{"thought": "t", "action": "scroll", "direction": "down"}"#, .scroll(at: nil, direction: .down, amount: 5)),
    (#"{"thought": "t", "action": "scroll", "direction": "up", "target": {"point": [5, 6]}, "amount": 3}"#, .scroll(at: .at(5, 6), direction: .up, amount: 3)),
    (#"{"thought": "t", "action": "type", "text": "hello\nworld \u00e9"}"#, .type("hello\nworld é")),
    (#"{"thought": "t", "action": "hotkey", "keys": ["ctrl", "s"]}"#, .hotkey(["ctrl", "s"])),
    (#"{"thought": "t", "action": "wait", "seconds": 1}"#, .wait(seconds: 1)),
    (#"{"thought": "t", "action": "finished", "summary": "Saved."}"#, .finished(summary: "Saved.")),
    (#"{"thought": "t", "action": "call_user", "question": "Which printer?"}"#, .callUser(question: "Which printer?")),
  ]

  @Test func sentencesAreCompleteTheirPrefixesArePrefixesAndTheyParse() throws {
    let schema = ActionSchema(points: true)
    for (text, action) in Self.sentences {
      #expect(schema.match(text) == .complete, "\(text)")
      let scalars = Array(text.unicodeScalars)
      for n in 0..<scalars.count {
        var prefix = String.UnicodeScalarView()
        prefix.append(contentsOf: scalars[..<n])
        #expect(schema.match(String(prefix)) == .prefix, "\(String(prefix))")
      }
      #expect(try JSONActionGrammar.parse(text).get().actions == [action], "\(text)")
    }
  }

  @Test(arguments: [
    #"{"thought": "t", "action": "clack""#,                        // no such action
    #"{"action": "click""#,                                         // the thought comes first
    #"{"thought": "t", "action": "click", "target": {"point": [1 2"#,  // separator
    #"{"thought": "t", "action": "wait", "seconds": 1}}"#,          // text after the end
    #"{"thought": "a"#+"\n",                                       // raw control character in a string
    #"{"thought": "\q"#,                                            // bad escape
    #"{"thought": "t", "action": "wait", "seconds": 1234567"#,      // too many digits
  ])
  func nonSentencesAreInvalid(_ text: String) {
    #expect(ActionSchema(points: true).match(text) == .invalid)
  }

  @Test func elementOnlySchemaRejectsPointsAndStringsAreBounded() {
    let elements = ActionSchema(points: false, maxStringLength: 5)
    #expect(elements.match(#"{"thought": "t", "action": "click", "target": {"p"#) == .invalid)
    #expect(elements.match(#"{"thought": "t", "action": "click", "target": {"element": "OK"}}"#) == .complete)
    #expect(elements.match(#"{"thought": "12345"#) == .prefix)
    #expect(elements.match(#"{"thought": "123456"#) == .invalid)
    let keys = #"{"thought": "t", "action": "hotkey", "keys": ["a", "b", "c", "d""#
    #expect(elements.match(keys + "]}") == .complete)
    #expect(elements.match(keys + ", ") == .invalid)  // at most 4 keys
  }

  @Test func topIdsComeInOrder() {
    let logits: [Float] = [0.5, 3, -1, 2, 9, 2.5]
    #expect(ConstrainedDecoder.top(3, of: logits) == [4, 1, 5])
    #expect(ConstrainedDecoder.top(10, of: logits) == [4, 1, 5, 3, 0, 2])
  }

  /// The tiny random checkpoint writes noise; constrained, it writes actions.
  @Test func aNoiseModelConstrainedAlwaysEmitsAnAction() throws {
    let model = try ModelLoader.load(path: LoopPlannerTests.tiny)
    let decoder = ConstrainedDecoder(model: model, schema: ActionSchema(points: true, maxStringLength: 24))
    for task in ["open the File menu", "type hello", "close the window"] {
      let ids = model.promptIds(AgentPrompt.render(task: task, history: [], feedback: nil, screenWidth: 640,
                                                   screenHeight: 480, targets: .pointsOrElements))
      let r = try decoder.generate(promptIds: ids, imageEmbeddings: nil, maxTokens: 400, deadline: .now + .seconds(120))
      #expect(r.complete, "\(r.text)")
      #expect(throws: Never.self, "\(r.text)") { try JSONActionGrammar.parse(r.text).get() }
      // Unconstrained, the same model does not produce an action.
      let free = try model.complete(promptIds: ids, maxTokens: 60)
      #expect(throws: ParseFailure.self) { try ActionGrammar.parseAny(free.answer).get() }
    }
  }
}
