import Foundation
import Imaging
import ScreenCapture

// MARK: - Running an action

/// Sends one grounded action to the X display. `points` are the action's targets located on
/// the screen, in `AgentAction.targets` order.
enum ActionExecutor {
  static func run(_ action: AgentAction, points: [ScreenPoint], on display: X11Display) throws {
    switch action {
    case .click:
      try display.click(at: try point(points, 0, action), button: .left, count: 1)
    case .doubleClick:
      try display.click(at: try point(points, 0, action), button: .left, count: 2)
    case .rightClick:
      try display.click(at: try point(points, 0, action), button: .right, count: 1)
    case .drag:
      try display.drag(from: try point(points, 0, action), to: try point(points, 1, action))
    case let .scroll(at, direction, amount):
      guard let d = ScreenCapture.ScrollDirection(rawValue: direction.rawValue) else {
        throw AgentError.invalidArgument("scroll direction '\(direction.rawValue)' has no X button")
      }
      try display.scroll(d, clicks: max(1, amount), at: at == nil ? nil : try point(points, 0, action))
    case let .type(text):
      try display.type(text)
    case let .hotkey(keys):
      // Each model key may itself be a combination ("ctrl+s"); X11Display joins with '+'.
      try display.key(keys.map { $0 == "+" ? "plus" : $0 }.joined(separator: "+"))
    case let .wait(seconds):
      sleep(seconds: seconds)
    case .finished, .callUser:
      break
    }
  }

  /// Whether the action sends input events (a dry run skips exactly these).
  static func sendsInput(_ action: AgentAction) -> Bool {
    switch action {
    case .wait, .finished, .callUser: false
    default: true
    }
  }

  private static func point(_ points: [ScreenPoint], _ i: Int, _ action: AgentAction) throws -> ScreenPoint {
    guard i < points.count else {
      throw AgentError.invalidArgument("action '\(action.name)' has \(points.count) located targets, needs \(i + 1)")
    }
    return points[i]
  }
}

/// Sleeps `seconds` (negative and NaN count as 0).
func sleep(seconds: Double) {
  guard seconds > 0, seconds.isFinite else { return }
  Thread.sleep(forTimeInterval: seconds)
}
