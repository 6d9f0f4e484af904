import Imaging
import CXCB
import Foundation


/// A pointer button, numbered as X numbers them.
public enum MouseButton: UInt8, Sendable, CaseIterable {
  case left = 1, middle = 2, right = 3
}

/// A scroll direction; X delivers scrolling as clicks of buttons 4 (up), 5 (down), 6 (left), 7 (right).
public enum ScrollDirection: String, Sendable, CaseIterable {
  case up, down, left, right

  public var button: UInt8 {
    switch self {
    case .up: 4
    case .down: 5
    case .left: 6
    case .right: 7
    }
  }
}

/// Asked between the steps of a long input call (each motion step of a drag, each key of typed
/// text) with the point where the call last put the pointer (nil when it has not moved it); a
/// reason means "stop now". The call then releases what it holds, gives back a borrowed keymap
/// and throws `ScreenCaptureError.interrupted`. It runs on the calling thread while the display
/// is locked for the call, so it may itself call the display (e.g. `pointerPosition()`).
public typealias InputInterruption = (_ pointerWasPutAt: ScreenPoint?) -> String?

// XTest FakeInput event types (X11 core event codes).
private let keyPress: UInt8 = 2, keyRelease: UInt8 = 3, buttonPress: UInt8 = 4, buttonRelease: UInt8 = 5
private let motionNotify: UInt8 = 6

extension X11Display {
  // MARK: - Settings

  /// Pause after each synthesized key or button event, in seconds (default 0.012, as xdotool).
  /// Half of it follows each press, half each release; applications that read events slowly
  /// need more.
  public var keyDelay: Double {
    get { locked { keyDelaySeconds } }
    set { locked { keyDelaySeconds = max(0, newValue) } }
  }

  // MARK: - Pointer

  /// The pointer position in root coordinates (QueryPointer).
  public func pointerPosition() throws(ScreenCaptureError) -> ScreenPoint {
    try locked { () throws(ScreenCaptureError) -> ScreenPoint in
      let cookie = xcb_query_pointer(connection, root)
      return try withReply("QueryPointer", { xcb_query_pointer_reply(connection, cookie, $0) }) {
        ScreenPoint(x: Int($0.pointee.root_x), y: Int($0.pointee.root_y))
      }
    }
  }

  /// Moves the pointer to `p` (absolute, root coordinates).
  public func movePointer(to p: ScreenPoint) throws(ScreenCaptureError) {
    try inputCall { () throws(ScreenCaptureError) in try motion(to: p) }
  }

  /// Clicks `button` `count` times (2 = double click) at `p`, or where the pointer is when nil,
  /// optionally holding a key combination such as `"ctrl"` or `"ctrl+shift"` (see `key(_:)`).
  public func click(at p: ScreenPoint? = nil, button: MouseButton = .left, count: Int = 1,
                    holding modifiers: String? = nil) throws(ScreenCaptureError) {
    guard (1...10).contains(count) else { throw .invalidArgument("click count \(count) is not in 1...10") }
    try inputCall { () throws(ScreenCaptureError) in
      if let p { try motion(to: p) }
      let clicks = { () throws(ScreenCaptureError) in for _ in 0..<count { self.tapButton(button.rawValue) } }
      if let modifiers { try holding(modifiers, clicks) } else { try clicks() }
    }
  }

  /// Presses `button` (and keeps it down) at `p`, or where the pointer is when nil.
  public func press(_ button: MouseButton, at p: ScreenPoint? = nil) throws(ScreenCaptureError) {
    try inputCall { () throws(ScreenCaptureError) in
      if let p { try motion(to: p) }
      fake(buttonPress, button.rawValue)
      pause()
    }
  }

  /// Releases `button` at `p`, or where the pointer is when nil.
  public func release(_ button: MouseButton, at p: ScreenPoint? = nil) throws(ScreenCaptureError) {
    try inputCall { () throws(ScreenCaptureError) in
      if let p { try motion(to: p) }
      fake(buttonRelease, button.rawValue)
      pause()
    }
  }

  /// Drags along `path`: press at the first point, move through every point in steps of at most
  /// `stepPixels` with `stepDelay` seconds between steps, release at the last point.
  ///
  /// `interruption` is asked after each motion step but the last, with the point the step put
  /// the pointer at; when it gives a reason the button is released where the pointer is and the
  /// call throws `interrupted` naming the reason and the steps done.
  public func drag(along path: [ScreenPoint], button: MouseButton = .left, stepPixels: Int = 10,
                   stepDelay: Double = 0.01, interruption: InputInterruption? = nil) throws(ScreenCaptureError) {
    guard path.count >= 2 else { throw .invalidArgument("a drag path needs at least 2 points, got \(path.count)") }
    guard stepPixels > 0 else { throw .invalidArgument("drag step of \(stepPixels) pixels") }
    try inputCall { () throws(ScreenCaptureError) in
      for p in path { try checkOnScreen(p) }
      let legs = zip(path, path.dropFirst()).map { a, b in
        (a, b, max(1, (max(abs(b.x - a.x), abs(b.y - a.y)) + stepPixels - 1) / stepPixels))
      }
      let total = legs.reduce(0) { $0 + $1.2 }
      var done = 0
      try motion(to: path[0])
      fake(buttonPress, button.rawValue)
      pause()
      for (a, b, steps) in legs {
        for i in 1...steps {
          // Linear interpolation, rounded to the nearest pixel; the last step lands exactly on b.
          let x = a.x + Int((Double((b.x - a.x) * i) / Double(steps)).rounded())
          let y = a.y + Int((Double((b.y - a.y) * i) / Double(steps)).rounded())
          let p = ScreenPoint(x: x, y: y)
          try motion(to: p)
          xcb_flush(connection)
          if stepDelay > 0 { usleep(UInt32(stepDelay * 1_000_000)) }
          done += 1
          if done < total, let reason = interruption?(p) {
            fake(buttonRelease, button.rawValue)
            pause()
            try? sync()
            throw .interrupted(reason: reason, done: "\(done) of \(total) motion steps of the drag (button \(button.rawValue) released)")
          }
        }
      }
      fake(buttonRelease, button.rawValue)
      pause()
    }
  }

  /// Drags from `start` to `end` in a straight line (see `drag(along:)`).
  public func drag(from start: ScreenPoint, to end: ScreenPoint, button: MouseButton = .left,
                   interruption: InputInterruption? = nil) throws(ScreenCaptureError) {
    try drag(along: [start, end], button: button, interruption: interruption)
  }

  /// Scrolls `clicks` notches in `direction` at `p`, or where the pointer is when nil.
  public func scroll(_ direction: ScrollDirection, clicks: Int = 1, at p: ScreenPoint? = nil) throws(ScreenCaptureError) {
    guard (1...1000).contains(clicks) else { throw .invalidArgument("scroll amount \(clicks) is not in 1...1000") }
    try inputCall { () throws(ScreenCaptureError) in
      if let p { try motion(to: p) }
      for _ in 0..<clicks { tapButton(direction.button) }
    }
  }

  // MARK: - Keys

  /// Presses a key combination such as `"ctrl+shift+s"`, `"alt+F4"`, `"Return"`, `"super"`:
  /// keys are pressed in order and released in reverse. Names are resolved by
  /// `Keysyms.keysym(named:)` against the live keyboard mapping; a key at the shifted level gets
  /// Shift added; a keysym the keymap lacks is carried by a borrowed spare keycode.
  ///
  /// - Throws: `unknownKey` naming the first unknown name, before anything is pressed.
  public func key(_ combination: String) throws(ScreenCaptureError) {
    try inputCall { () throws(ScreenCaptureError) in try holding(combination) {} }
  }

  /// Presses the keys of `combination` in order, runs `body`, releases them in reverse; the
  /// names are all resolved before anything is pressed.
  private func holding(_ combination: String, _ body: () throws(ScreenCaptureError) -> Void) throws(ScreenCaptureError) {
    let names = Self.splitCombination(combination)
    guard !names.isEmpty else { throw .unknownKey(combination) }
    var keysyms: [UInt32] = []
    for n in names { keysyms.append(try Keysyms.keysym(named: n)) }
    var keys = KeyAssignment(mapping: try keyboardMapping())
    var codes: [UInt8] = []
    for (ks, keyName) in zip(keysyms, names) {
      let (kc, shifted) = try keys.resolve(ks, character: keyName)
      if shifted, let shift = keys.shiftKeycode, !codes.contains(shift) { codes.append(shift) }
      codes.append(kc)
    }
    try keys.install(on: self)
    defer { keys.restore(on: self) }
    for kc in codes { fake(keyPress, kc); pause() }
    defer { for kc in codes.reversed() { fake(keyRelease, kc); pause() } }
    try body()
  }

  /// `"ctrl+plus"` -> ["ctrl", "plus"]; a `+` key is written `plus` or as a trailing `+`
  /// (`"ctrl++"`, `"+"`).
  static func splitCombination(_ combination: String) -> [String] {
    var parts = combination.split(separator: "+").map { $0.trimmingCharacters(in: .whitespaces) }
    if combination.hasSuffix("+"), combination == "+" || combination.hasSuffix("++") { parts.append("+") }
    return parts.filter { !$0.isEmpty }
  }

  // MARK: - Event primitives

  /// Checks for XTEST, runs `body`, then syncs so the server has processed every event.
  func inputCall(_ body: () throws(ScreenCaptureError) -> Void) throws(ScreenCaptureError) {
    try locked { () throws(ScreenCaptureError) in
      guard hasExtension(cxcb_test_id()) else { throw .extensionMissing(name: "XTEST", display: name) }
      try body()
      try sync()
    }
  }

  func checkOnScreen(_ p: ScreenPoint) throws(ScreenCaptureError) {
    guard p.x >= 0, p.y >= 0, p.x < screenWidth, p.y < screenHeight else {
      throw .invalidArgument("point \(p) is outside the \(screenWidth)x\(screenHeight) screen")
    }
  }

  /// Absolute pointer motion (FakeInput MotionNotify with detail 0 = absolute, on our root).
  private func motion(to p: ScreenPoint) throws(ScreenCaptureError) {
    try checkOnScreen(p)
    xcb_test_fake_input(connection, motionNotify, 0, 0, root, Int16(p.x), Int16(p.y), 0)
  }

  func fake(_ type: UInt8, _ detail: UInt8) {
    xcb_test_fake_input(connection, type, detail, 0, 0, 0, 0, 0)
  }

  private func tapButton(_ button: UInt8) {
    fake(buttonPress, button); pause()
    fake(buttonRelease, button); pause()
  }

  /// Press + release of a keycode, with Shift around it when `shifted`.
  func tapKey(_ keycode: UInt8, shift: UInt8?) {
    if let shift { fake(keyPress, shift) }
    fake(keyPress, keycode); pause()
    fake(keyRelease, keycode)
    if let shift { fake(keyRelease, shift) }
    pause()
  }

  /// Flushes, then waits half the key delay: the server sees each event before the pause.
  func pause() {
    xcb_flush(connection)
    if keyDelaySeconds > 0 { usleep(UInt32(keyDelaySeconds * 500_000)) }
  }
}
