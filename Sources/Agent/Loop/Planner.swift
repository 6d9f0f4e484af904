import Foundation
import Grounding
import Imaging

// MARK: - What a planner sees

/// One earlier step as the planner is reminded of it.
public struct HistoryEntry: Sendable, Equatable {
  public var thought: String?
  /// The action in the JSON action form, or the raw output when it did not parse.
  public var action: String
  /// What came of it: "the screen changed", "the screen did not change", or the error.
  public var result: String

  public init(thought: String?, action: String, result: String) {
    self.thought = thought
    self.action = action
    self.result = result
  }
}

/// Everything a planner gets for one step.
public struct PlannerContext: Sendable {
  public var task: String
  /// The step about to be taken (0-based).
  public var stepIndex: Int
  /// The last `AgentSettings.historyLength` steps, oldest first.
  public var history: [HistoryEntry]
  /// The screen now (the whole root window; its top-left is screen pixel (0, 0)).
  public var screenshot: RGBImage
  /// Why the previous attempt failed (an unparsable answer, an element not found, a refusal),
  /// for the planner to correct; nil after a step that worked.
  public var feedback: String?
  /// When the step's time is up; a model planner stops generating then.
  public var deadline: ContinuousClock.Instant
  /// The reasoning budget per step (`AgentSettings.thinkBudget`) and the answer budget.
  public var thinkBudget: Int?
  public var maxAnswerTokens: Int
  /// Whether the answer is to be restricted to the JSON action grammar.
  public var constrained: Bool = false
}

/// How the numbers of a point target in a planner's output map to the screen.
public enum PointSpace: Sendable {
  /// Already screen pixels (scripted plans, text planners told the screen size).
  case screen
  /// The model's own convention; the closure maps a printed point to a screen pixel.
  case model(@Sendable (ModelPoint) throws -> ScreenPoint)
}

/// What a planner answered for one step. The loop parses `answer` with
/// `ActionGrammar.parseAny`, so a malformed answer is an ordinary, recorded result.
public struct PlannerOutput: Sendable {
  /// The text exactly as generated (reasoning included).
  public var rawOutput: String
  /// The part that holds the action (after any reasoning block).
  public var answer: String
  /// The reasoning block of a thinking model; nil when there was none.
  public var reasoning: String?
  public var tokens: TokenCounts?
  /// Stage -> milliseconds (e.g. "model").
  public var latencies: [String: Double]
  public var pointSpace: PointSpace
  /// A scripted step's expectation about the screen (see ``ScriptedStep/expectChange``).
  public var expectChange: Bool?
  /// The element list the planner was shown; `{"element_id": N}` targets are its elements.
  public var parse: ScreenParse?

  public init(rawOutput: String, answer: String? = nil, reasoning: String? = nil, tokens: TokenCounts? = nil,
              latencies: [String: Double] = [:], pointSpace: PointSpace = .screen, expectChange: Bool? = nil,
              parse: ScreenParse? = nil) {
    self.rawOutput = rawOutput
    self.answer = answer ?? rawOutput
    self.reasoning = reasoning
    self.tokens = tokens
    self.latencies = latencies
    self.pointSpace = pointSpace
    self.expectChange = expectChange
    self.parse = parse
  }
}

// MARK: - Planners

/// Decides the next action from the task, the history and the screen.
///
/// Called once per step, from the loop's thread. Returning nil means the planner has nothing
/// more to do (a scripted plan ran out); the episode then ends as succeeded.
public protocol ActionPlanner: AnyObject {
  /// A short name for the episode record (`"scripted"`, a model path).
  var name: String { get }
  /// The SHA-256 of the model's weights (`LoadedModel.weightsDigest`), nil without a model.
  var weightsDigest: String? { get }
  func next(_ context: PlannerContext) throws -> PlannerOutput?
}

extension ActionPlanner {
  public var weightsDigest: String? { nil }
}

/// Plays a ``ScriptedPlan`` one step per call; its points are screen pixels.
public final class ScriptedPlanner: ActionPlanner {
  public let plan: ScriptedPlan
  private var position = 0
  public var name: String { "scripted" }

  public init(plan: ScriptedPlan) { self.plan = plan }

  public func next(_ context: PlannerContext) throws -> PlannerOutput? {
    guard position < plan.steps.count else { return nil }
    let step = plan.steps[position]
    position += 1
    let text = JSONActionGrammar.serialize(step.action)
    return PlannerOutput(rawOutput: text, pointSpace: .screen, expectChange: step.expectChange)
  }
}

// MARK: - Locating elements

/// Where a locator found an element description, in screen pixels.
public struct Located: Sendable, Equatable {
  /// The click point; nil when the description could not be located (`why` says why).
  public var point: ScreenPoint?
  /// The region the element was found in (a pointer-head region, an OCR match's box, a
  /// widget's rectangle), when the locator knows one.
  public var box: PixelRect?
  public var why: String?
  public var milliseconds: Double

  public init(point: ScreenPoint?, box: PixelRect? = nil, why: String? = nil, milliseconds: Double) {
    self.point = point; self.box = box; self.why = why; self.milliseconds = milliseconds
  }

  /// Not located, for the reason `why`.
  public static func notFound(_ why: String, milliseconds: Double = 0) -> Located {
    Located(point: nil, why: why, milliseconds: milliseconds)
  }
}

/// Turns an element description (`"the Save button"`) into a screen point and its region.
public protocol ElementLocator: AnyObject {
  var name: String { get }
  /// The SHA-256 of the model's weights (`LoadedModel.weightsDigest`), nil without a model.
  var weightsDigest: String? { get }
  /// The point and region, or no point with the reason when the description could not be located.
  func locate(_ description: String, in screenshot: RGBImage) throws -> Located
}

extension ElementLocator {
  public var weightsDigest: String? { nil }
}
