import Engine
import Foundation
import Imaging
import ScreenCapture

// MARK: - One step

extension AgentLoop {
  /// Takes one step (one planner response, whose actions each become a recorded step); returns
  /// how the episode ends when this step ends it.
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
      if episode.failedSteps > 0 {
        return Ending(.failed, "the scripted plan ran to its end with \(episode.failedSteps) step(s) that did not run; "
                      + "the last: \(episode.lastFailure ?? "")")
      }
      return Ending(.succeeded, "the scripted plan ran to its end")
    }
    latencies.merge(output.latencies) { _, new in new }
    var draft = StepDraft(index: index, output: output, screenshot: beforePNG, latencies: latencies)
    // The parse's size, whatever the answer (the planner saw the list).
    if let parse = output.parse { draft.latencies["parse_elements"] = Double(parse.elements.count) }
    if clock.now >= deadline {
      let why = timeoutName(episode)
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
    if draft.reasoning == nil { draft.reasoning = parsed.thought }
    // Nothing after `finished` or `call_user` would run: it is neither located nor checked.
    var actions = parsed.actions
    if let end = actions.firstIndex(where: \.isTerminal) { actions.removeSubrange((end + 1)...) }
    draft.count = actions.count
    // A failure before anything ran concerns the whole response: the history shows all of it.
    let attempted = actions.count > 1 ? JSONActionGrammar.serialize(ParsedResponse(actions: actions)) : nil

    // The store keeps no parse of its own: the element clicked goes with the latencies.
    if output.parse != nil {
      if let n = actions.lazy.flatMap(\.targets).compactMap({ if case let .elementNumber(n) = $0 { n } else { nil } }).first {
        draft.latencies["element_id"] = Double(n)
      }
    }
    // Locate every action's targets on the screenshot the model saw.
    let t0 = clock.now
    var planned: [(action: AgentAction, points: [ScreenPoint], box: PixelRect?)] = []
    for (i, action) in actions.enumerated() {
      switch locate(action, output.pointSpace, parse: output.parse, on: before) {
      case let .failure(f):
        draft.action = action
        draft.latencies["grounding"] = ms(clock.now - t0)
        return try failed(&episode, draft, draft.which(i) + f.message, attempted: attempted)
      case let .success(located):
        planned.append((action, located.points, located.box))
      }
    }
    if actions.contains(where: { $0.targets.contains { if case .element = $0 { true } else { false } } }) {
      draft.latencies["grounding"] = ms(clock.now - t0)
    }
    // Check every action before any runs: a response runs whole or not at all.
    let policy = SafetyPolicy(settings: settings)
    for (i, p) in planned.enumerated() {
      guard let refusal = policy.refusal(for: p.action, points: p.points, screen: display.screenRect) else { continue }
      (draft.action, draft.points) = (p.action, p.points)
      let none = planned.count > 1 ? "; none of the \(planned.count) actions ran" : ""
      return try failed(&episode, draft, "refused: \(draft.which(i))\(refusal)\(none)", attempted: attempted)
    }
    // Run them in order, each recorded as its own step.
    var screen = before
    for (i, p) in planned.enumerated() {
      let one = draft.forAction(i, p.action, p.points, box: p.box, index: episode.stepsRecorded)
      if let ending = try act(&episode, one, deadline: deadline, screen: &screen) { return ending }
    }
    return nil
  }

  /// Names the deadline that has passed: the episode's when it has, else the step's.
  func timeoutName(_ episode: EpisodeRun) -> String {
    let settings = configuration.settings
    return clock.now >= episode.deadline ? "the episode timeout of \(settings.episodeTimeoutSeconds) s"
      : "the step timeout of \(settings.stepTimeoutSeconds) s"
  }
}

// MARK: - Step state

/// A step being assembled before it is recorded: one action of a planner response.
struct StepDraft {
  var index: Int
  let output: PlannerOutput
  let screenshot: Data
  var latencies: [String: Double]
  var reasoning: String?
  var tokens: TokenCounts?
  var action: AgentAction? = nil
  var points: [ScreenPoint] = []
  /// The region the first point was found in, when a locator or the element list gave one.
  var box: PixelRect?
  /// Which of the response's actions this is (0-based), and how many will run.
  var ordinal = 0
  var count = 1

  init(index: Int, output: PlannerOutput, screenshot: Data, latencies: [String: Double]) {
    self.index = index
    self.output = output
    self.screenshot = screenshot
    self.latencies = latencies
    self.reasoning = output.reasoning
    self.tokens = output.tokens
  }

  /// The draft of action `ordinal`, recorded as step `index`: the same output and the screen
  /// the model saw (its points were located there). Tokens and the planning latencies stay
  /// with the first action's record, so that sums over steps count them once.
  func forAction(_ ordinal: Int, _ action: AgentAction, _ points: [ScreenPoint], box: PixelRect?,
                 index: Int) -> StepDraft {
    var d = self
    (d.ordinal, d.action, d.points, d.box, d.index) = (ordinal, action, points, box, index)
    if ordinal > 0 { (d.tokens, d.latencies) = (nil, [:]) }
    return d
  }

  /// `expect_change` concerns the response's last action: the screen after all of them.
  var expectChange: Bool? { ordinal == count - 1 ? output.expectChange : nil }

  /// "action 2 of 3 (type): " in front of a message about one action of several; empty for one.
  func which(_ i: Int) -> String {
    guard count > 1, let action else { return "" }
    return "action \(i + 1) of \(count) (\(action.name)): "
  }

  var intent: StepIntent {
    StepIntent(reasoning: reasoning, rawOutput: output.rawOutput, action: action,
               groundedPoint: points.first.map { GroundedPoint(x: Double($0.x), y: Double($0.y)) }, groundedBox: box,
               screenshot: screenshot, tokens: tokens, latencies: latencies)
  }
}

/// Milliseconds of a duration.
func ms(_ d: Duration) -> Double { d.milliseconds }
