import Agent
import Foundation

/// Runs one agent episode to its end on the calling thread. The service calls it on a thread of
/// its own; `gui-agent serve` supplies one built on the agent loop.
public protocol EpisodeLauncher: Sendable {
  /// Checks a request's `settings` object (JSON, `{}` when absent) and `plan` (JSON or nil)
  /// before anything starts. Throws an error whose message names the bad field.
  func validate(settings: Data, plan: Data?) throws
  /// Records the episode in `store`, calls `started` with its id once the record exists, runs
  /// it, and returns when it ends. `stop` is set by `POST /v1/episodes/{id}/stop` and shutdown.
  func run(task: String, settings: Data, plan: Data?, store: EpisodeStore, stop: Cancellation,
           started: @escaping @Sendable (Int64) -> Void) throws
}

/// The episode routes: start (one at a time), list, show, screenshots, stop.
final class EpisodeManager: @unchecked Sendable {
  private let condition = NSCondition()
  private var store: EpisodeStore?
  let launcher: EpisodeLauncher?
  /// The running episode: its id once recorded, and its stop flag.
  private var current: (id: Int64?, stop: Cancellation)?

  init(store: EpisodeStore, launcher: EpisodeLauncher?) {
    self.store = store; self.launcher = launcher
  }

  private func openStore() throws(RequestError) -> EpisodeStore {
    guard let store = condition.withLock({ store }) else { throw RequestError(503, "the episode store is closed") }
    return store
  }

  // MARK: - Routes

  /// `POST /v1/episodes` {task, settings?, plan?} -> 202 {id, status: "running"}; 409 while one runs.
  func start(_ request: HTTPRequest) throws -> HTTPResponse {
    let body = try JSONFields(body: request.body)
    try body.rejectUnknown(["task", "settings", "plan"])
    let task = try body.requiredString("task")
    guard !task.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw RequestError.field("task", "is empty") }
    let settingsObject = try body.objectField("settings")?.object ?? [:]
    let settings = (try? JSONSerialization.data(withJSONObject: settingsObject, options: [.sortedKeys])) ?? Data("{}".utf8)
    let plan = try body.objectField("plan").flatMap { try? JSONSerialization.data(withJSONObject: $0.object) }
    guard let launcher else { throw RequestError(503, "this server was started without an agent loop; episodes can only be read") }
    do { try launcher.validate(settings: settings, plan: plan) } catch let e as RequestError { throw e } catch {
      throw RequestError(400, (error as? LocalizedError)?.errorDescription ?? "\(error)")
    }
    let store = try openStore()
    let stop = Cancellation()
    condition.lock()
    let busy = current.map { $0.id.map(String.init) ?? "(starting)" }
    if busy == nil { current = (nil, stop) }
    condition.unlock()
    if let busy { throw RequestError(409, "episode \(busy) is running; stop it or wait for it to end") }
    let failure = FailureSlot()
    let thread = Thread { [self] in
      do {
        try launcher.run(task: task, settings: settings, plan: plan, store: store, stop: stop) { id in
          self.condition.withLock {
            self.current?.id = id
            self.condition.broadcast()
          }
        }
      } catch {
        failure.message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
      }
      self.condition.withLock {
        self.current = nil
        self.condition.broadcast()
      }
    }
    thread.name = "gui-agent episode"
    thread.stackSize = 8 << 20
    thread.start()
    // Answer with the id: wait until the episode is recorded (or its start failed).
    let deadline = Date().addingTimeInterval(30)
    condition.lock()
    while let c = current, c.stop === stop, c.id == nil, condition.wait(until: deadline) {}
    let id = current.flatMap { $0.stop === stop ? $0.id : nil }
    condition.unlock()
    if let id { return .json(["id": id, "status": "running", "task": task], status: 202) }
    if let message = failure.message { throw RequestError(500, "the episode could not start: \(message)") }
    // It was recorded and already ended (a very short episode): report the newest episode.
    if let last = try? store.episodes().last, last.task == task {
      return .json(["id": last.id, "status": last.status.rawValue, "task": task], status: 202)
    }
    throw RequestError(500, "the episode did not start within 30 s")
  }

  /// `GET /v1/episodes`: every episode, newest first.
  func list() throws -> HTTPResponse {
    let running = condition.withLock { current?.id }
    let rows = try openStore().episodes().reversed().map { e -> [String: Any] in
      ["id": e.id, "task": e.task, "status": e.status.rawValue, "steps": e.stepCount,
       "started": Self.time(e.started), "ended": e.ended.map { Self.time($0) as Any } ?? NSNull(),
       "live": e.id == running]
    }
    return .json(["episodes": rows])
  }

  /// `GET /v1/episodes/{id}`: the episode and its steps.
  func show(_ captures: [String: String]) throws -> HTTPResponse {
    let id = try Self.episodeID(captures)
    let store = try openStore()
    let episode: Episode
    let steps: [StepRecord]
    do {
      episode = try store.episode(id)
      steps = try store.steps(episode: id)
    } catch AgentError.episodeNotFound { throw RequestError(404, "no episode with id \(id)") }
    let running = condition.withLock { current?.id }
    let stepRows = steps.map { s -> [String: Any] in
      let base = "/v1/episodes/\(id)/steps/\(s.index)/screenshot.png"
      return [
        "index": s.index, "started": Self.time(s.started), "ended": s.ended.map { Self.time($0) as Any } ?? NSNull(),
        "reasoning": s.reasoning ?? NSNull(), "raw_output": s.rawOutput,
        "action": s.actionJSON.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8), options: [.fragmentsAllowed]) } ?? NSNull(),
        "action_text": s.action.map { UITARSGrammar.serialize($0) as Any } ?? NSNull(),
        "grounded_point": s.groundedPoint.map { ["x": $0.x, "y": $0.y] as Any } ?? NSNull(),
        "grounded_box": s.groundedBox.map { ["x": $0.x, "y": $0.y, "w": $0.width, "h": $0.height] as Any } ?? NSNull(),
        "screen_changed": s.screenChanged.map { $0 as Any } ?? NSNull(),
        "latencies": s.latencies,
        "tokens": s.tokens.map { ["prompt": $0.prompt, "completion": $0.completion] as Any } ?? NSNull(),
        "error": s.error ?? NSNull(),
        "screenshot_before": s.screenshotBeforeBytes > 0 ? base as Any : NSNull(),
        "screenshot_after": s.screenshotAfterBytes > 0 ? base + "?moment=after" as Any : NSNull(),
      ]
    }
    let settings = (try? JSONSerialization.jsonObject(with: Data(episode.settingsJSON.utf8), options: [.fragmentsAllowed])) ?? NSNull()
    return .json([
      "id": id, "task": episode.task, "status": episode.status.rawValue, "models": episode.models,
      "settings": settings, "started": Self.time(episode.started),
      "ended": episode.ended.map { Self.time($0) as Any } ?? NSNull(),
      "summary": episode.summary ?? NSNull(), "error": episode.error ?? NSNull(),
      "live": id == running, "steps": stepRows,
    ])
  }

  /// `GET /v1/episodes/{id}/steps/{n}/screenshot.png[?moment=after]`.
  func screenshot(_ captures: [String: String], request: HTTPRequest) throws -> HTTPResponse {
    let id = try Self.episodeID(captures)
    guard let text = captures["n"], text.count <= 6, text.allSatisfy(\.isASCII), let index = Int(text), index >= 0 else {
      throw RequestError(400, "step '\(captures["n"] ?? "")' is not a step number")
    }
    let momentText = request.query["moment"] ?? "before"
    guard let moment = ScreenshotMoment(rawValue: momentText) else {
      throw RequestError(400, "query 'moment': '\(momentText)' is not before or after")
    }
    let data: Data?
    do { data = try openStore().screenshot(episode: id, step: index, moment: moment) } catch let e as AgentError {
      switch e {
      case .episodeNotFound, .stepNotFound: throw RequestError(404, e.localizedDescription)
      default: throw e
      }
    }
    guard let data else { throw RequestError(404, "step \(index) of episode \(id) has no screenshot \(moment.rawValue)") }
    return HTTPResponse(status: 200, headers: [("Content-Type", "image/png"), ("Cache-Control", "max-age=3600")],
                        body: .bytes(data))
  }

  /// `POST /v1/episodes/{id}/stop`: 202 when it was running, 409 when it is not, 404 when unknown.
  func stop(_ captures: [String: String]) throws -> HTTPResponse {
    let id = try Self.episodeID(captures)
    let stopped: Bool = condition.withLock {
      guard let current, current.id == id else { return false }
      current.stop.cancel()
      return true
    }
    if stopped { return .json(["id": id, "status": "stopping"], status: 202) }
    do {
      let e = try openStore().episode(id)
      throw RequestError(409, "episode \(id) is not running (status \(e.status.rawValue))")
    } catch AgentError.episodeNotFound { throw RequestError(404, "no episode with id \(id)") }
  }

  // MARK: - Lifecycle

  /// Asks the running episode to stop and waits for it (bounded).
  func stopRunning(timeout: Double) {
    let deadline = Date().addingTimeInterval(timeout)
    condition.lock()
    current?.stop.cancel()
    while current != nil, condition.wait(until: deadline) {}
    condition.unlock()
  }

  /// Drops the store (its connection closes when the last reference goes).
  func close() { condition.withLock { store = nil } }

  // MARK: - Helpers

  /// Ids are decimal digits only: nothing else reaches the store.
  static func episodeID(_ captures: [String: String]) throws(RequestError) -> Int64 {
    let text = captures["id"] ?? ""
    guard (1...18).contains(text.count), text.allSatisfy({ $0.isASCII && $0.isNumber }), let id = Int64(text) else {
      throw RequestError(400, "episode id '\(text.prefix(40))' is not a number")
    }
    return id
  }

  static func time(_ date: Date) -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return f.string(from: date)
  }
}

private final class FailureSlot: @unchecked Sendable {
  var message: String?
}
