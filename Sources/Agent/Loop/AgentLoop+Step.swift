import Engine
import Foundation
import Imaging
import ScreenCapture

// MARK: - One step

extension AgentLoop {
  /// Takes one step; returns how the episode ends when this step ends it.
  func step(_ episode: inout EpisodeRun) throws -> Ending? {
    let settings = configuration.settings
    let display = configuration.display
    let start = clock.now
    guard start < episode.deadline else {
      return Ending(.failed, "the episode timeout of \(settings.episodeTimeoutSeconds) s was reached")
    }
    let index = episode.stepsRecorded
    // Look.
    let before = try display.capture(.screen)
    let beforePNG = try PNG.encode(before, compression: .fast)
    var latencies = ["capture": ms(clock.now - start)]
    // Think.
    let deadline = min(start + .seconds(settings.stepTimeoutSeconds), episode.deadline)
    let context = PlannerContext(
      task: episode.task, stepIndex: index, history: Array(episode.history.suffix(settings.historyLength)),
      screenshot: before, feedback: episode.feedback, deadline: deadline,
      thinkBudget: settings.thinkBudget, maxAnswerTokens: settings.maxAnswerTokens,
      constrained: settings.constrainedDecoding)
    guard let output = try episode.planner.next(context) else {
      return Ending(.succeeded, "the scripted plan ran to its end")
    }
    latencies.merge(output.latencies) { _, new in new }
    var draft = StepDraft(index: index, output: output, screenshot: beforePNG, latencies: latencies)
    if clock.now >= deadline {
      let why = clock.now >= episode.deadline ? "the episode timeout of \(settings.episodeTimeoutSeconds) s"
        : "the step timeout of \(settings.stepTimeoutSeconds) s"
      try record(&episode, draft, error: "\(why) ran out while planning")
      return Ending(.failed, "step \(index + 1): \(why) ran out while planning")
    }
    let parsed: ParsedResponse
    switch ActionGrammar.parseAny(output.answer) {
    case let .failure(f):
      return try failed(&episode, draft, "the output did not parse: \(f.message)")
    case let .success(r):
      parsed = r
    }
    let action = parsed.actions[0]
    draft.action = action
    if draft.reasoning == nil { draft.reasoning = parsed.thought }
    // Locate the targets.
    let t0 = clock.now
    switch locate(action, output.pointSpace, on: before) {
    case let .failure(f):
      draft.latencies["grounding"] = ms(clock.now - t0)
      return try failed(&episode, draft, f.message)
    case let .success(points):
      draft.points = points
      if action.targets.contains(where: { if case .element = $0 { true } else { false } }) {
        draft.latencies["grounding"] = ms(clock.now - t0)
      }
    }
    // Check.
    if let refusal = SafetyPolicy(settings: settings).refusal(for: action, points: draft.points, screen: display.screenRect) {
      return try failed(&episode, draft, "refused: \(refusal)")
    }
    if settings.failSafe, let tripped = FailSafe(margin: settings.failSafeMargin).tripped(
      pointer: try display.pointerPosition(), screen: display.screenRect, agentPointer: episode.agentPointer) {
      try record(&episode, draft, error: tripped)
      return Ending(.stopped, tripped)
    }
    let sends = ActionExecutor.sendsInput(action)
    if sends, !settings.dryRun, let confirm = configuration.confirm, !confirm(action, draft.points) {
      try record(&episode, draft, error: "the user declined the action")
      return Ending(.stopped, "the user declined step \(index + 1)")
    }
    return try execute(&episode, draft, before: before)
  }

  /// Records the intent, runs the action (input only outside dry runs), settles, looks again,
  /// records the outcome.
  private func execute(_ episode: inout EpisodeRun, _ draft: StepDraft, before: RGBImage) throws -> Ending? {
    guard let action = draft.action else { return nil }
    let settings = configuration.settings
    let display = configuration.display
    let stepID = try configuration.store.beginStep(episode: episode.id, index: draft.index, intent: draft.intent)
    episode.stepsRecorded += 1
    let sends = ActionExecutor.sendsInput(action)
    let t0 = clock.now
    do {
      if !(sends && settings.dryRun) { try ActionExecutor.run(action, points: draft.points, on: display) }
      if sends, !settings.dryRun { episode.agentPointer = try display.pointerPosition() }
    } catch {
      let message = "the action failed: \(describe(error))"
      try configuration.store.finishStep(stepID, outcome: StepOutcome(latencies: ["action": ms(clock.now - t0)], error: message))
      report(draft, executed: false, changed: nil, error: message)
      return Ending(.failed, "step \(draft.index + 1): \(message)")
    }
    var latencies = ["action": ms(clock.now - t0)]
    switch action {
    case let .finished(summary):
      try configuration.store.finishStep(stepID, outcome: StepOutcome(latencies: latencies))
      report(draft, executed: false, changed: nil, error: nil)
      return Ending(.succeeded, summary.isEmpty ? "the agent reported the task done" : summary)
    case let .callUser(question):
      try configuration.store.finishStep(stepID, outcome: StepOutcome(latencies: latencies))
      report(draft, executed: false, changed: nil, error: nil)
      return Ending(.stopped, "the agent asks the user: \(question.isEmpty ? "(no question)" : question)")
    default:
      break
    }
    sleep(seconds: settings.settleSeconds)
    let t1 = clock.now
    let after = try display.capture(.screen)
    let afterPNG = try PNG.encode(after, compression: .fast)
    latencies["settle"] = 1000 * settings.settleSeconds
    latencies["capture_after"] = ms(clock.now - t1)
    let changed = after != before
    var error: String? = nil
    if let expected = draft.output.expectChange, expected != changed {
      error = "expected the screen \(expected ? "to change" : "not to change"), but it \(changed ? "changed" : "did not")"
    }
    try configuration.store.finishStep(stepID, outcome: StepOutcome(
      screenChanged: changed, latencies: latencies, error: error, screenshotAfter: afterPNG))
    report(draft, executed: sends && !settings.dryRun, changed: changed, error: error)
    episode.history.append(HistoryEntry(thought: draft.reasoning, action: JSONActionGrammar.serialize(action),
                                        result: changed ? "the screen changed" : "the screen did not change"))
    episode.feedback = nil
    episode.consecutiveFailures = 0
    if let error { return Ending(.failed, "step \(draft.index + 1): \(error)") }
    return nil
  }

  // MARK: - Failures

  /// Records a step that could not run, remembers why for the planner, and ends the episode
  /// once too many failed in a row.
  private func failed(_ episode: inout EpisodeRun, _ draft: StepDraft, _ message: String) throws -> Ending? {
    try record(&episode, draft, error: message)
    episode.history.append(HistoryEntry(thought: draft.reasoning,
                                        action: draft.action.map { JSONActionGrammar.serialize($0) } ?? draft.output.answer,
                                        result: message))
    episode.feedback = message
    episode.consecutiveFailures += 1
    let limit = configuration.settings.maxConsecutiveFailures
    guard episode.consecutiveFailures >= limit else { return nil }
    return Ending(.failed, "\(limit) failed steps in a row; the last: \(message)")
  }

  /// Writes a step whose action did not run: intent and outcome (with `error`) at once.
  private func record(_ episode: inout EpisodeRun, _ draft: StepDraft, error: String) throws {
    let stepID = try configuration.store.beginStep(episode: episode.id, index: draft.index, intent: draft.intent)
    episode.stepsRecorded += 1
    try configuration.store.finishStep(stepID, outcome: StepOutcome(error: error))
    report(draft, executed: false, changed: nil, error: error)
  }

  private func report(_ draft: StepDraft, executed: Bool, changed: Bool?, error: String?) {
    configuration.onStep?(StepReport(index: draft.index, reasoning: draft.reasoning, rawOutput: draft.output.rawOutput,
                                     action: draft.action, points: draft.points, executed: executed,
                                     screenChanged: changed, error: error))
  }

  // MARK: - Locating

  /// The action's targets as screen pixels, or why one could not be located.
  private func locate(_ action: AgentAction, _ space: PointSpace, on image: RGBImage) -> Result<[ScreenPoint], LocateFailure> {
    var points: [ScreenPoint] = []
    for target in action.targets {
      switch target {
      case let .point(p):
        do {
          switch space {
          case .screen:
            guard p.x.isFinite, p.y.isFinite, abs(p.x) < 1e6, abs(p.y) < 1e6 else {
              return .failure(LocateFailure("point (\(p.x), \(p.y)) is not a screen pixel"))
            }
            points.append(ScreenPoint(x: Int(p.x.rounded()), y: Int(p.y.rounded())))
          case let .model(toScreen):
            points.append(try toScreen(p))
          }
        } catch {
          return .failure(LocateFailure("point (\(p.x), \(p.y)) does not map to the screen: \(describe(error))"))
        }
      case let .element(description):
        guard let locator = configuration.locator else {
          return .failure(LocateFailure("no grounding model to locate '\(description)'"))
        }
        do {
          let found = try locator.locate(description, in: image)
          guard let point = found.point else {
            return .failure(LocateFailure("could not locate '\(description)': \(found.why ?? "no point")"))
          }
          points.append(point)
        } catch {
          return .failure(LocateFailure("grounding '\(description)' failed: \(describe(error))"))
        }
      }
    }
    return .success(points)
  }
}

// MARK: - Step state

/// Why a target could not be located (a message for the record and the planner).
struct LocateFailure: Error {
  var message: String
  init(_ message: String) { self.message = message }
}

/// A step being assembled before it is recorded.
struct StepDraft {
  let index: Int
  let output: PlannerOutput
  let screenshot: Data
  var latencies: [String: Double]
  var reasoning: String?
  var action: AgentAction? = nil
  var points: [ScreenPoint] = []

  init(index: Int, output: PlannerOutput, screenshot: Data, latencies: [String: Double]) {
    self.index = index
    self.output = output
    self.screenshot = screenshot
    self.latencies = latencies
    self.reasoning = output.reasoning
  }

  var intent: StepIntent {
    StepIntent(reasoning: reasoning, rawOutput: output.rawOutput, action: action,
               groundedPoint: points.first.map { GroundedPoint(x: Double($0.x), y: Double($0.y)) },
               screenshot: screenshot, tokens: output.tokens, latencies: latencies)
  }
}

/// Milliseconds of a duration.
func ms(_ d: Duration) -> Double { d.milliseconds }
