import Engine
import Foundation
import Grounding
import Imaging
import ScreenCapture

/// The agent: looks at the screen, asks its planner for actions, locates their targets, checks
/// them against the safety rules, runs them, lets the screen settle, looks again, and records
/// every action as a step in the episode store, until the task is done or it must stop.
///
/// Each step: capture -> planner (task, last K steps, screenshot, last failure) -> parse ->
/// locate every action's targets -> safety for every action (allow-list, denied keys, on-screen
/// points; one refusal refuses the whole response) -> then per action, in order: fail-safe ->
/// confirm -> record the intent -> execute (not in a dry run; a wait, drag or typing is stopped
/// at the step deadline or when the fail-safe trips) -> settle -> capture -> record the outcome.
/// Malformed output, unlocatable targets and refusals are recorded steps that the planner sees
/// as feedback; `maxConsecutiveFailures` of them in a row end the episode as failed.
public final class AgentLoop {
  /// What the loop works with.
  public struct Configuration {
    public var display: X11Display
    public var store: EpisodeStore
    /// Plans when `run` gets no scripted plan.
    public var planner: (any ActionPlanner)?
    /// Locates `{"element": ...}` targets; without one they are recorded failures.
    public var locator: (any ElementLocator)?
    public var settings: AgentSettings
    /// Asked before each action that sends input (`--confirm`); false stops the episode.
    public var confirm: ((AgentAction, [ScreenPoint]) -> Bool)?
    /// Told about each step as soon as it is recorded.
    public var onStep: ((StepReport) -> Void)?
    /// Asked before each step; true ends the episode as `stopped` (e.g. after Ctrl-C).
    public var stopRequested: (() -> Bool)?

    public init(display: X11Display, store: EpisodeStore, planner: (any ActionPlanner)? = nil,
                locator: (any ElementLocator)? = nil, settings: AgentSettings = AgentSettings(),
                confirm: ((AgentAction, [ScreenPoint]) -> Bool)? = nil, onStep: ((StepReport) -> Void)? = nil) {
      self.display = display
      self.store = store
      self.planner = planner
      self.locator = locator
      self.settings = settings
      self.confirm = confirm
      self.onStep = onStep
    }

    /// The three modes from loaded models: a `vlm` alone plans and points (mode 1); with a
    /// text `planner` model, the planner plans and the `vlm` grounds (mode 2); scripted plans
    /// (mode 3, given to `run`) use the `vlm`, if any, to ground element targets.
    /// `grounding` picks the `vlm`'s known model, convention and prompt (default: from its folder).
    /// `parser` reads the screen into the element list a text planner is shown.
    /// - Throws: `GroundingError` when `vlm` takes no images.
    public init(display: X11Display, store: EpisodeStore, vlm: LoadedModel?, planner plannerModel: LoadedModel?,
                settings: AgentSettings = AgentSettings(), grounding: GroundingOptions = .init(),
                parser: (any ScreenParser)? = nil) throws {
      self.init(display: display, store: store, settings: settings)
      if let vlm { locator = try GrounderLocator(model: vlm, grounding: grounding) }
      if let plannerModel {
        planner = TextPlanner(model: plannerModel, parser: parser)
      } else if let vlm {
        planner = try VisionPlanner(model: vlm, grounding: GroundingOptions(modelName: grounding.modelName, convention: grounding.convention))
      }
    }
  }

  public var configuration: Configuration
  let clock = ContinuousClock()

  public init(configuration: Configuration) { self.configuration = configuration }

  /// Runs one episode of `task`, following `plan` when given (else the configured planner).
  ///
  /// The episode is recorded from its start; its end is always recorded, whatever stopped it,
  /// unless the store itself fails.
  /// - Throws: only when the episode cannot be recorded (the store's `AgentError`: full,
  ///   read-only, ...; the episode is then ended `failed` if the store still takes that write)
  ///   or there is nothing to plan with; everything else that goes wrong during the episode,
  ///   a lost X connection included, is its recorded outcome.
  public func run(task: String, plan: ScriptedPlan? = nil) throws -> EpisodeOutcome {
    let planner: any ActionPlanner
    if let plan {
      planner = ScriptedPlanner(plan: plan)
    } else if let configured = configuration.planner {
      planner = configured
    } else {
      throw AgentError.invalidArgument("nothing to plan with: give a scripted plan or a model")
    }
    var models = ["planner": planner.name]
    if let digest = planner.weightsDigest { models["planner_sha256"] = digest }
    if let locator = configuration.locator {
      models["grounding"] = locator.name
      if let digest = locator.weightsDigest { models["grounding_sha256"] = digest }
    }
    let d = configuration.display
    let record = SettingsRecord(settings: configuration.settings, display: d.name,
                                screen: [d.screenWidth, d.screenHeight], confirm: configuration.confirm != nil)
    let id = try configuration.store.beginEpisode(task: task, models: models, settings: record)
    var episode = EpisodeRun(id: id, task: task, planner: planner, deadline: clock.now + .seconds(configuration.settings.episodeTimeoutSeconds))
    let ending: Ending
    do {
      ending = try steps(&episode)
    } catch let error as AgentError where error.isStoreFailure {
      // The episode can no longer be recorded (store full, read-only): end it in the record if
      // the store still takes that, and give the store's error to the caller, which says what
      // to fix. Failing that, the next open marks the episode interrupted.
      try? configuration.store.finishEpisode(id: id, status: .failed,
                                             error: "after \(episode.stepsRecorded) recorded step(s): \(describe(error))")
      throw error
    } catch {
      ending = Ending(.failed, "step \(episode.stepsRecorded + 1): \(describe(error))")
    }
    let ok = ending.status == .succeeded
    try configuration.store.finishEpisode(id: id, status: ending.status, summary: ok || ending.status == .stopped ? ending.reason : nil,
                                          error: ok ? nil : ending.reason)
    return EpisodeOutcome(episodeId: id, status: ending.status, steps: episode.stepsRecorded, reason: ending.reason)
  }

  /// Steps until one ends the episode or the step limit is reached.
  private func steps(_ episode: inout EpisodeRun) throws -> Ending {
    let limit = configuration.settings.maxSteps
    while episode.stepsRecorded < limit {
      if configuration.stopRequested?() == true { return Ending(.stopped, "stopped at the user's request") }
      if let ending = try step(&episode) { return ending }
    }
    return Ending(.maxSteps, "reached the limit of \(limit) steps")
  }
}

// MARK: - Episode state

/// How an episode ends.
struct Ending {
  var status: EpisodeStatus
  var reason: String
  init(_ status: EpisodeStatus, _ reason: String) { self.status = status; self.reason = reason }
}

/// What the loop remembers between steps.
struct EpisodeRun {
  let id: Int64
  let task: String
  let planner: any ActionPlanner
  let deadline: ContinuousClock.Instant
  var stepsRecorded = 0
  var history: [HistoryEntry] = []
  var feedback: String? = nil
  var consecutiveFailures = 0
  /// Steps that could not run (unparsable, not located, refused), and the last one's reason: a
  /// scripted plan has no second try, so one of them means the plan did not run as written.
  var failedSteps = 0
  var lastFailure: String? = nil
  /// Where the agent's last action left the pointer (fail-safe: that corner is not the user's).
  var agentPointer: ScreenPoint? = nil
}

/// The settings as stored with the episode.
struct SettingsRecord: Encodable {
  var settings: AgentSettings
  var display: String
  var screen: [Int]
  var confirm: Bool
}

/// An error's message for records: `LocalizedError`'s description when there is one.
func describe(_ error: any Error) -> String {
  (error as? LocalizedError)?.errorDescription ?? String(describing: error)
}
