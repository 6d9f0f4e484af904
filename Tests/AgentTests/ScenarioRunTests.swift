import Foundation
import Testing
@testable import Agent

/// Every scenario of Scenarios/ run end to end with real input events, each on the runner's own
/// Xvfb; and scenarios that must fail, failing with the reason.
@Suite(.serialized) struct ScenarioRunTests {
  static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
  static let scenarios = repository.appendingPathComponent("Scenarios")

  @Test func everyScenarioPasses() throws {
    let folder = try TempFolder()
    defer { folder.cleanup() }
    let store = try EpisodeStore(path: folder.file("episodes.sqlite"))
    let scenarios = try Scenario.loadAll(from: Self.scenarios)
    #expect(scenarios.count >= 8)
    let report = ScenarioRunner(store: store).run(scenarios)
    for r in report.scenarios where !r.passed { Issue.record("\(r.name) failed: \(r.reason)") }
    #expect(report.passed == scenarios.count && report.failed == 0 && report.allPassed)
    // Each scenario is one recorded episode that ran its whole plan.
    let episodes = try store.episodes()
    #expect(episodes.count == scenarios.count)
    for (scenario, result) in zip(scenarios, report.scenarios) {
      let episode = try #require(episodes.first { $0.id == result.episodeId })
      #expect(episode.task == scenario.task && episode.status == .succeeded)
      #expect(episode.stepCount == result.steps && result.steps >= 2)
    }
    let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any]
    #expect(json?["passed"] as? Int == scenarios.count)
    let first = (json?["scenarios"] as? [[String: Any]])?.first
    #expect(Set(first?.keys.map { $0 } ?? []) == ["name", "passed", "episode_id", "steps", "reason", "seconds"])
  }

  /// A scenario on the form app, with a plan and a check of the caller's.
  func formScenario(_ name: String, steps: String, check: String, command: String? = nil) throws -> Scenario {
    let app = command ?? #"["/usr/bin/python3", "{dir}/apps/tkapp.py", "--mode", "form", "--log", "{log}", "--geometry-out", "{geometry}"]"#
    let text = """
      {"name": "\(name)", "task": "t", "timeout": 20, "apps": [{"command": \(app), "ready": {"geometry": true}}],
       "plan": {"steps": \(steps)}, "check": \(String(decoding: try JSONEncoder().encode(check), as: UTF8.self))}
      """
    // Placed beside the real scenarios: {dir} must find tkapp.py and logcheck.py.
    return try Scenario.decode(Data(text.utf8), source: Self.scenarios.appendingPathComponent("\(name).json"))
  }

  @Test func failuresAreReportedWithTheirReason() throws {
    let folder = try TempFolder()
    defer { folder.cleanup() }
    let store = try EpisodeStore(path: folder.file("episodes.sqlite"))
    let pidFile = folder.file("app.pid")
    let submit = #"[{"action": {"action": "click", "target": {"point": "@submit"}}}]"#
    let wrongCheck = try formScenario(
      "wrong-name", steps: submit,
      check: #"/usr/bin/python3 '{dir}/apps/logcheck.py' '{log}' '{"event": "submit", "values": {"name": "nobody"}}'"#,
      command: #"["sh", "-c", "echo $$ > \#(pidFile.path); exec /usr/bin/python3 \"$0\" --mode form --log \"$1\" --geometry-out \"$2\"", "{dir}/apps/tkapp.py", "{log}", "{geometry}"]"#)
    let missingWidget = try formScenario(
      "missing-widget", steps: #"[{"action": {"action": "click", "target": {"point": "@nope"}}}]"#, check: "true")
    let deadApp = try formScenario("dead-app", steps: submit, check: "true",
                                   command: #"["sh", "-c", "echo going away; exit 3"]"#)
    let failedEpisode = try formScenario(
      "no-change", steps: #"[{"action": {"action": "wait", "seconds": 0.1}, "expect_change": true}]"#, check: "true")
    let passing = try formScenario("passes", steps: submit, check: "exit 0")

    let report = ScenarioRunner(store: store).run([wrongCheck, missingWidget, deadApp, failedEpisode, passing])
    #expect(report.passed == 1 && report.failed == 4 && !report.allPassed)
    let r = Dictionary(uniqueKeysWithValues: report.scenarios.map { ($0.name, $0) })

    // The episode succeeded, the check did not: its status and output are the reason.
    let wrong = try #require(r["wrong-name"])
    #expect(!wrong.passed && wrong.episodeId != nil && wrong.steps == 1)
    #expect(wrong.reason.hasPrefix("check failed (exit 1): logcheck: no event matches"), "\(wrong.reason)")
    #expect(wrong.reason.contains(#""name": """#))  // the submitted (empty) name is shown
    // The app it started is gone.
    let pidText = try String(contentsOf: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    let pid = try #require(Int32(pidText))
    #expect(kill(pid, 0) == -1 && errno == ESRCH)

    let missing = try #require(r["missing-widget"])
    #expect(!missing.passed && missing.episodeId == nil)
    #expect(missing.reason.hasPrefix("no widget 'nope' in geometry.json (it has: email, name, size_large"), "\(missing.reason)")

    let dead = try #require(r["dead-app"])
    #expect(dead.reason == "sh exited before showing its geometry file: going away", "\(dead.reason)")

    let noChange = try #require(r["no-change"])
    #expect(noChange.reason.hasPrefix("episode failed:") && noChange.episodeId != nil, "\(noChange.reason)")
    #expect(r["passes"]?.passed == true)

    // keepGoing false stops at the first failure.
    let stopped = ScenarioRunner(store: store).run([deadApp, passing], keepGoing: false)
    #expect(stopped.scenarios.map(\.name) == ["dead-app"])
  }
}
