import Testing
@testable import Agent

// Responses in the shapes UI-TARS 1.0 / 1.5 print (from the model cards' prompt templates and
// the ui-tars action parser's documented inputs), and what each must parse to.
@Suite struct UITARSGrammarTests {
  private func actions(_ text: String) -> [AgentAction]? {
    try? UITARSGrammar.parse(text).get().actions
  }

  private func failure(_ text: String) -> ParseFailure? {
    if case let .failure(f) = UITARSGrammar.parse(text) { return f }
    return nil
  }

  @Test func boxTokensPoint() throws {
    let r = try UITARSGrammar.parse("Thought: Click Save.\nAction: click(start_box='<|box_start|>(100,200)<|box_end|>')").get()
    #expect(r.thought == "Click Save.")
    #expect(r.actions == [.click(.at(100, 200))])
  }

  @Test func boxIsItsCenter() {
    let box = ModelBox(x1: 10, y1: 20, x2: 30, y2: 41)
    #expect(actions("Action: click(start_box='(10,20,30,41)')") == [.click(.point(ModelPoint(box: box)))])
    #expect(actions("Action: click(start_box='<|box_start|>(10, 20, 30, 41)<|box_end|>')")?.first?.targets
      == [.point(ModelPoint(box: box))])
    #expect(ModelPoint(box: box).x == 20 && ModelPoint(box: box).y == 30.5)
  }

  @Test func pointTagAndDecimals() {
    #expect(actions("Action: click(point='<point>383 502</point>')") == [.click(.at(383, 502))])
    #expect(actions("Action: click(start_box='[0.25, 0.5]')") == [.click(.at(0.25, 0.5))])
    #expect(actions("Action: left_single(start_box=(7,8))") == [.click(.at(7, 8))])
  }

  @Test func pointerKinds() {
    #expect(actions("Action: left_double(start_box='(1,2)')") == [.doubleClick(.at(1, 2))])
    #expect(actions("Action: right_single(start_box='(3,4)')") == [.rightClick(.at(3, 4))])
    #expect(actions("Action: drag(start_box='(1,2)', end_box='(3,4)')") == [.drag(from: .at(1, 2), to: .at(3, 4))])
    #expect(actions("Action: drag(start_point='<point>1 2</point>', end_point='<point>3 4</point>')")
      == [.drag(from: .at(1, 2), to: .at(3, 4))])
    #expect(actions("Action: select(start_box='(1,2)', end_box='(3,4)')") == [.drag(from: .at(1, 2), to: .at(3, 4))])
  }

  @Test func keyboard() {
    #expect(actions("Action: hotkey(key='ctrl s')") == [.hotkey(["ctrl", "s"])])
    #expect(actions("Action: press(key='enter')") == [.hotkey(["enter"])])
    #expect(actions("Action: hotkey(key='ctrl+shift+t')") == [.hotkey(["ctrl", "shift", "t"])])
    #expect(actions("Action: hotkey(key='ctrl++')") == [.hotkey(["ctrl", "+"])])
    #expect(actions("Action: hotkey(key='ctrl +')") == [.hotkey(["ctrl", "+"])])
    #expect(actions("Action: press(key='+')") == [.hotkey(["+"])])
    #expect(actions(#"Action: type(content='it\'s a \"test\"\n')"#) == [.type("it's a \"test\"\n")])
    #expect(actions(#"Action: type(content="C:\\path\q")"#) == [.type(#"C:\path\q"#)])
    // An unescaped quote inside content: closes only before ',' or ')'.
    #expect(actions("Action: type(content='it's ok')") == [.type("it's ok")])
    #expect(actions("Action: type(content='')") == [.type("")])
  }

  @Test func scrollWaitFinishCallUser() {
    #expect(actions("Action: scroll(start_box='(5,6)', direction='down')")
      == [.scroll(at: .at(5, 6), direction: .down, amount: AgentAction.defaultScrollAmount)])
    #expect(actions("Action: scroll(direction='UP', start_box='')") == [.scroll(at: nil, direction: .up, amount: 5)])
    #expect(actions("Action: scroll(direction='left', amount='2')") == [.scroll(at: nil, direction: .left, amount: 2)])
    #expect(actions("Action: wait()") == [.wait(seconds: 5)])
    #expect(actions("Action: finished(content='All done.')") == [.finished(summary: "All done.")])
    #expect(actions("Action: finished()") == [.finished(summary: "")])
    #expect(actions("Action: call_user()") == [.callUser(question: "")])
  }

  @Test func elementExtension() {
    #expect(actions("Action: click(element='the Save button')") == [.click(.element("the Save button"))])
    #expect(actions("Action: drag(start_element='file.txt', end_box='(9,9)')") == [.drag(from: .element("file.txt"), to: .at(9, 9))])
  }

  @Test func sectionsAndSeveralActions() throws {
    let text = """
      Reflection: The dialog opened.
      Action_Summary: Type the name,
      then press enter.
      Action: type(content='report')

      hotkey(key='enter')
      """
    let r = try UITARSGrammar.parse(text).get()
    #expect(r.reflection == "The dialog opened.")
    #expect(r.actionSummary == "Type the name,\nthen press enter.")
    #expect(r.thought == nil)
    #expect(r.actions == [.type("report"), .hotkey(["enter"])])
    // Text without a heading counts as the thought.
    #expect(try UITARSGrammar.parse("I will wait.\nAction: wait()").get().thought == "I will wait.")
  }

  @Test func failuresNameTheProblem() {
    #expect(failure("Thought: hmm\nclick(start_box='(1,2)')")?.reason == .noActionLine)
    #expect(failure("Action:   ")?.reason == .emptyAction)
    #expect(failure("Action: tap(start_box='(1,2)')")?.reason == .unknownAction("tap"))
    #expect(failure("Action: tap(start_box='(1,2)')")?.message.contains("'tap'") == true)
    #expect(failure("Action: click()")?.reason == .missingArgument(action: "click", argument: "start_box"))
    #expect(failure("Action: drag(start_box='(1,2)')")?.reason == .missingArgument(action: "drag", argument: "end_box"))
    #expect(failure("Action: type(content='abc)")?.reason == .unbalancedQuote)
    #expect(failure("Action: click(start_box='(1,2)'")?.reason == .unbalancedParenthesis)
    #expect(failure("Action: click(start_box='(1,2,3)')")?.reason
      == .badArgument(action: "click", argument: "start_box", value: "(1,2,3)"))
    #expect(failure("Action: scroll(direction='sideways')")?.reason
      == .badArgument(action: "scroll", argument: "direction", value: "sideways"))
    #expect(failure("Action: hotkey(key='  ')")?.reason == .badArgument(action: "hotkey", argument: "key", value: "  "))
    #expect(failure("Action: click(start_box='(1,2)') trailing")?.reason == .unbalancedParenthesis)
    #expect(failure("Action: click start_box")?.reason == .syntax)
    #expect(failure("Action: click(=1)")?.reason == .syntax)
    #expect(failure("Action: wait() + wait()")?.reason == .syntax)
  }
}
