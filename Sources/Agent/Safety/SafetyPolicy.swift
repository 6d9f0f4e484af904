import Foundation
import Imaging

// MARK: - Action checks

/// Decides, before anything is sent, whether an action may run: its type must be allowed, a
/// hotkey must not be a denied combination, and its points must lie on the screen.
public struct SafetyPolicy: Sendable {
  /// Allowed action names; nil allows every action.
  public var allowedActions: Set<String>?
  /// Denied combinations, each a set of canonical key names (see ``canonicalKey(_:)``).
  public var deniedCombinations: [Set<String>]

  /// Every action name an allow-list may hold (`AgentAction.name` values).
  public static let actionNames: [String] = ActionKind.allCases.map(\.rawValue)

  /// Regular expressions a typed text must not match (case-insensitive).
  public var deniedTextPatterns: [String]

  public init(allowedActions: [String]?, deniedKeyCombinations: [[String]], deniedTextPatterns: [String] = []) {
    self.allowedActions = allowedActions.map { Set($0.map { $0.lowercased() }) }
    self.deniedCombinations = deniedKeyCombinations.map { Set($0.flatMap(Self.keys)) }
    self.deniedTextPatterns = deniedTextPatterns
  }

  public init(settings: AgentSettings) {
    self.init(allowedActions: settings.allowedActions, deniedKeyCombinations: settings.deniedKeyCombinations,
              deniedTextPatterns: settings.deniedTextPatterns)
  }

  /// The first pattern that does not compile, with the reason, or nil (settings are checked with
  /// it before an episode starts; at a step, a broken pattern refuses every typed text).
  public static func invalidPattern(in patterns: [String]) -> String? {
    patterns.first { regex($0) == nil }.map { "denied text pattern '\($0)' is not a valid regular expression" }
  }

  private static func regex(_ pattern: String) -> NSRegularExpression? {
    try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive])
  }

  private func deniedText(_ text: String) -> String? {
    for p in deniedTextPatterns {
      guard let rx = Self.regex(p) else {
        return "denied text pattern '\(p)' is not a valid regular expression, so no text is typed"
      }
      let range = NSRange(text.startIndex..., in: text)
      if let m = rx.firstMatch(in: text, range: range), let r = Range(m.range, in: text) {
        return "typed text matches the denied pattern '\(p)' (\"\(text[r])\")"
      }
    }
    return nil
  }

  /// Why `action` (whose targets landed at `points`) must not run on `screen`, or nil when it may.
  public func refusal(for action: AgentAction, points: [ScreenPoint], screen: PixelRect) -> String? {
    if let allowed = allowedActions, !allowed.contains(action.name) {
      return "action '\(action.name)' is not in the allow-list (\(allowed.sorted().joined(separator: ", ")))"
    }
    if case let .type(text) = action, let why = deniedText(text) {
      return why
    }
    if case let .hotkey(names) = action {
      let pressed = Set(names.flatMap(Self.keys))
      if let denied = deniedCombinations.first(where: { $0 == pressed }) {
        return "key combination '\(names.joined(separator: "+"))' is denied (\(denied.sorted().joined(separator: "+")))"
      }
    }
    for p in points where !screen.contains(x: p.x, y: p.y) {
      return "point \(p) is outside the screen \(screen)"
    }
    return nil
  }

  /// The canonical names of the keys in one model-given key: `"Ctrl+Alt+Del"` -> ctrl, alt,
  /// delete. Left and right modifiers count as the same key, so denying `ctrl+alt+delete`
  /// also denies `Control_R+Alt_L+Delete`.
  static func keys(_ name: String) -> [String] {
    let parts = name.count > 1 ? name.split(separator: "+").map(String.init) : [name]
    return parts.map(canonicalKey)
  }

  /// One key name, lower-cased, with aliases folded together.
  static func canonicalKey(_ name: String) -> String {
    var k = name.trimmingCharacters(in: .whitespaces).lowercased()
    for suffix in ["_l", "_r"] where k.count > 2 && k.hasSuffix(suffix) { k.removeLast(2) }
    return aliases[k] ?? k
  }

  private static let aliases: [String: String] = [
    "control": "ctrl", "ctl": "ctrl", "del": "delete", "back_space": "backspace", "bksp": "backspace",
    "meta": "super", "win": "super", "windows": "super", "cmd": "super", "command": "super",
    "option": "alt", "return": "enter", "escape": "esc",
    "lctrl": "ctrl", "rctrl": "ctrl", "lalt": "alt", "ralt": "alt", "lshift": "shift", "rshift": "shift",
  ]
}

// MARK: - Fail-safe

/// pyautogui's fail-safe: a person who shoves the pointer into a screen corner wants the agent
/// to stop. Checked before every action and while one runs (each wait slice, each motion step of
/// a drag, between typed keys); a pointer in a corner that the agent put there itself (its last
/// action ended there, or the running drag just moved it there) does not count.
public struct FailSafe: Sendable {
  /// How close to a corner (pixels, each axis) counts as in it.
  public var margin: Int

  public init(margin: Int) { self.margin = max(0, margin) }

  /// The corner `pointer` is in, described, when the fail-safe trips; nil otherwise.
  public func tripped(pointer: ScreenPoint, screen: PixelRect, agentPointer: ScreenPoint?) -> String? {
    guard pointer != agentPointer else { return nil }
    let left = pointer.x <= screen.x + margin, right = pointer.x >= screen.x + screen.width - 1 - margin
    let top = pointer.y <= screen.y + margin, bottom = pointer.y >= screen.y + screen.height - 1 - margin
    guard (left || right) && (top || bottom) else { return nil }
    let corner = (top ? "top" : "bottom") + "-" + (left ? "left" : "right")
    return "fail-safe: the pointer was moved to the \(corner) corner \(pointer); stopping"
  }
}
