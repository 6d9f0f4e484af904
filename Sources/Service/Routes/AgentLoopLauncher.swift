import Agent
import Engine
import Foundation
import Grounding
import Imaging
import ScreenCapture

/// Episodes on the agent loop, sharing the service's model and inference queue: the planner's
/// and the locator's model calls wait in the same line as grounding and chat requests (admitted
/// whatever its length: an episode in progress is not refused), so two forward passes never run
/// at once.
///
/// Stopping: the stop flag is checked before each planning call and before each action; the
/// step in progress ends first (a model call is not cut), then the episode is recorded `stopped`.
public struct AgentLoopLauncher: EpisodeLauncher {
  let model: LoadedModel?
  let display: String?
  let queue: InferenceQueue
  let grounding: GroundingOptions

  /// - Parameters:
  ///   - model: the vision-language model that plans and points (nil: scripted plans only).
  ///   - display: the X display episodes act on (nil: `$DISPLAY`).
  ///   - grounding: the model's known model, convention and prompt (default: from its folder).
  public init(model: LoadedModel?, display: String?, queue: InferenceQueue, grounding: GroundingOptions = .init()) {
    self.model = model; self.display = display; self.queue = queue; self.grounding = grounding
  }

  /// For `GUIAgentService(launcher:)`: the agent loop on the service's queue.
  public static func factory(model: LoadedModel?, display: String?,
                             grounding: GroundingOptions = .init()) -> (InferenceQueue) -> EpisodeLauncher {
    { queue in AgentLoopLauncher(model: model, display: display, queue: queue, grounding: grounding) }
  }

  // MARK: - Settings

  /// Reads settings in snake_case (`max_steps`, `dry_run`, …); absent fields keep their defaults.
  static func settings(_ data: Data) throws -> AgentSettings {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    guard var merged = try JSONSerialization.jsonObject(with: encoder.encode(AgentSettings())) as? [String: Any],
          let given = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw RequestError.field("settings", "must be an object")
    }
    let known = Set(merged.keys).union(["allowed_actions", "think_budget"])
    if let unknown = given.keys.sorted().first(where: { !known.contains($0) }) {
      throw RequestError.field("settings.\(unknown)", "is not a setting (known: \(known.sorted().joined(separator: ", ")))")
    }
    merged.merge(given) { _, new in new }
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    let settings: AgentSettings
    do {
      settings = try decoder.decode(AgentSettings.self, from: JSONSerialization.data(withJSONObject: merged))
    } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
      let path = context.codingPath.map { $0.intValue.map(String.init) ?? snake($0.stringValue) }.joined(separator: ".")
      throw RequestError.field("settings.\(path)", context.debugDescription)
    } catch {
      throw RequestError.field("settings", "\(error)")
    }
    if let bad = SafetyPolicy.invalidPattern(in: settings.deniedTextPatterns) {
      throw RequestError.field("settings.denied_text_patterns", bad)
    }
    return settings
  }

  private static func snake(_ camel: String) -> String {
    camel.reduce(into: "") { out, c in
      if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
    }
  }

  public func validate(settings: Data, plan: Data?) throws {
    let s = try Self.settings(settings)
    guard s.maxSteps >= 1 else { throw RequestError.field("settings.max_steps", "must be at least 1") }
    if let plan {
      do { _ = try ScriptedPlan.decode(plan, source: "field 'plan'") } catch {
        throw RequestError(400, (error as? LocalizedError)?.errorDescription ?? "\(error)")
      }
    } else if model == nil {
      throw RequestError.field("plan", "is required: this server has no model to plan with")
    }
  }

  // MARK: - Running

  public func run(task: String, settings: Data, plan: Data?, store: EpisodeStore, stop: Cancellation,
                  started: @escaping @Sendable (Int64) -> Void) throws {
    let settings = try Self.settings(settings)
    let scripted = try plan.map { try ScriptedPlan.decode($0, source: "field 'plan'") }
    let x = try X11Display(display: display)
    var configuration = try AgentLoop.Configuration(display: x, store: store, vlm: nil, planner: nil, settings: settings)
    if let model, model.vision != nil {
      configuration.locator = QueuedLocator(try GrounderLocator(model: model, grounding: grounding), queue: queue)
    }
    let before = (try store.episodes().last?.id) ?? 0
    let announce = Announcer(store: store, task: task, after: before, started: started)
    let inner: any ActionPlanner
    if let scripted {
      inner = ScriptedPlanner(plan: scripted)
    } else if let model {
      inner = try VisionPlanner(model: model, grounding: GroundingOptions(modelName: grounding.modelName, convention: grounding.convention))
    } else {
      throw RequestError.field("plan", "is required: this server has no model to plan with")
    }
    configuration.planner = StoppablePlanner(inner, queue: scripted == nil ? queue : nil, stop: stop, announce: announce)
    configuration.confirm = { _, _ in !stop.isCancelled }
    let outcome = try AgentLoop(configuration: configuration).run(task: task)
    announce.ensure(outcome.episodeId)
    if stop.isCancelled && outcome.status != .stopped {
      try store.finishEpisode(id: outcome.episodeId, status: .stopped,
                              summary: "stopped on request after \(outcome.steps) step(s)")
    }
  }
}

// MARK: - Wrappers

/// Tells the service the episode's id once the loop has recorded it (the loop returns it only at
/// the end): the newest running episode of this task, newer than those before the start.
final class Announcer: @unchecked Sendable {
  let store: EpisodeStore
  let task: String
  let after: Int64
  let started: @Sendable (Int64) -> Void
  private var done = false

  init(store: EpisodeStore, task: String, after: Int64, started: @escaping @Sendable (Int64) -> Void) {
    self.store = store; self.task = task; self.after = after; self.started = started
  }

  func announce() {
    guard !done else { return }
    if let e = try? store.episodes().last(where: { $0.id > after && $0.task == task && $0.status == .running }) {
      ensure(e.id)
    }
  }

  func ensure(_ id: Int64) {
    guard !done else { return }
    done = true
    started(id)
  }
}

/// A planner that stops when asked, and runs model planners in the inference queue.
final class StoppablePlanner: ActionPlanner {
  let inner: any ActionPlanner
  let queue: InferenceQueue?
  let stop: Cancellation
  let announce: Announcer
  var name: String { inner.name }

  init(_ inner: any ActionPlanner, queue: InferenceQueue?, stop: Cancellation, announce: Announcer) {
    self.inner = inner; self.queue = queue; self.stop = stop; self.announce = announce
  }

  func next(_ context: PlannerContext) throws -> PlannerOutput? {
    announce.announce()
    if stop.isCancelled { throw StopRequested() }
    guard let queue else { return try inner.next(context) }
    let box = UncheckedBox(inner)
    return try queue.run(admitAlways: true) { try box.value.next(context) }
  }
}

/// A locator whose model calls wait in the inference queue.
final class QueuedLocator: ElementLocator {
  let inner: GrounderLocator
  let queue: InferenceQueue
  var name: String { inner.name }

  init(_ inner: GrounderLocator, queue: InferenceQueue) { self.inner = inner; self.queue = queue }

  func locate(_ description: String, in screenshot: RGBImage) throws -> Located {
    let box = UncheckedBox(inner)
    return try queue.run(admitAlways: true) { try box.value.locate(description, in: screenshot) }
  }
}

/// The episode was asked to stop (`POST /v1/episodes/{id}/stop` or shutdown).
struct StopRequested: LocalizedError {
  var errorDescription: String? { "stopped on request" }
}

/// Hands a non-Sendable planner to the inference thread; the episode thread waits meanwhile, so
/// only one thread touches it at a time.
struct UncheckedBox<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}
