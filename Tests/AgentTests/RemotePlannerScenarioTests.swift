import Foundation
import Imaging
import Testing
import TestSupport
@testable import Agent

/// Served planners driving real episodes: a fake OpenAI-compatible endpoint answers as UI-TARS
/// or Qwen2.5-VL would, malformed answers included, and the agent loop runs a Tk and a GTK
/// scenario (each on its own Xvfb, 1280x800) with what it answers.
@Suite(.serialized) struct RemotePlannerScenarioTests {
  /// A Tk window at +0+0 whose Apply button (100,100 120x40: centre (160,120)) writes its file.
  static let tkApp = """
    import sys, tkinter as tk
    r = tk.Tk(); r.title("Remote"); r.geometry("400x300+0+0")
    def apply():
        open(sys.argv[1], "w").write("applied\\n"); b.configure(text="Applied")
    b = tk.Button(r, text="Apply", command=apply); b.place(x=100, y=100, width=120, height=40)
    r.mainloop()
    """

  static func scenario(_ name: String, task: String, command: [String], window: String, env: [String: String] = [:],
                       check: String) throws -> Scenario {
    let object: [String: Any] = [
      "name": name, "task": task, "timeout": 120, "settle_ms": 600, "check": check,
      "apps": [["command": command, "env": env, "ready": ["window": window]]],
      "plan": ["steps": [["action": ["action": "finished"]]]],
    ]
    let source = ScenarioRunTests.scenarios.appendingPathComponent("\(name).json")
    return try Scenario.decode(try JSONSerialization.data(withJSONObject: object), source: source)
  }

  static func tkScenario() throws -> Scenario {
    try scenario("tk-remote-apply", task: "Press the Apply button.",
                 command: ["/usr/bin/python3", "-c", tkApp, "{tmp}/applied.txt"], window: "Remote",
                 check: "grep -q applied '{tmp}/applied.txt'")
  }

  /// Runs `scenario` with `planner`; the store and the result.
  static func run(_ scenario: Scenario, planner: any ActionPlanner, maxSteps: Int = 8,
                  locator: (any ElementLocator)? = nil) throws -> (EpisodeStore, ScenarioResult, TempFolder) {
    let folder = try TempFolder()
    let store = try EpisodeStore(path: folder.file("episodes.sqlite"))
    var runner = ScenarioRunner(store: store)
    runner.planner = planner
    runner.plannerMaxSteps = maxSteps
    runner.describedLocator = locator
    return (store, runner.run(scenario), folder)
  }

  /// The PNG an `image_url` data URL carries.
  static func image(_ url: String) throws -> RGBImage {
    let prefix = "data:image/png;base64,"
    guard url.hasPrefix(prefix), let data = Data(base64Encoded: String(url.dropFirst(prefix.count))) else {
      throw LoopTestError("not a PNG data URL: \(url.prefix(40))")
    }
    return try PNG.decode(data)
  }

  // MARK: - UI-TARS-1.5 on Tk

  @Test func uiTarsClicksTheTkButtonAndRecoversFromBadAnswers() throws {
    // 1280x800 smart-resized is 1288x812: (161,122) there is screen pixel (160,120).
    let server = try FakeChatServer(replies: [
      .completion("Thought: I should look around first."),
      .error(500, "the model is still loading"),
      .completion("Thought: The Apply button.\nAction: click(start_box='(5000,5000)')"),
      .completion("Thought: The Apply button is at the top left.\nAction: click(start_box='(161,122)')"),
      .completion("Thought: It says Applied now.\nAction: finished(content='applied')"),
    ])
    defer { server.stop() }
    let endpoint = try ChatEndpoint(baseURL: server.url, apiKey: "scenario-key", backoffSeconds: 0.05)
    let planner = RemoteVisionPlanner(client: ChatClient(endpoint: endpoint), model: try RemoteVisionModel(servedName: "ui-tars-1.5-7b"))
    let (store, result, folder) = try Self.run(try Self.tkScenario(), planner: planner)
    defer { folder.cleanup() }
    #expect(result.passed, "\(result.reason)")

    let steps = try store.steps(episode: try #require(result.episodeId))
    try #require(steps.count == 4, "\(steps.map { $0.error ?? "ok" })")
    #expect(steps[0].action == nil && steps[0].error?.contains("did not parse") == true, "\(steps[0].error ?? "")")
    #expect(steps[0].rawOutput == "Thought: I should look around first.")
    #expect(steps[1].error?.contains("outside the image the model saw") == true, "\(steps[1].error ?? "")")
    #expect(steps[1].latencies["model_attempts"] == 2)
    #expect(steps[2].action == .click(.at(161, 122)) && steps[2].error == nil)
    #expect(steps[2].groundedPoint == GroundedPoint(x: 160, y: 120))
    #expect(steps[3].action == .finished(summary: "applied"))

    let requests = server.requests
    #expect(requests.count == 5)
    for r in requests {
      #expect(r.model == "ui-tars-1.5-7b" && r.headers["authorization"] == "Bearer scenario-key")
      #expect(r.path == "/v1/chat/completions")
      let urls = r.imageURLs
      try #require(urls.count == 1)
      let sent = try Self.image(urls[0])
      #expect(sent.width == 1288 && sent.height == 812)
      #expect(r.text.contains("## Action Space") && r.text.contains("Press the Apply button."))
    }
    // Each bad answer comes back to the model as the reason to answer again.
    #expect(requests[1].text.contains("could not be used") && requests[1].text.contains("Action"))
    #expect(requests[3].text.contains("outside the image the model saw"))
    #expect(!requests[4].text.contains("could not be used"))
  }

  // MARK: - Qwen2.5-VL tool calls on GTK

  /// The bounding box of what is not the black root window: the dialog, in the image's pixels.
  static func dialogBox(_ image: RGBImage) -> (x0: Int, y0: Int, x1: Int, y1: Int)? {
    var box: (x0: Int, y0: Int, x1: Int, y1: Int)?
    let p = image.pixels
    for y in 0..<image.height {
      for x in 0..<image.width {
        let i = (y * image.width + x) * 3
        guard p[i] > 40 || p[i + 1] > 40 || p[i + 2] > 40 else { continue }
        box = (min(box?.x0 ?? x, x), min(box?.y0 ?? y, y), max(box?.x1 ?? x, x), max(box?.y1 ?? y, y))
      }
    }
    return box
  }

  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/zenity")))
  func qwenToolCallsPressTheGTKButton() throws {
    // The fake model looks at the screenshot it is sent: the Keep button sits 53 x 27 screen
    // pixels in from the dialog's bottom-right corner (GTK Adwaita), given in resized pixels.
    let server = try FakeChatServer { request, i in
      switch i {
      case 0: return .completion("I would press a button, but I am not sure which.")
      case 1:
        guard let url = request.imageURLs.first, let image = try? Self.image(url), let box = Self.dialogBox(image) else {
          return .completion("no image")
        }
        let x = Double(box.x1) - 53 * Double(image.width) / 1280, y = Double(box.y1) - 27 * Double(image.height) / 800
        return .completion("""
          The Keep button keeps the draft.
          <tool_call>
          {"name": "computer_use", "arguments": {"action": "left_click", "coordinate": [\(Int(x)), \(Int(y))]}}
          </tool_call>
          """)
      default:
        return .completion(#"<tool_call>{"name": "computer_use", "arguments": {"action": "terminate", "status": "success"}}</tool_call>"#)
      }
    }
    defer { server.stop() }
    let planner = RemoteVisionPlanner(client: ChatClient(endpoint: try ChatEndpoint(baseURL: server.url)),
                                      model: try RemoteVisionModel(servedName: "Qwen/Qwen2.5-VL-7B-Instruct"))
    #expect(planner.model.grammar == .json && planner.model.convention == .resizedPixels)
    let scenario = try Self.scenario(
      "gtk-remote-keep", task: "Keep the draft when asked whether to delete it.",
      command: ["/bin/sh", "-c", "zenity --question --title 'Draft' --text 'Delete the draft of the report?' "
                + "--ok-label Keep --cancel-label Discard; echo $? > '{tmp}/status.txt'"],
      window: "Draft", env: ["GTK_THEME": "Adwaita", "NO_AT_BRIDGE": "1"],
      check: "test \"$(cat '{tmp}/status.txt')\" = 0")
    let (store, result, folder) = try Self.run(scenario, planner: planner)
    defer { folder.cleanup() }
    #expect(result.passed, "\(result.reason)")
    let steps = try store.steps(episode: try #require(result.episodeId))
    try #require(steps.count == 3, "\(steps.map { $0.error ?? "ok" })")
    #expect(steps[0].action == nil && steps[0].error?.contains("did not parse") == true, "\(steps[0].error ?? "")")
    guard case .click = steps[1].action else { Issue.record("step 2 is \(String(describing: steps[1].action))"); return }
    #expect(steps[1].screenChanged == true && steps[1].reasoning == "The Keep button keeps the draft.")
    #expect(steps[2].action == .finished(summary: "success"))
    #expect(server.requests.allSatisfy { $0.model == "Qwen/Qwen2.5-VL-7B-Instruct" && $0.headers["authorization"] == nil })
  }
}
