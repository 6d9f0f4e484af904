import Foundation

/// Errors of the ScreenCapture module; each case carries the value that was wrong.
public enum ScreenCaptureError: Error, LocalizedError, Equatable {
  case invalidArgument(String)
  /// The X display could not be opened (unset `$DISPLAY`, no server, refused connection).
  case displayUnavailable(display: String, reason: String)
  /// A required X extension is absent on the display (e.g. XTEST for input).
  case extensionMissing(name: String, display: String)
  /// The server answered a request with an X error.
  case requestFailed(request: String, errorCode: Int)
  /// The connection to the display broke (the X server exited or closed it); every later call
  /// on this `X11Display` fails the same way.
  case connectionLost(display: String, request: String, reason: String)
  /// The server's pixel format cannot be decoded to RGB.
  case unsupportedPixelFormat(String)
  /// A capture region that does not intersect the screen, or lies partly outside it.
  case regionOutsideScreen(region: String, screenWidth: Int, screenHeight: Int)
  case monitorNotFound(String)
  case windowNotFound(String)
  /// The window exists but is not mapped (or an ancestor is unmapped), so nothing of it is on screen.
  case windowNotViewable(window: UInt32, mapState: String)
  /// The window is mapped but lies entirely outside the screen.
  case windowOffScreen(window: UInt32, geometry: String)
  /// A key name that is neither in the keysym table nor a single character nor a `0x` keysym.
  case unknownKey(String)
  /// No spare keycode is free to carry a character that the keymap lacks.
  case noSpareKeycode(character: String)
  /// A shared-memory segment could not be created or attached.
  case sharedMemoryFailed(String)
  /// An input call stopped early because its ``InputInterruption`` check gave `reason`; `done`
  /// says what part ran. What the call held (a button, a borrowed keycode) was given back first.
  case interrupted(reason: String, done: String)

  public var errorDescription: String? {
    switch self {
    case let .invalidArgument(message): message
    case let .displayUnavailable(d, reason): "cannot open X display '\(d)': \(reason)"
    case let .extensionMissing(name, d): "X display '\(d)' lacks the \(name) extension"
    case let .requestFailed(request, code): "X request \(request) failed with X error code \(code)"
    case let .connectionLost(d, request, reason):
      "lost the connection to X display '\(d)' during \(request): \(reason)"
    case let .unsupportedPixelFormat(what): "unsupported X pixel format: \(what)"
    case let .regionOutsideScreen(r, w, h): "region \(r) is not inside the \(w)x\(h) screen"
    case let .monitorNotFound(what): "no monitor \(what)"
    case let .windowNotFound(what): "no window \(what)"
    case let .windowNotViewable(w, state):
      "window 0x\(String(w, radix: 16)) is not viewable (map state: \(state)); map or un-minimize it first"
    case let .windowOffScreen(w, g): "window 0x\(String(w, radix: 16)) at \(g) lies entirely outside the screen"
    case let .unknownKey(name): "unknown key name '\(name)'"
    case let .noSpareKeycode(c): "no spare keycode is free to type '\(c)'"
    case let .sharedMemoryFailed(what): "MIT-SHM: \(what)"
    case let .interrupted(reason, done): "input interrupted after \(done): \(reason)"
    }
  }
}
