import Foundation
import Imaging
import ScreenCapture

// MARK: - One action

extension AgentLoop {
  /// Runs one located, checked action of a response: the deadline (from the second action on),
  /// the fail-safe, the confirmation, then the action. `screen` is the latest capture; it
  /// becomes the capture after the action.
  func act(_ episode: inout EpisodeRun, _ draft: StepDraft, deadline: ContinuousClock.Instant,
           screen: inout RGBImage) throws -> Ending? {
    guard let action = draft.action else { return nil }
    let settings = configuration.settings
    let display = configuration.display
    if draft.ordinal > 0 {
      if configuration.stopRequested?() == true { return Ending(.stopped, "stopped at the user's request") }
      if clock.now >= deadline {
        let message = "\(timeoutName(episode)) ran out before action \(draft.ordinal + 1) of \(draft.count)"
        try record(&episode, draft, error: message)
        return Ending(.failed, "step \(draft.index + 1): \(message)")
      }
    }
    if settings.failSafe, let tripped = FailSafe(margin: settings.failSafeMargin).tripped(
      pointer: try display.pointerPosition(), screen: display.screenRect, agentPointer: episode.agentPointer) {
      try record(&episode, draft, error: tripped)
      return Ending(.stopped, tripped)
    }
    let sends = ActionExecutor.sendsInput(action)
    if sends, !settings.dryRun, let confirm = configuration.confirm, !confirm(action, draft.points) {
      try record(&episode, draft, error: "the user declined the action")
      return Ending(.stopped, "the user declined step \(draft.index + 1)")
    }
    return try execute(&episode, draft, deadline: deadline, screen: &screen)
  }

  /// Records the intent, runs the action (input only outside dry runs) under a watch that stops
  /// it at the deadline or on the fail-safe, settles, looks again, records the outcome.
  private func execute(_ episode: inout EpisodeRun, _ draft: StepDraft, deadline: ContinuousClock.Instant,
                       screen: inout RGBImage) throws -> Ending? {
    guard let action = draft.action else { return nil }
    let settings = configuration.settings
    let display = configuration.display
    let stepID = try configuration.store.beginStep(episode: episode.id, index: draft.index, intent: draft.intent)
    episode.stepsRecorded += 1
    let sends = ActionExecutor.sendsInput(action)
    let sent = sends && !settings.dryRun
    let watch = ActionWatch(display: display, settings: settings, stepDeadline: deadline,
                            episodeDeadline: episode.deadline, agentPointer: episode.agentPointer)
    let t0 = clock.now
    do {
      if !(sends && settings.dryRun) { try ActionExecutor.run(action, points: draft.points, on: display, watch: watch) }
      if sent { episode.agentPointer = try display.pointerPosition() }
    } catch let stop as ActionInterrupted {
      // Part of it ran: keep the screen it left, for the record (best effort).
      let after = try? display.capture(.screen)
      let changed = after.map { $0 != screen }
      try configuration.store.finishStep(stepID, outcome: StepOutcome(
        screenChanged: changed, latencies: ["action": ms(clock.now - t0)], error: stop.message,
        screenshotAfter: after.flatMap { try? PNG.encode($0, compression: .fast) }))
      report(draft, executed: sent, changed: changed, error: stop.message)
      if stop.interruption.cause == .failSafe { return Ending(.stopped, stop.message) }
      return Ending(.failed, "step \(draft.index + 1): \(stop.message)")
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
    let after: RGBImage, afterPNG: Data
    do {
      after = try display.capture(.screen)
      afterPNG = try PNG.encode(after, compression: .fast)
    } catch {
      // The action ran but the screen after it cannot be seen (the X server went away): the
      // step still gets its outcome, so an ended episode has no step left without one.
      let message = "capturing the screen after the action failed: \(describe(error))"
      try configuration.store.finishStep(stepID, outcome: StepOutcome(latencies: latencies, error: message))
      report(draft, executed: sent, changed: nil, error: message)
      return Ending(.failed, "step \(draft.index + 1): \(message)")
    }
    latencies["settle"] = 1000 * settings.settleSeconds
    latencies["capture_after"] = ms(clock.now - t1)
    let changed = after != screen
    screen = after
    var error: String? = nil
    if let expected = draft.expectChange, expected != changed {
      error = "expected the screen \(expected ? "to change" : "not to change"), but it \(changed ? "changed" : "did not")"
    }
    try configuration.store.finishStep(stepID, outcome: StepOutcome(
      screenChanged: changed, latencies: latencies, error: error, screenshotAfter: afterPNG))
    report(draft, executed: sent, changed: changed, error: error)
    // One history entry per action; the response's thought goes with its first.
    episode.history.append(HistoryEntry(thought: draft.ordinal == 0 ? draft.reasoning : nil,
                                        action: JSONActionGrammar.serialize(action),
                                        result: changed ? "the screen changed" : "the screen did not change"))
    episode.feedback = nil
    episode.consecutiveFailures = 0
    if let error { return Ending(.failed, "step \(draft.index + 1): \(error)") }
    return nil
  }

  // MARK: - Failures

  /// Records a step that could not run, remembers why for the planner, and ends the episode
  /// once too many failed in a row. `attempted` is what the history shows as tried (default: the
  /// draft's action, else the raw answer).
  func failed(_ episode: inout EpisodeRun, _ draft: StepDraft, _ message: String, attempted: String? = nil) throws -> Ending? {
    try record(&episode, draft, error: message)
    let tried = attempted ?? draft.action.map { JSONActionGrammar.serialize($0) } ?? draft.output.answer
    episode.history.append(HistoryEntry(thought: draft.reasoning, action: tried, result: message))
    episode.feedback = message
    episode.consecutiveFailures += 1
    episode.failedSteps += 1
    episode.lastFailure = message
    let limit = configuration.settings.maxConsecutiveFailures
    guard episode.consecutiveFailures >= limit else { return nil }
    return Ending(.failed, "\(limit) failed steps in a row; the last: \(message)")
  }

  /// Writes a step whose action did not run: intent and outcome (with `error`) at once.
  func record(_ episode: inout EpisodeRun, _ draft: StepDraft, error: String) throws {
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
}
