import Foundation
import Testing
@testable import Agent

/// Scenario files: what a good one decodes to, and that every kind of bad one is refused with a
/// message naming the file and the field.
struct ScenarioDecodingTests {
  static let good = """
    {"name": "n", "task": "t", "timeout": 12, "settle_ms": 50,
     "apps": [{"command": ["xterm", "-T", "{tmp}"], "env": {"LC_ALL": "C.UTF-8"}, "ready": {"window": "w"}}],
     "plan": {"steps": [{"action": {"action": "drag", "from": {"point": "@square"}, "to": {"point": "@window:xedit+0+60"}}},
                        {"action": {"action": "click", "target": {"point": [5, 6]}}, "expect_change": true}]},
     "check": "true"}
    """

  func decode(_ text: String, file: String = "/s/bad.json") throws -> Scenario {
    try Scenario.decode(Data(text.utf8), source: URL(fileURLWithPath: file))
  }

  /// The error message of decoding `text` with `field` replaced by `value` (or removed when nil).
  func message(replacing field: String, with value: String?) -> String {
    var object = (try? JSONSerialization.jsonObject(with: Data(Self.good.utf8))) as? [String: Any] ?? [:]
    if let value {
      object[field] = try? JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed)
    } else {
      object.removeValue(forKey: field)
    }
    let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
    do {
      _ = try decode(String(decoding: data, as: UTF8.self))
      return "(decoded)"
    } catch {
      return error.localizedDescription
    }
  }

  @Test func goodFileDecodes() throws {
    let s = try decode(Self.good, file: "/s/good.json")
    #expect(s.name == "n" && s.task == "t" && s.check == "true")
    #expect(s.timeoutSeconds == 12 && s.settleSeconds == 0.05)
    #expect(s.apps == [ScenarioApp(command: ["xterm", "-T", "{tmp}"], env: ["LC_ALL": "C.UTF-8"], ready: ReadyCondition(window: "w"))])
    #expect(s.source.path == "/s/good.json")
    // Defaults: 30 s, 200 ms.
    let bare = try decode(#"{"name": "b", "task": "t", "apps": [{"command": ["x"]}], "plan": {"steps": []}, "check": "true"}"#)
    #expect(bare.timeoutSeconds == 30 && bare.settleSeconds == 0.2 && bare.apps[0].ready == nil)
  }

  @Test func missingAndMistypedFieldsAreNamed() {
    #expect(message(replacing: "task", with: nil) == "scenario /s/bad.json: missing field 'task'")
    #expect(message(replacing: "check", with: nil) == "scenario /s/bad.json: missing field 'check'")
    #expect(message(replacing: "name", with: "3").hasPrefix("scenario /s/bad.json: field 'name' has the wrong type"))
    #expect(message(replacing: "apps", with: #"[{"command": "xterm"}]"#)
      .hasPrefix("scenario /s/bad.json: field 'apps[0].command' has the wrong type"))
    #expect(message(replacing: "apps", with: #"[{"cmd": ["xterm"]}]"#) == "scenario /s/bad.json: missing field 'apps[0].command'")
    #expect(message(replacing: "timeout", with: #""soon""#).hasPrefix("scenario /s/bad.json: field 'timeout' has the wrong type"))
  }

  @Test func badValuesAreNamed() {
    #expect(message(replacing: "name", with: #""  ""#) == "scenario /s/bad.json: field 'name' is empty")
    #expect(message(replacing: "apps", with: "[]").hasPrefix("scenario /s/bad.json: field 'apps' is empty"))
    #expect(message(replacing: "apps", with: #"[{"command": []}]"#) == "scenario /s/bad.json: field 'apps[0].command' names no program")
    #expect(message(replacing: "apps", with: #"[{"command": ["x"], "ready": {}}]"#)
      .hasPrefix("scenario /s/bad.json: field 'apps[0].ready' must be"))
    #expect(message(replacing: "timeout", with: "0") == "scenario /s/bad.json: field 'timeout' is 0.0, not in (0, 3600] seconds")
    #expect(message(replacing: "settle_ms", with: "-1").hasPrefix("scenario /s/bad.json: field 'settle_ms' is -1"))
  }

  @Test func badPlansAreNamed() {
    let unknown = message(replacing: "plan", with: #"{"steps": [{"action": {"action": "fly"}}]}"#)
    #expect(unknown == "scenario /s/bad.json: field 'plan' is not a valid plan: unknown action 'fly'")
    let point = message(replacing: "plan", with: #"{"steps": [{"action": {"action": "click", "target": {"point": "submit"}}}]}"#)
    #expect(point == #"scenario /s/bad.json: point 'submit' is neither [x, y] nor a reference like "@submit""#)
    #expect(message(replacing: "plan", with: #"{"stairs": []}"#).contains("missing 'steps'"))
  }

  @Test func notJSONAndMissingFiles() throws {
    #expect(throws: AgentError.self) { try decode("{\"name\": ") }
    let folder = try TempFolder()
    defer { folder.cleanup() }
    #expect(throws: AgentError.invalidArgument("no scenario file or folder at \(folder.file("none").path)")) {
      try Scenario.loadAll(from: folder.file("none"))
    }
    #expect(throws: AgentError.invalidArgument("scenario folder \(folder.url.path) holds no .json file")) {
      try Scenario.loadAll(from: folder.url)
    }
    try Data(Self.good.utf8).write(to: folder.file("a.json"))
    try Data(Self.good.utf8).write(to: folder.file("b.json"))
    #expect(throws: AgentError.invalidArgument("scenario name 'n' is used by both a.json and b.json")) {
      try Scenario.loadAll(from: folder.url)
    }
  }

  // MARK: - Targets

  @Test func referencesParseNamesAndOffsets() {
    #expect(ScenarioTargets.Reference("@submit")?.name == "submit")
    let xterm = ScenarioTargets.Reference("@window:scenario-xterm")
    #expect(xterm?.windowName == "scenario-xterm" && xterm?.dx == 0 && xterm?.dy == 0)
    let shifted = ScenarioTargets.Reference("@window:xedit+0+60")
    #expect(shifted?.windowName == "xedit" && shifted?.dx == 0 && shifted?.dy == 60)
    let negative = ScenarioTargets.Reference("@a-5+3")
    #expect(negative?.name == "a" && negative?.dx == -5 && negative?.dy == 3)
    #expect(ScenarioTargets.Reference("submit") == nil)
    #expect(ScenarioTargets.Reference("@") == nil)
    #expect(ScenarioTargets.Reference("@+1+2") == nil)
  }

  @Test func jsonValuesKeepTheirKinds() throws {
    let text = #"[1, 1.5, true, false, null, "@a", {"k": [0]}]"#
    let value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    #expect(value == .array([.number(1), .number(1.5), .bool(true), .bool(false), .null, .string("@a"),
                             .object(["k": .array([.number(0)])])]))
    #expect(try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value)) == value)
  }

  @Test func resolveReplacesEveryNamedPoint() throws {
    let s = try decode(Self.good)
    let centers = ["square": (10, 20), "window:xedit": (300, 200)]
    let data = try ScenarioTargets.resolve(s.plan) { ref in
      guard let c = centers[ref.name] else { throw AgentError.invalidArgument("unknown \(ref.name)") }
      return c
    }
    let plan = try ScriptedPlan.decode(data)
    #expect(plan.steps.count == 2)
    #expect(plan.steps[0].action == .drag(from: .point(ModelPoint(x: 10, y: 20)), to: .point(ModelPoint(x: 300, y: 260))))
    #expect(plan.steps[1].action == .click(.point(ModelPoint(x: 5, y: 6))) && plan.steps[1].expectChange == true)
  }
}
