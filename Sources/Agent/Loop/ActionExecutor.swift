import Engine
import Foundation
import Imaging
import ScreenCapture

// MARK: - Running an action

/// Sends one grounded action to the X display. `points` are the action's targets located on
/// the screen, in `AgentAction.targets` order.
enum ActionExecutor {
  /// How long a wait sleeps between checks of its watch.
  static let waitSlice = 0.05

  /// Runs `action`; `watch`, when given, may stop a wait, a drag or typing while it runs.
  /// - Throws: ``ActionInterrupted`` when the watch stopped it (a held button was released),
  ///   `ScreenCaptureError` or `AgentError` when it could not be sent.
  static func run(_ action: AgentAction, points: [ScreenPoint], on display: X11Display, watch: ActionWatch? = nil) throws {
    // The watch's answer, kept for the cause: the display only hands back its reason.
    var stopped: Interruption? = nil
    let interruption: InputInterruption? = watch.map { w in
      { put in
        stopped = w.check(pointerWasPutAt: put)
        return stopped?.reason
      }
    }
    do {
      switch action {
      case .click:
        try display.click(at: try point(points, 0, action), button: .left, count: 1)
      case .doubleClick:
        try display.click(at: try point(points, 0, action), button: .left, count: 2)
      case .rightClick:
        try display.click(at: try point(points, 0, action), button: .right, count: 1)
      case .drag:
        try display.drag(from: try point(points, 0, action), to: try point(points, 1, action), interruption: interruption)
      case let .scroll(at, direction, amount):
        guard let d = ScreenCapture.ScrollDirection(rawValue: direction.rawValue) else {
          throw AgentError.invalidArgument("scroll direction '\(direction.rawValue)' has no X button")
        }
        try display.scroll(d, clicks: max(1, amount), at: at == nil ? nil : try point(points, 0, action))
      case let .type(text):
        try display.type(text, interruption: interruption)
      case let .hotkey(keys):
        // Each model key may itself be a combination ("ctrl+s"); X11Display joins with '+'.
        try display.key(keys.map { $0 == "+" ? "plus" : $0 }.joined(separator: "+"))
      case let .wait(seconds):
        try wait(seconds: seconds, watch: watch)
      case .finished, .callUser:
        break
      }
    } catch let ScreenCaptureError.interrupted(reason, done) {
      throw ActionInterrupted(interruption: stopped ?? Interruption(.deadline, reason), action: action.name, done: done)
    }
  }

  /// Whether the action sends input events (a dry run skips exactly these).
  static func sendsInput(_ action: AgentAction) -> Bool {
    switch action {
    case .wait, .finished, .callUser: false
    default: true
    }
  }

  /// Sleeps `seconds` in slices of `waitSlice`, asking `watch` before each (negative and NaN
  /// count as 0).
  static func wait(seconds: Double, watch: ActionWatch?) throws {
    guard seconds > 0, seconds.isFinite else { return }
    let clock = ContinuousClock()
    let start = clock.now
    while true {
      let waited = (clock.now - start).seconds
      guard waited < seconds else { return }
      if let stop = watch?.check(pointerWasPutAt: nil) {
        let done = "\(String(format: "%.2f", waited)) of \(formatSeconds(seconds)) s"
        throw ActionInterrupted(interruption: stop, action: "wait", done: done)
      }
      Thread.sleep(forTimeInterval: min(waitSlice, seconds - waited))
    }
  }

  private static func point(_ points: [ScreenPoint], _ i: Int, _ action: AgentAction) throws -> ScreenPoint {
    guard i < points.count else {
      throw AgentError.invalidArgument("action '\(action.name)' has \(points.count) located targets, needs \(i + 1)")
    }
    return points[i]
  }

  /// `30`, `0.5`: as the model wrote it, without a trailing `.0`.
  private static func formatSeconds(_ s: Double) -> String {
    s == s.rounded() && abs(s) < 1e15 ? String(Int(s)) : String(s)
  }
}

/// Sleeps `seconds` (negative and NaN count as 0).
func sleep(seconds: Double) {
  guard seconds > 0, seconds.isFinite else { return }
  Thread.sleep(forTimeInterval: seconds)
}
