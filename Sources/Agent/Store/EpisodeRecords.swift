import Foundation
import Imaging

// MARK: - Episodes

/// How an episode ended, or that it is still running.
public enum EpisodeStatus: String, Codable, Sendable, CaseIterable {
  case running, succeeded, failed, stopped
  case maxSteps = "max_steps"
  /// Its process died while it was running (found when a store is opened).
  case interrupted
}

/// One line of an episode listing.
public struct EpisodeSummary: Codable, Equatable, Sendable {
  public var id: Int64
  public var task: String
  public var status: EpisodeStatus
  public var stepCount: Int
  public var started: Date
  public var ended: Date?
}

/// An episode's full record, without its steps.
public struct Episode: Codable, Equatable, Sendable {
  public var id: Int64
  public var task: String
  /// Role -> model name (e.g. `"planner": "ui-tars-1.5-7b"`).
  public var models: [String: String]
  /// The settings as the JSON text the caller's value encoded to; see ``settings(as:)``.
  public var settingsJSON: String
  public var started: Date
  public var ended: Date?
  public var status: EpisodeStatus
  public var pid: Int32
  public var summary: String?
  public var error: String?
  public var stepCount: Int

  /// Decodes the settings into the type they were written from.
  public func settings<T: Decodable>(as type: T.Type) throws -> T {
    do {
      return try JSONDecoder().decode(type, from: Data(settingsJSON.utf8))
    } catch {
      throw AgentError.invalidArgument("episode \(id): settings do not decode as \(type): \(error)")
    }
  }
}

// MARK: - Steps

/// Where the grounded action lands, in screen pixels.
public struct GroundedPoint: Codable, Equatable, Sendable {
  public var x: Double
  public var y: Double
  public init(x: Double, y: Double) { self.x = x; self.y = y }
}

/// Tokens spent on one model call.
public struct TokenCounts: Codable, Equatable, Sendable {
  public var prompt: Int
  public var completion: Int
  public init(prompt: Int, completion: Int) { self.prompt = prompt; self.completion = completion }
}

/// What a step is about to do, written before the action runs so that a crash mid-action
/// still leaves a record of what was attempted.
public struct StepIntent: Equatable, Sendable {
  public var started: Date
  public var reasoning: String?
  /// The model's text exactly as generated.
  public var rawOutput: String
  /// Nil when the output did not parse (the outcome's error says why).
  public var action: AgentAction?
  public var groundedPoint: GroundedPoint?
  /// The region the grounded point was found in (screen pixels), when the target was an
  /// element: a grounding model's region, an OCR match's box, a listed element's box.
  public var groundedBox: PixelRect?
  /// PNG bytes of the screen the model saw.
  public var screenshot: Data?
  public var tokens: TokenCounts?
  /// Stage -> milliseconds for stages done so far (capture, model, grounding).
  public var latencies: [String: Double]

  public init(started: Date = Date(), reasoning: String? = nil, rawOutput: String, action: AgentAction? = nil,
              groundedPoint: GroundedPoint? = nil, groundedBox: PixelRect? = nil, screenshot: Data? = nil,
              tokens: TokenCounts? = nil, latencies: [String: Double] = [:]) {
    self.started = started
    self.reasoning = reasoning
    self.rawOutput = rawOutput
    self.action = action
    self.groundedPoint = groundedPoint
    self.groundedBox = groundedBox
    self.screenshot = screenshot
    self.tokens = tokens
    self.latencies = latencies
  }
}

/// What happened when the step's action ran.
public struct StepOutcome: Equatable, Sendable {
  public var ended: Date
  public var screenChanged: Bool?
  /// Stage -> milliseconds, merged over the intent's (same stage: the outcome's value wins).
  public var latencies: [String: Double]
  public var error: String?
  /// PNG bytes of the screen after the action.
  public var screenshotAfter: Data?

  public init(ended: Date = Date(), screenChanged: Bool? = nil, latencies: [String: Double] = [:],
              error: String? = nil, screenshotAfter: Data? = nil) {
    self.ended = ended
    self.screenChanged = screenChanged
    self.latencies = latencies
    self.error = error
    self.screenshotAfter = screenshotAfter
  }
}

/// One stored step; screenshots are fetched separately with `EpisodeStore.screenshot`.
public struct StepRecord: Codable, Equatable, Sendable {
  public var id: Int64
  public var episodeID: Int64
  public var index: Int
  public var started: Date
  /// Nil when the outcome was never written (the process died during the action).
  public var ended: Date?
  public var reasoning: String?
  public var rawOutput: String
  /// The stored action's JSON form; kept even if this build cannot decode it.
  public var actionJSON: String?
  public var action: AgentAction?
  public var groundedPoint: GroundedPoint?
  /// The region the grounded point was found in; nil for point targets and older stores.
  public var groundedBox: PixelRect?
  public var screenChanged: Bool?
  public var latencies: [String: Double]
  public var tokens: TokenCounts?
  public var error: String?
  public var screenshotBeforeBytes: Int
  public var screenshotAfterBytes: Int
}

/// Which of a step's screenshots.
public enum ScreenshotMoment: String, Codable, Sendable, CaseIterable {
  case before, after
}
