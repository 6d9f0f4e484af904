import Foundation
import Imaging
import Testing
@testable import Agent

@Suite struct SafetyTests {
  let screen = PixelRect(x: 0, y: 0, width: 640, height: 480)

  @Test(arguments: [
    ["ctrl", "alt", "BackSpace"], ["alt", "ctrl", "backspace"], ["Control_L", "Alt_R", "Delete"],
    ["ctrl+alt+del"], ["CTRL", "ALT", "DELETE"], ["lctrl", "option", "Back_Space"],
  ])
  func deniedCombinationsAreRefusedInEverySpelling(_ keys: [String]) {
    let policy = SafetyPolicy(settings: AgentSettings())
    #expect(policy.refusal(for: .hotkey(keys), points: [], screen: screen)?.hasPrefix("key combination") == true)
  }

  @Test(arguments: [["ctrl", "s"], ["ctrl", "alt"], ["alt", "f4"], ["ctrl", "shift", "delete"], ["delete"]])
  func otherCombinationsPass(_ keys: [String]) {
    #expect(SafetyPolicy(settings: AgentSettings()).refusal(for: .hotkey(keys), points: [], screen: screen) == nil)
  }

  @Test func allowListAndScreenBounds() {
    let policy = SafetyPolicy(allowedActions: ["click", "finished"], deniedKeyCombinations: [])
    #expect(policy.refusal(for: .click(.at(1, 1)), points: [ScreenPoint(x: 1, y: 1)], screen: screen) == nil)
    #expect(policy.refusal(for: .type("x"), points: [], screen: screen)?.contains("allow-list") == true)
    #expect(policy.refusal(for: .click(.at(1, 1)), points: [ScreenPoint(x: 640, y: 1)], screen: screen)?
      .contains("outside the screen") == true)
    #expect(policy.refusal(for: .click(.at(1, 1)), points: [ScreenPoint(x: -1, y: 0)], screen: screen) != nil)
    #expect(Set(SafetyPolicy.actionNames) == ["click", "double_click", "right_click", "drag", "scroll", "type",
                                              "hotkey", "wait", "finished", "call_user"])
  }

  @Test func failSafeCorners() {
    let f = FailSafe(margin: 3)
    for corner in [ScreenPoint(x: 0, y: 0), ScreenPoint(x: 639, y: 0), ScreenPoint(x: 3, y: 476), ScreenPoint(x: 636, y: 479)] {
      #expect(f.tripped(pointer: corner, screen: screen, agentPointer: nil) != nil, "\(corner)")
      #expect(f.tripped(pointer: corner, screen: screen, agentPointer: corner) == nil, "\(corner)")
    }
    for inside in [ScreenPoint(x: 4, y: 0), ScreenPoint(x: 0, y: 4), ScreenPoint(x: 320, y: 240), ScreenPoint(x: 635, y: 479)] {
      #expect(f.tripped(pointer: inside, screen: screen, agentPointer: nil) == nil, "\(inside)")
    }
    #expect(f.tripped(pointer: ScreenPoint(x: 0, y: 479), screen: screen, agentPointer: nil)?.contains("bottom-left") == true)
  }

  @Test func scriptedPlansDecodeAndNameTheirErrors() throws {
    let p = try plan("""
      {"steps": [{"action": {"action": "click", "target": {"point": [12, 34]}}, "expect_change": true},
                 {"action": {"action": "double_click", "target": {"element": "the icon"}}},
                 {"action": {"action": "drag", "from": {"box": [0, 0, 10, 10]}, "to": {"point": [50, 60]}}, "expect_change": false}]}
      """)
    #expect(p.steps.map(\.expectChange) == [true, nil, false])
    #expect(p.steps[0].action == .click(.at(12, 34)))
    #expect(p.steps[1].action == .doubleClick(.element("the icon")))
    #expect(try plan(String(decoding: try JSONEncoder().encode(p), as: UTF8.self)) == p)
    #expect(throws: AgentError.self) { try plan(#"{"steps": [{"action": {"action": "type"}}]}"#) }
    do {
      _ = try plan(#"{"steps": [{"action": {"action": "click", "target": {"point": [1, 2]}}}, {"expect_change": true}]}"#)
      Issue.record("a step without an action decoded")
    } catch {
      #expect("\(error.localizedDescription)".contains("steps[1]"), "\(error.localizedDescription)")
    }
  }
}
