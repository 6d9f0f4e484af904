import Foundation

// MARK: - Scenario files

/// One end-to-end scenario: applications to start on a private X server, a task, a scripted plan
/// that carries it out with real input events, and a shell command whose exit status says
/// whether it worked. Read from JSON (see Scenarios/README.md):
///
/// ```json
/// {"name": "tk-form", "task": "Fill in the form and submit it.",
///  "apps": [{"command": ["/usr/bin/python3", "{dir}/apps/tkapp.py", "--mode", "form",
///            "--log", "{log}", "--geometry-out", "{geometry}"], "ready": {"geometry": true}}],
///  "plan": {"steps": [{"action": {"action": "click", "target": {"point": "@submit"}}}]},
///  "check": "/usr/bin/python3 {dir}/apps/logcheck.py {log} '{\"event\": \"submit\"}'",
///  "timeout": 30}
/// ```
public struct Scenario: Sendable, Equatable {
  public var name: String
  public var task: String
  public var apps: [ScenarioApp]
  /// The scripted plan as written: `{"point": "@name"}` targets are resolved against the
  /// applications' geometry when the scenario runs (``ScenarioTargets``).
  public var plan: JSONValue
  /// A shell command (`/bin/sh -c`); exit status 0 means the scenario passed.
  public var check: String
  /// Seconds for the whole scenario: start, episode and check.
  public var timeoutSeconds: Double
  /// Pause after each action before the screen is captured again (the loop's settle time).
  public var settleSeconds: Double
  /// The file the scenario came from; `{dir}` is its folder.
  public var source: URL

  public init(name: String, task: String, apps: [ScenarioApp], plan: JSONValue, check: String,
              timeoutSeconds: Double = 30, settleSeconds: Double = 0.2, source: URL) {
    self.name = name
    self.task = task
    self.apps = apps
    self.plan = plan
    self.check = check
    self.timeoutSeconds = timeoutSeconds
    self.settleSeconds = settleSeconds
    self.source = source
  }
}

/// An application a scenario starts.
public struct ScenarioApp: Sendable, Equatable, Codable {
  /// Program and arguments; the program is looked up on `PATH`. Placeholders: `{log}`,
  /// `{geometry}`, `{tmp}`, `{dir}`, `{display}`.
  public var command: [String]
  /// Extra environment variables (placeholders allowed in values).
  public var env: [String: String]?
  /// What to wait for before the episode starts; nothing when nil.
  public var ready: ReadyCondition?

  public init(command: [String], env: [String: String]? = nil, ready: ReadyCondition? = nil) {
    self.command = command
    self.env = env
    self.ready = ready
  }
}

/// When a started application counts as ready: its geometry file has been written, or a viewable
/// window of this name exists.
public struct ReadyCondition: Sendable, Equatable, Codable {
  public var geometry: Bool?
  public var window: String?

  public init(geometry: Bool? = nil, window: String? = nil) {
    self.geometry = geometry
    self.window = window
  }
}

// MARK: - Decoding

extension Scenario: Decodable {
  enum CodingKeys: String, CodingKey {
    case name, task, apps, plan, check, timeout
    case settleMs = "settle_ms"
  }

  /// Decodes the fields; `source` is set by ``load(from:)``.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    name = try c.decode(String.self, forKey: .name)
    task = try c.decode(String.self, forKey: .task)
    apps = try c.decode([ScenarioApp].self, forKey: .apps)
    plan = try c.decode(JSONValue.self, forKey: .plan)
    check = try c.decode(String.self, forKey: .check)
    timeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .timeout) ?? 30
    settleSeconds = (try c.decodeIfPresent(Double.self, forKey: .settleMs) ?? 200) / 1000
    source = URL(fileURLWithPath: "/")
  }

  /// Reads and checks one scenario file.
  /// - Throws: `AgentError.invalidArgument` naming the file and the field that is wrong.
  public static func load(from url: URL) throws -> Scenario {
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
      throw AgentError.invalidArgument("scenario file \(url.path) cannot be read: \(error.localizedDescription)")
    }
    return try decode(data, source: url)
  }

  /// Decodes and validates a scenario from JSON bytes; `source` names it in errors.
  public static func decode(_ data: Data, source: URL) throws -> Scenario {
    var scenario: Scenario
    do { scenario = try JSONDecoder().decode(Scenario.self, from: data) } catch let e as DecodingError {
      throw AgentError.invalidArgument("scenario \(source.path): \(describe(e))")
    } catch {
      throw AgentError.invalidArgument("scenario \(source.path) is not JSON: \(error.localizedDescription)")
    }
    scenario.source = source
    try scenario.validate()
    return scenario
  }

  /// The checks JSON types cannot express, each naming its field.
  func validate() throws {
    func bad(_ field: String, _ why: String) -> AgentError {
      .invalidArgument("scenario \(source.path): field '\(field)' \(why)")
    }
    if name.trimmingCharacters(in: .whitespaces).isEmpty { throw bad("name", "is empty") }
    if check.trimmingCharacters(in: .whitespaces).isEmpty { throw bad("check", "is empty") }
    guard timeoutSeconds > 0, timeoutSeconds <= 3600 else { throw bad("timeout", "is \(timeoutSeconds), not in (0, 3600] seconds") }
    guard settleSeconds >= 0, settleSeconds <= 10 else { throw bad("settle_ms", "is \(settleSeconds * 1000), not in 0...10000") }
    if apps.isEmpty { throw bad("apps", "is empty: a scenario starts at least one application") }
    for (i, app) in apps.enumerated() {
      if app.command.first?.isEmpty ?? true { throw bad("apps[\(i)].command", "names no program") }
      if let r = app.ready, (r.geometry == true) == (r.window != nil) {
        throw bad("apps[\(i)].ready", "must be {\"geometry\": true} or {\"window\": \"NAME\"}")
      }
    }
    // The plan must decode once its "@name" points are given some position.
    do {
      _ = try ScriptedPlan.decode(try ScenarioTargets.resolve(plan, with: { _ in (0, 0) }), source: "field 'plan'")
    } catch let e as AgentError {
      throw AgentError.invalidArgument("scenario \(source.path): \(e.localizedDescription)")
    }
  }

  /// "at apps[0].command: ..." so the user finds the bad field.
  static func describe(_ e: DecodingError) -> String {
    func path(_ keys: [any CodingKey]) -> String {
      keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: ["."])
    }
    func field(_ keys: [any CodingKey]) -> String { keys.isEmpty ? "the top level" : "field '\(path(keys))'" }
    switch e {
    case let .keyNotFound(k, c): return "missing field '\(path(c.codingPath + [k]))'"
    case let .typeMismatch(type, c): return "\(field(c.codingPath)) has the wrong type (expected \(type))"
    case let .valueNotFound(type, c): return "\(field(c.codingPath)) is null (expected \(type))"
    case let .dataCorrupted(c): return "\(field(c.codingPath)): \(c.debugDescription)"
    @unknown default: return "\(e)"
    }
  }
}

// MARK: - Scenario folders

extension Scenario {
  /// The scenarios of a file, or of every `*.json` file directly inside a folder (sorted by name).
  /// - Throws: `AgentError.invalidArgument` for a missing path, an empty folder or a bad file.
  public static func loadAll(from path: URL) throws -> [Scenario] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDirectory) else {
      throw AgentError.invalidArgument("no scenario file or folder at \(path.path)")
    }
    guard isDirectory.boolValue else { return [try load(from: path)] }
    let names: [String]
    do { names = try FileManager.default.contentsOfDirectory(atPath: path.path) } catch {
      throw AgentError.invalidArgument("scenario folder \(path.path) cannot be listed: \(error.localizedDescription)")
    }
    let files = names.filter { $0.hasSuffix(".json") }.sorted()
    guard !files.isEmpty else { throw AgentError.invalidArgument("scenario folder \(path.path) holds no .json file") }
    let scenarios = try files.map { try load(from: path.appendingPathComponent($0)) }
    var seen: [String: String] = [:]
    for s in scenarios {
      if let other = seen[s.name] {
        throw AgentError.invalidArgument("scenario name '\(s.name)' is used by both \(other) and \(s.source.lastPathComponent)")
      }
      seen[s.name] = s.source.lastPathComponent
    }
    return scenarios
  }
}
