import Foundation
import ScreenCapture

// MARK: - Reports

/// The outcome of one scenario.
public struct ScenarioResult: Codable, Equatable, Sendable {
  public var name: String
  public var passed: Bool
  /// The recorded episode, when one was started.
  public var episodeId: Int64?
  /// Steps the episode recorded.
  public var steps: Int
  /// Why it passed or failed: the episode's reason, or the failed check's status and output.
  public var reason: String
  public var seconds: Double

  public init(name: String, passed: Bool, episodeId: Int64?, steps: Int, reason: String, seconds: Double) {
    self.name = name
    self.passed = passed
    self.episodeId = episodeId
    self.steps = steps
    self.reason = reason
    self.seconds = seconds
  }

  enum CodingKeys: String, CodingKey {
    case name, passed, steps, reason, seconds
    case episodeId = "episode_id"
  }
}

/// The outcome of a scenario run: `{"passed": N, "failed": N, "scenarios": [...]}`.
public struct ScenarioReport: Codable, Equatable, Sendable {
  public var passed: Int
  public var failed: Int
  public var scenarios: [ScenarioResult]

  public init(scenarios: [ScenarioResult]) {
    self.scenarios = scenarios
    passed = scenarios.filter(\.passed).count
    failed = scenarios.count - passed
  }

  public var allPassed: Bool { failed == 0 && passed > 0 }
}

// MARK: - Running

/// Runs scenarios, each on an X server of its own: starts Xvfb and the applications, waits until
/// they are ready, resolves the plan's `@name` targets from their geometry, runs the episode
/// through ``AgentLoop`` (recorded in the episode store), runs the check, and stops everything
/// it started, whatever happened.
public struct ScenarioRunner {
  public var store: EpisodeStore
  /// Screen size of the private server.
  public var screenWidth = 1280, screenHeight = 800
  /// Told about each scenario as soon as it has run.
  public var onResult: ((ScenarioResult) -> Void)?
  /// Locates element descriptions that are not `@name` references (`{"element": "the Submit
  /// button"}`): a grounding model (``GrounderLocator``). Without one, such a step fails with a
  /// reason that says so.
  public var describedLocator: (any ElementLocator)?
  /// Plans the episode in place of the scenario's scripted plan (a model under test), for at
  /// most `plannerMaxSteps` steps; the check judges the result as it judges a plan's.
  public var planner: (any ActionPlanner)?
  public var plannerMaxSteps = 10

  public init(store: EpisodeStore, onResult: ((ScenarioResult) -> Void)? = nil) {
    self.store = store
    self.onResult = onResult
  }

  /// Runs `scenarios` in order; after the first failure only when `keepGoing`. First removes
  /// the temporary folders that killed runs left behind.
  public func run(_ scenarios: [Scenario], keepGoing: Bool = true) -> ScenarioReport {
    ScenarioFolders.removeLeftovers()
    var results: [ScenarioResult] = []
    for scenario in scenarios {
      let result = run(scenario)
      results.append(result)
      onResult?(result)
      if !result.passed, !keepGoing { break }
    }
    return ScenarioReport(scenarios: results)
  }

  /// Runs one scenario. Never throws: whatever goes wrong is the failed result's reason.
  /// Returns within the scenario's timeout plus a few seconds of clean-up, whatever its
  /// applications and their children do; everything it started is gone by then.
  public func run(_ scenario: Scenario) -> ScenarioResult {
    let start = Date()
    var attempt = Attempt(scenario: scenario)
    let reason: String
    let passed: Bool
    do {
      (passed, reason) = try attempt.perform(self, deadline: start.addingTimeInterval(scenario.timeoutSeconds))
    } catch {
      passed = false
      reason = error.localizedDescription
    }
    attempt.cleanUp()
    return ScenarioResult(name: scenario.name, passed: passed, episodeId: attempt.outcome?.episodeId,
                          steps: attempt.outcome?.steps ?? 0, reason: reason, seconds: Date().timeIntervalSince(start))
  }
}

/// The state of one scenario run, so that everything started can be stopped afterwards.
private struct Attempt {
  let scenario: Scenario
  let folder: URL
  /// Holds every process the scenario starts; see ``ScenarioGroup``.
  var group: ScenarioGroup?
  var xvfb: ScenarioXvfb?
  var apps: [ScenarioProcess] = []
  var outcome: EpisodeOutcome?

  init(scenario: Scenario) {
    self.scenario = scenario
    folder = ScenarioFolders.make()
  }

  var placeholders: [String: String] {
    ["{tmp}": folder.path, "{log}": folder.appendingPathComponent("app.log").path,
     "{geometry}": folder.appendingPathComponent("geometry.json").path,
     "{dir}": scenario.source.deletingLastPathComponent().path, "{display}": xvfb?.display ?? ""]
  }

  func fill(_ s: String) -> String {
    placeholders.reduce(s) { $0.replacingOccurrences(of: $1.key, with: $1.value) }
  }

  /// Start, wait, episode, check: (passed, reason).
  mutating func perform(_ runner: ScenarioRunner, deadline: Date) throws -> (Bool, String) {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let group = try ScenarioGroup()
    self.group = group
    let server = try ScenarioXvfb(in: group, width: runner.screenWidth, height: runner.screenHeight, until: deadline)
    xvfb = server
    let display = try X11Display(display: server.display)
    let geometry = ScenarioGeometry(file: folder.appendingPathComponent("geometry.json"), display: display)
    for (i, app) in scenario.apps.enumerated() {
      var env = (app.env ?? [:]).mapValues(fill)
      env["DISPLAY"] = server.display
      let process = try ScenarioProcess(command: app.command.map(fill), environment: env,
                                        outputFile: folder.appendingPathComponent("app\(i).out"), in: group)
      apps.append(process)
      if let ready = app.ready { try wait(for: ready, of: process, geometry: geometry, until: deadline) }
    }
    let planData = try ScenarioTargets.resolve(scenario.plan) { try geometry.center(of: $0) }
    let plan = try ScriptedPlan.decode(planData, source: "the plan of \(scenario.name)")

    var settings = AgentSettings()
    settings.settleSeconds = scenario.settleSeconds
    settings.maxSteps = runner.planner == nil ? plan.steps.count + 1 : runner.plannerMaxSteps
    settings.episodeTimeoutSeconds = max(1, deadline.timeIntervalSinceNow)
    let loop = AgentLoop(configuration: .init(display: display, store: runner.store, planner: runner.planner,
                                              locator: ScenarioLocator(geometry: GeometryLocator(geometry: geometry),
                                                                       described: runner.describedLocator),
                                              settings: settings))
    let result = try loop.run(task: scenario.task, plan: runner.planner == nil ? plan : nil)
    outcome = result
    guard result.status == .succeeded else { return (false, "episode \(result.status.rawValue): \(result.reason)") }

    let check = try runCheck(fill(scenario.check), environment: ["DISPLAY": server.display],
                             directory: scenario.source.deletingLastPathComponent(),
                             outputFile: folder.appendingPathComponent("check.out"),
                             timeout: max(2, deadline.timeIntervalSinceNow), in: group)
    if check.timedOut { return (false, "check timed out: \(check.output)") }
    guard check.status == 0 else {
      let said = check.output.trimmingCharacters(in: .whitespacesAndNewlines)
      return (false, "check failed (exit \(check.status))" + (said.isEmpty ? "" : ": \(said)"))
    }
    return (true, result.reason)
  }

  /// Polls until the app's geometry file can be read or its window is viewable and drawn.
  func wait(for ready: ReadyCondition, of app: ScenarioProcess, geometry: ScenarioGeometry, until deadline: Date) throws {
    let what = ready.window.map { "a window named '\($0)'" } ?? "its geometry file"
    let program = app.command.first ?? "?"
    while Date() < deadline {
      if let title = ready.window {
        if let w = try geometry.display.findWindows(named: title).first(where: { $0.isViewable }),
           Self.drawn(window: w.id, on: geometry.display) { return }
      } else if (try? geometry.widgets()) != nil {
        return
      }
      guard app.isRunning else {
        throw AgentError.invalidArgument("\(program) exited before showing \(what): \(app.outputTail())")
      }
      usleep(50_000)
    }
    throw AgentError.invalidArgument("\(program) did not show \(what) in time: \(app.outputTail())")
  }

  /// Whether a mapped window shows its content: not one colour, and the same in two looks
  /// 100 ms apart. Mapped is not drawn: GTK paints after mapping, and a plan (or a model) that
  /// looks at once would see an empty rectangle.
  static func drawn(window id: UInt32, on display: X11Display) -> Bool {
    guard let first = try? display.capture(.window(id: id)), first.pixels.count >= 3 else { return false }
    let p = first.pixels
    var uniform = true
    for i in stride(from: 3, to: p.count, by: 3) where p[i] != p[0] || p[i + 1] != p[1] || p[i + 2] != p[2] {
      uniform = false
      break
    }
    if uniform { return false }
    usleep(100_000)
    return (try? display.capture(.window(id: id))) == first
  }

  /// Stops the whole process group (applications, their children, the server), then removes
  /// the server's lock files and the scenario's folder.
  mutating func cleanUp() {
    group?.stop()
    group = nil
    apps.removeAll()
    xvfb?.removeLeftovers()
    xvfb = nil
    try? FileManager.default.removeItem(at: folder)
  }
}
