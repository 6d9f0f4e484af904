import Foundation
import Imaging
import Testing
@testable import Agent

/// The grounded scenarios (Scenarios/grounded/): what they ask of a model, and that the runner
/// hands the model a drawn window, not a mapped empty one.
@Suite(.serialized) struct GroundedScenarioTests {
  static let grounded = ScenarioRunTests.scenarios.appendingPathComponent("grounded")

  /// At least four, on Tk, GTK3 and Athena applications, every target an element description.
  @Test func groundedScenariosNameElementsOnly() throws {
    let scenarios = try Scenario.loadAll(from: Self.grounded)
    #expect(scenarios.count >= 4)
    var programs = Set<String>()
    for s in scenarios {
      #expect(!s.describedElements.isEmpty, "\(s.name)")
      let text = try String(contentsOf: Self.grounded.appendingPathComponent("\(s.name).json"), encoding: .utf8)
      #expect(!text.contains("\"point\"") && !text.contains("\"box\"") && !text.contains("\"@"), "\(s.name) gives geometry")
      for app in s.apps { programs.formUnion(app.command.map { URL(fileURLWithPath: $0).lastPathComponent }) }
    }
    #expect(programs.contains("tkapp.py") && programs.contains("xedit"))
    #expect(try scenarios.contains { s in try String(contentsOf: Self.grounded.appendingPathComponent("\(s.name).json"), encoding: .utf8).contains("zenity") })
  }

  /// GTK maps a window before it paints it: the first screenshot of the episode must show the
  /// dialog (more than one colour), which only a readiness that waits for drawing gives.
  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/zenity")))
  func gtkDialogIsDrawnWhenReady() throws {
    let folder = try TempFolder()
    defer { folder.cleanup() }
    let store = try EpisodeStore(path: folder.file("episodes.sqlite"))
    let text = """
      {"name": "gtk-ready", "task": "dismiss the question", "timeout": 60, "settle_ms": 600,
       "apps": [{"command": ["/bin/sh", "-c", "zenity --question --title Ready --text 'Proceed?'; echo $? > '{tmp}/status.txt'"],
                 "env": {"NO_AT_BRIDGE": "1"}, "ready": {"window": "Ready"}}],
       "plan": {"steps": [{"action": {"action": "click", "target": {"point": [640, 380]}}},
                          {"action": {"action": "hotkey", "keys": ["escape"]}, "expect_change": true},
                          {"action": {"action": "finished"}}]},
       "check": "test -s '{tmp}/status.txt'"}
      """
    let scenario = try Scenario.decode(Data(text.utf8), source: Self.grounded.appendingPathComponent("gtk-ready.json"))
    let result = ScenarioRunner(store: store).run(scenario)
    #expect(result.passed, "\(result.reason)")
    let episode = try #require(result.episodeId)
    let png = try #require(try store.screenshot(episode: episode, step: 0, moment: .before))
    let image = try PNG.decode(png)
    let p = image.pixels
    let colours = Set(stride(from: 0, to: p.count, by: 3 * 97).map { (Int(p[$0]) << 16) | (Int(p[$0 + 1]) << 8) | Int(p[$0 + 2]) })
    #expect(colours.count > 2, "the first screenshot shows \(colours.count) colour(s): the dialog was not drawn yet")
  }
}
