import Foundation
import Testing
import TestSupport
@testable import Agent

/// `gui-agent scenario run` as a child process: the table, `--json`, `--keep-going`, exit status.
struct ScenarioCommandTests {
  /// A scenario whose app needs no window: it runs a short wait and then `check`.
  static func scenario(_ name: String, check: String) -> String {
    """
    {"name": "\(name)", "task": "wait", "apps": [{"command": ["sleep", "30"]}],
     "plan": {"steps": [{"action": {"action": "wait", "seconds": 0.05}}]}, "check": "\(check)", "timeout": 20}
    """
  }

  @Test func tableJSONKeepGoingAndExitStatus() throws {
    let folder = try TempFolder()
    defer { folder.cleanup() }
    let scenarios = folder.file("scenarios")
    try FileManager.default.createDirectory(at: scenarios, withIntermediateDirectories: true)
    try Data(Self.scenario("a-pass", check: "test -d {tmp}").utf8).write(to: scenarios.appendingPathComponent("a.json"))
    try Data(Self.scenario("b-fail", check: "echo not there; exit 4").utf8).write(to: scenarios.appendingPathComponent("b.json"))
    try Data(Self.scenario("c-pass", check: "true").utf8).write(to: scenarios.appendingPathComponent("c.json"))
    let bin = try guiAgentBinary()
    let store = folder.file("episodes.sqlite").path

    let json = try runProgram(bin, ["scenario", "run", scenarios.path, "--store", store, "--keep-going", "--json"])
    #expect(json.status == 1, "\(json.stderr)")
    let report = try JSONDecoder().decode(ScenarioReport.self, from: Data(json.stdout.utf8))
    #expect(report.passed == 2 && report.failed == 1)
    #expect(report.scenarios.map(\.name) == ["a-pass", "b-fail", "c-pass"])
    #expect(report.scenarios[1].reason == "check failed (exit 4): not there")
    #expect(report.scenarios.allSatisfy { $0.steps == 1 && $0.episodeId != nil })

    // Without --keep-going the run stops at the failure; the table says so.
    let table = try runProgram(bin, ["scenario", "run", scenarios.path, "--store", store])
    #expect(table.status == 1)
    let lines = table.stdout.split(separator: "\n").map(String.init)
    #expect(lines.count == 4, "\(table.stdout)")
    #expect(lines.first?.hasPrefix("scenario  result  steps  seconds  reason") == true)
    #expect(lines[1].hasPrefix("a-pass    pass    1"))
    #expect(lines[2].hasPrefix("b-fail    FAIL    1") && lines[2].hasSuffix("check failed (exit 4): not there"))
    #expect(lines.last == "1 passed, 1 failed, 1 not run")

    let one = try runProgram(bin, ["scenario", "run", scenarios.appendingPathComponent("c.json").path, "--store", store])
    #expect(one.status == 0 && one.stdout.hasSuffix("1 passed, 0 failed\n"))
    let bad = try runProgram(bin, ["scenario", "run", folder.file("missing").path, "--store", store])
    #expect(bad.status == 1 && bad.stderr.contains("no scenario file or folder at \(folder.file("missing").path)"))
  }
}
