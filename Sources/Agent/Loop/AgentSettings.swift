import Foundation
import Imaging

// MARK: - Settings

/// How an episode runs: its limits, its safety rules and the model budget. Stored with each
/// episode (`EpisodeStore.beginEpisode(settings:)`), so every field is `Codable`.
public struct AgentSettings: Codable, Equatable, Sendable {
  /// Steps recorded before the episode ends as `max_steps` (failed parses and refusals count).
  public var maxSteps = 25
  /// Everything but the input events: plan, ground, check, record; the screen is left alone.
  public var dryRun = false
  /// Action names (`click`, `hotkey`, ... as `AgentAction.name`) that may run; nil: all.
  public var allowedActions: [String]? = nil
  /// Key combinations that are refused, each as key names (order and case do not matter).
  public var deniedKeyCombinations: [[String]] = AgentSettings.defaultDeniedKeyCombinations
  /// Regular expressions (case-insensitive) that refuse a `type` action whose text matches one:
  /// destructive shell commands by default, the floor against a model steered by text on the
  /// screen into typing them in a terminal (docs/threat-model.md).
  public var deniedTextPatterns: [String] = AgentSettings.defaultDeniedTextPatterns
  /// Stop when the pointer sits within `failSafeMargin` pixels of a screen corner and the agent
  /// did not put it there (pyautogui's fail-safe).
  public var failSafe = true
  public var failSafeMargin = 3
  /// Pause after each action before the screen is captured again.
  public var settleSeconds = 0.5
  /// Longest a step may take from capture to action; a model still generating is stopped.
  public var stepTimeoutSeconds: Double = 300
  /// Longest the whole episode may take.
  public var episodeTimeoutSeconds: Double = 3600
  /// How many earlier steps (thought, action, result) the planner sees.
  public var historyLength = 5
  /// Consecutive failed steps (unparsable output, no point, refusal) before the episode fails.
  public var maxConsecutiveFailures = 3
  /// Reasoning tokens a thinking planner may spend per step; nil: the planner does not think.
  public var thinkBudget: Int? = nil
  /// Tokens of answer a model planner may generate per step (after the reasoning).
  public var maxAnswerTokens = 160
  /// Restrict a model planner's answer to the JSON action grammar (``ActionSchema``), so that
  /// even a small model always emits a valid action.
  public var constrainedDecoding = false

  /// Combinations that end sessions or reboot machines (X server kill, the reboot salute,
  /// switching away from the X virtual terminal, power and logout keys).
  public static let defaultDeniedKeyCombinations: [[String]] = [
    ["ctrl", "alt", "backspace"], ["ctrl", "alt", "delete"],
    ["ctrl", "alt", "f1"], ["ctrl", "alt", "f2"], ["ctrl", "alt", "f3"], ["ctrl", "alt", "f4"],
    ["ctrl", "alt", "f5"], ["ctrl", "alt", "f6"], ["ctrl", "alt", "f7"],
    ["super", "l"], ["xf86poweroff"], ["xf86logoff"],
  ]

  /// Deleting a home or root folder, making a file system, writing a raw disk, a fork bomb,
  /// piping a download into a shell, powering off.
  public static let defaultDeniedTextPatterns: [String] = [
    #"\brm\s+(-\w+\s+)*-\w*r\w*\s+(-\w+\s+)*["']?(/|/\*|~/?|~/\*|\*|\$HOME/?|\.\.?/?)["']?(\s|$|[;&|])"#,
    #"--no-preserve-root"#,
    #"\bmkfs(\.\w+)?\b"#,
    #"\bdd\b[^\n]*\bof=/dev/"#,
    #">\s*/dev/(sd|nvme|hd|vd)[a-z0-9]*"#,
    #":\(\)\s*\{\s*:\s*\|\s*:\s*&\s*\}\s*;\s*:"#,
    #"\b(curl|wget)\b[^\n|]*\|\s*(sudo\s+)?(ba|z|da|k)?sh\b"#,
    #"(^|[;&|\n]\s*)(sudo\s+)?(shutdown|reboot|poweroff|halt)(\s+(-\S+|now|\+?\d+))*\s*($|[;&|\n])"#,
  ]

  public init() {}
}

// MARK: - Outcome

/// How an episode ended, as the caller (CLI, scenario runner, service) needs it.
public struct EpisodeOutcome: Codable, Equatable, Sendable {
  public var episodeId: Int64
  public var status: EpisodeStatus
  /// Steps recorded.
  public var steps: Int
  /// Why it ended: the finished summary, the limit hit, the refusal, the error.
  public var reason: String

  public init(episodeId: Int64, status: EpisodeStatus, steps: Int, reason: String) {
    self.episodeId = episodeId
    self.status = status
    self.steps = steps
    self.reason = reason
  }
}

/// What one step did, streamed to the caller as soon as the step is recorded.
public struct StepReport: Sendable {
  public var index: Int
  public var reasoning: String?
  public var rawOutput: String
  public var action: AgentAction?
  /// The action's targets located on the screen, in order.
  public var points: [ScreenPoint]
  /// Whether the action's input events were sent (false in dry runs, refusals, failures).
  public var executed: Bool
  public var screenChanged: Bool?
  public var error: String?
}
