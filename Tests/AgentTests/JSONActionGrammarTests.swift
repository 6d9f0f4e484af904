import Testing
@testable import Agent

@Suite struct JSONActionGrammarTests {
  private func actions(_ text: String) -> [AgentAction]? {
    try? JSONActionGrammar.parse(text).get().actions
  }

  private func failure(_ text: String) -> ParseFailure? {
    if case let .failure(f) = JSONActionGrammar.parse(text) { return f }
    return nil
  }

  @Test func everyKind() {
    #expect(actions(#"{"action":"click","target":{"point":[512,300]}}"#) == [.click(.at(512, 300))])
    #expect(actions(#"{"action":"click","target":{"element":"the Save button"}}"#) == [.click(.element("the Save button"))])
    #expect(actions(#"{"action":"right_click","target":{"box":[0,0,10,20]}}"#)
      == [.rightClick(.point(ModelPoint(box: ModelBox(x1: 0, y1: 0, x2: 10, y2: 20))))])
    #expect(actions(#"{"action":"double_click","target":{"point":[1.5,2]}}"#) == [.doubleClick(.at(1.5, 2))])
    #expect(actions(#"{"action":"drag","from":{"point":[1,2]},"to":{"element":"Trash"}}"#)
      == [.drag(from: .at(1, 2), to: .element("Trash"))])
    #expect(actions(#"{"action":"scroll","target":{"point":[5,6]},"direction":"down","amount":3}"#)
      == [.scroll(at: .at(5, 6), direction: .down, amount: 3)])
    #expect(actions(#"{"action":"scroll","direction":"up"}"#) == [.scroll(at: nil, direction: .up, amount: 5)])
    #expect(actions(#"{"action":"type","text":"a\nb \"q\""}"#) == [.type("a\nb \"q\"")])
    #expect(actions(#"{"action":"hotkey","keys":["ctrl","s"]}"#) == [.hotkey(["ctrl", "s"])])
    #expect(actions(#"{"action":"wait","seconds":1}"#) == [.wait(seconds: 1)])
    #expect(actions(#"{"action":"finished","summary":"done"}"#) == [.finished(summary: "done")])
    #expect(actions(#"{"action":"call_user","question":"Which printer?"}"#) == [.callUser(question: "Which printer?")])
  }

  @Test func thoughtFencesAndArrays() throws {
    let fenced = """
      Here is my answer:
      ```json
      {"thought": "Save it {now}.", "action": "hotkey", "keys": ["ctrl", "s"]}
      ```
      """
    let r = try JSONActionGrammar.parse(fenced).get()
    #expect(r.thought == "Save it {now}.")
    #expect(r.actions == [.hotkey(["ctrl", "s"])])
    let reasonedFirst = try JSONActionGrammar.parse("Thought: The dialog is open.\n```json\n{\"action\":\"wait\"}\n```").get()
    #expect(reasonedFirst.thought == "The dialog is open.")
    #expect(try JSONActionGrammar.parse("```json\n{\"action\":\"wait\"}\n```").get().thought == nil)
    let many = try JSONActionGrammar.parse(#"[{"action":"type","text":"x","thought":"t"},{"action":"wait"}]"#).get()
    #expect(many.thought == "t")
    #expect(many.actions == [.type("x"), .wait(seconds: 5)])
  }

  @Test func failuresNameTheProblem() {
    #expect(failure("click the button")?.reason == .noJSON)
    #expect(failure(#"{"action":"tap"}"#)?.reason == .unknownAction("tap"))
    #expect(failure(#"{"target":{"point":[1,2]}}"#)?.message.contains("\"action\"") == true)
    #expect(failure(#"{"action":"type"}"#)?.reason == .missingArgument(action: "type", argument: "text"))
    #expect(failure(#"{"action":"drag","from":{"point":[1,2]}}"#)?.reason == .missingArgument(action: "drag", argument: "to"))
    #expect(failure(#"{"action":"click","target":{"point":[1]}}"#)?.reason
      == .badArgument(action: "target", argument: "point", value: "[1.0]"))
    #expect(failure(#"{"action":"click","target":{}}"#)?.reason == .missingArgument(action: "target", argument: "point"))
    #expect(failure(#"{"action":"scroll","direction":"sideways"}"#)?.reason
      == .badArgument(action: "scroll", argument: "direction", value: "sideways"))
    #expect(failure(#"{"action":"type","text":"abc}"#)?.reason == .unbalancedQuote)
    #expect(failure(#"{"action":"type","text":"abc""#)?.reason == .badJSON)
    let typeError = failure(#"{"action":"wait","seconds":"soon"}"#)
    #expect(typeError?.reason == .badJSON)
    #expect(typeError?.message.contains("seconds") == true)
    #expect(failure("[]")?.reason == .emptyAction)
  }

  @Test func detectsGrammar() throws {
    #expect(ActionGrammar.detect("Thought: x\nAction: wait()") == .uiTars)
    #expect(ActionGrammar.detect(#"{"action":"wait"}"#) == .json)
    #expect(ActionGrammar.detect("nothing") == .uiTars)
    #expect(try ActionGrammar.parseAny(#"{"action":"wait"}"#).get().actions == [.wait(seconds: 5)])
  }
}
