import Foundation

// MARK: - Targets

/// An axis-aligned box in the model's coordinate space, as printed by the model.
public struct ModelBox: Codable, Equatable, Sendable {
  public var x1: Double
  public var y1: Double
  public var x2: Double
  public var y2: Double

  public init(x1: Double, y1: Double, x2: Double, y2: Double) {
    self.x1 = x1
    self.y1 = y1
    self.x2 = x2
    self.y2 = y2
  }

  /// The box's center, which is where a pointer action on the box lands.
  public var center: (x: Double, y: Double) { ((x1 + x2) / 2, (y1 + y2) / 2) }
}

/// A point in the model's coordinate space: raw numbers as the model printed them (0-1000 relative
/// for UI-TARS 1.0, resized-image pixels for Qwen2.5-VL style models). Converting them to screen
/// pixels is Grounding's job, not the grammar's.
public struct ModelPoint: Codable, Equatable, Sendable {
  public var x: Double
  public var y: Double
  /// The box the model gave, when it gave one; `x`, `y` are then its center.
  public var box: ModelBox?

  public init(x: Double, y: Double) {
    self.x = x
    self.y = y
    self.box = nil
  }

  /// A point at the center of `box`, keeping the box.
  public init(box: ModelBox) {
    (self.x, self.y) = box.center
    self.box = box
  }
}

/// Where a pointer action lands: a point the model located, a description of a UI element
/// that a grounding model turns into a point later, or the number of an element in the list a
/// screen parser gave the planner (``ScreenParse``), whose centre the loop clicks.
public enum ActionTarget: Equatable, Sendable {
  case point(ModelPoint)
  case element(String)
  /// 1-based, as `ScreenParse.promptLines()` numbers the elements.
  case elementNumber(Int)

  /// A bare point target.
  public static func at(_ x: Double, _ y: Double) -> ActionTarget { .point(ModelPoint(x: x, y: y)) }
}

/// Scroll directions, spelled as in both grammars.
public enum ScrollDirection: String, Codable, Equatable, Sendable, CaseIterable {
  case up, down, left, right
}

// MARK: - Actions

/// One step's action, independent of the grammar the model printed it in.
///
/// The JSON spelling of each case is this type's `Codable` form; see ``JSONActionGrammar`` and
/// docs/actions.md.
public enum AgentAction: Equatable, Sendable {
  case click(ActionTarget)
  case doubleClick(ActionTarget)
  case rightClick(ActionTarget)
  case drag(from: ActionTarget, to: ActionTarget)
  /// Scroll by `amount` wheel clicks; `at == nil` scrolls wherever the pointer is.
  case scroll(at: ActionTarget?, direction: ScrollDirection, amount: Int)
  case type(String)
  /// Keys pressed together, in order (`["ctrl", "s"]`), named as the model names them.
  case hotkey([String])
  case wait(seconds: Double)
  case finished(summary: String)
  case callUser(question: String)

  /// Wheel clicks used when the model names no amount (UI-TARS never does).
  public static let defaultScrollAmount = 5
  /// Seconds waited when the model names no duration (UI-TARS' `wait()` means 5 s).
  public static let defaultWaitSeconds: Double = 5

  /// The action's name in both grammars' canonical spelling (`click`, `double_click`, ...).
  public var name: String {
    switch self {
    case .click: "click"
    case .doubleClick: "double_click"
    case .rightClick: "right_click"
    case .drag: "drag"
    case .scroll: "scroll"
    case .type: "type"
    case .hotkey: "hotkey"
    case .wait: "wait"
    case .finished: "finished"
    case .callUser: "call_user"
    }
  }

  /// The targets this action needs located on screen, in order (drag: from, to).
  public var targets: [ActionTarget] {
    switch self {
    case let .click(t), let .doubleClick(t), let .rightClick(t): [t]
    case let .drag(from, to): [from, to]
    case let .scroll(at, _, _): at.map { [$0] } ?? []
    case .type, .hotkey, .wait, .finished, .callUser: []
    }
  }

  /// Whether the action ends the episode (`finished`, `call_user`).
  public var isTerminal: Bool {
    switch self {
    case .finished, .callUser: true
    default: false
    }
  }
}

// MARK: - Parse results

/// A model response understood: its reasoning sections and the actions it asked for (at least one).
public struct ParsedResponse: Equatable, Sendable {
  /// The `Thought:` section (UI-TARS) or the `"thought"` field (JSON).
  public var thought: String?
  /// UI-TARS' `Reflection:` section.
  public var reflection: String?
  /// UI-TARS' `Action_Summary:` section.
  public var actionSummary: String?
  public var actions: [AgentAction]

  public init(thought: String? = nil, reflection: String? = nil, actionSummary: String? = nil,
              actions: [AgentAction]) {
    self.thought = thought
    self.reflection = reflection
    self.actionSummary = actionSummary
    self.actions = actions
  }
}

/// Why a model response could not be understood. A parse never throws or traps: malformed model
/// output is an ordinary result that the agent loop records and may retry.
public struct ParseFailure: Error, LocalizedError, Equatable, Sendable, CustomStringConvertible {
  public enum Reason: Equatable, Sendable {
    case noActionLine
    case emptyAction
    case unknownAction(String)
    case missingArgument(action: String, argument: String)
    case badArgument(action: String, argument: String, value: String)
    case unbalancedQuote
    case unbalancedParenthesis
    case syntax
    case noJSON
    case badJSON
  }

  public var reason: Reason
  /// A sentence naming what was wrong and, where there is one, the offending text.
  public var message: String

  public init(_ reason: Reason, _ message: String) {
    self.reason = reason
    self.message = message
  }

  public var description: String { message }
  public var errorDescription: String? { message }
}

/// The outcome of parsing one model response.
public typealias ParseResult = Result<ParsedResponse, ParseFailure>
