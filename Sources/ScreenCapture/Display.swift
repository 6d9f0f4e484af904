import CXCB
import Foundation
import Imaging

/// A connection to one X11 display and its default screen: capture, monitors, windows and input.
///
/// One instance owns one xcb connection plus the state that is worth keeping between calls
/// (the MIT-SHM segment, the keyboard mapping). All public methods are serialized by a lock, so an
/// instance may be shared between threads; calls on one instance do not run concurrently.
///
/// When the X server goes away, calls throw `ScreenCaptureError.connectionLost`; but libxcb's
/// first write to the dead socket raises SIGPIPE, so a program using this must ignore SIGPIPE
/// (`signal(SIGPIPE, SIG_IGN)`, as `gui-agent` does at start-up) or be killed by it.
public final class X11Display: @unchecked Sendable {
  /// The display name that was opened (e.g. `:0`), as given or read from `$DISPLAY`.
  public let name: String
  /// Root window size in pixels.
  public let screenWidth: Int, screenHeight: Int
  /// Root window id.
  public let root: UInt32

  let connection: OpaquePointer
  let pixelFormat: PixelFormat
  let minKeycode: UInt8, maxKeycode: UInt8
  let lock = NSRecursiveLock()
  // Capture state: the shared segment is kept and grown on demand (Capture.swift).
  var shm: SharedSegment?
  var shmDisabledReason: String?
  var atoms: [String: UInt32] = [:]
  /// Pause between input events (seconds); see `keyDelay`.
  var keyDelaySeconds: Double = 0.012

  // MARK: - Opening

  /// Opens `display` (e.g. `":0"`, `"host:1.0"`), or `$DISPLAY` when nil.
  ///
  /// - Throws: `ScreenCaptureError.displayUnavailable` naming the display when it is unset,
  ///   malformed or unreachable.
  public init(display: String? = nil) throws(ScreenCaptureError) {
    let envName = ProcessInfo.processInfo.environment["DISPLAY"]
    guard let name = display ?? envName, !name.isEmpty else {
      throw .displayUnavailable(display: "(unset)", reason: "no display name given and $DISPLAY is not set")
    }
    var screenNumber: Int32 = 0
    guard let conn = xcb_connect(name, &screenNumber) else {
      throw .displayUnavailable(display: name, reason: "xcb_connect returned no connection")
    }
    let status = xcb_connection_has_error(conn)
    if status != 0 {
      xcb_disconnect(conn)
      throw .displayUnavailable(display: name, reason: Self.describeConnectionError(status))
    }
    guard let setup = xcb_get_setup(conn), let screen = Self.screen(setup, number: Int(screenNumber)) else {
      xcb_disconnect(conn)
      throw .displayUnavailable(display: name, reason: "screen \(screenNumber) does not exist")
    }
    let format: PixelFormat
    do {
      format = try PixelFormat(setup: setup, screen: screen)
    } catch {
      xcb_disconnect(conn)
      throw error
    }
    self.name = name
    self.connection = conn
    self.root = screen.pointee.root
    self.screenWidth = Int(screen.pointee.width_in_pixels)
    self.screenHeight = Int(screen.pointee.height_in_pixels)
    self.pixelFormat = format
    self.minKeycode = setup.pointee.min_keycode
    self.maxKeycode = setup.pointee.max_keycode
  }

  deinit {
    if let shm { shm.release(connection) }
    xcb_disconnect(connection)
  }

  /// A pointer into the setup data: the screen's depth and visual lists follow it in memory.
  private static func screen(_ setup: UnsafePointer<xcb_setup_t>, number: Int) -> UnsafeMutablePointer<xcb_screen_t>? {
    var it = xcb_setup_roots_iterator(setup)
    var i = 0
    while it.rem > 0 {
      if i == number { return it.data }
      xcb_screen_next(&it)
      i += 1
    }
    return nil
  }

  private static func describeConnectionError(_ code: Int32) -> String {
    switch code {
    case 1: "connection failed (is an X server running there, and may this user connect?)"
    case 2: "a required extension is not supported"
    case 3: "out of memory"
    case 4: "request length exceeded"
    case 5: "the display name could not be parsed"
    case 6: "the server has no screen matching the display name"
    default: "connection error \(code)"
    }
  }

  // MARK: - Requests and replies

  /// Runs `body` holding the instance lock (recursive: public methods call each other).
  func locked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
    lock.lock()
    defer { lock.unlock() }
    return try body()
  }

  /// Waits for a reply, turning an X error into `requestFailed(name)` and a broken connection
  /// into `connectionLost`.
  /// `body` sees the reply, which is freed afterwards.
  func withReply<R, T>(
    _ request: String,
    _ get: (UnsafeMutablePointer<UnsafeMutablePointer<xcb_generic_error_t>?>) -> UnsafeMutablePointer<R>?,
    _ body: (UnsafeMutablePointer<R>) throws(ScreenCaptureError) -> T
  ) throws(ScreenCaptureError) -> T {
    var error: UnsafeMutablePointer<xcb_generic_error_t>?
    let reply = get(&error)
    if let error {
      let code = Int(error.pointee.error_code)
      free(error)
      free(reply)
      throw .requestFailed(request: request, errorCode: code)
    }
    guard let reply else {
      let status = xcb_connection_has_error(connection)
      guard status == 0 else {
        // XCB_CONN_ERROR on a connection that worked: the socket broke under it.
        let reason = status == 1 ? "the X server exited or closed the connection" : Self.describeConnectionError(status)
        throw .connectionLost(display: name, request: request, reason: reason)
      }
      throw .requestFailed(request: request, errorCode: -1)
    }
    defer { free(reply) }
    return try body(reply)
  }

  /// Checks a request sent with its `_checked` variant.
  func check(_ request: String, _ cookie: xcb_void_cookie_t) throws(ScreenCaptureError) {
    if let error = xcb_request_check(connection, cookie) {
      let code = Int(error.pointee.error_code)
      free(error)
      throw .requestFailed(request: request, errorCode: code)
    }
  }

  /// Flushes and waits for a GetInputFocus round trip: every request sent before has been
  /// processed by the server (and the events it generated have been queued to their clients).
  func sync() throws(ScreenCaptureError) {
    let cookie = xcb_get_input_focus(connection)
    try withReply("GetInputFocus", { xcb_get_input_focus_reply(connection, cookie, $0) }) { _ in }
  }

  /// True when the server reports extension `id` (already cached by xcb after the first call).
  func hasExtension(_ id: OpaquePointer) -> Bool {
    guard let data = xcb_get_extension_data(connection, id) else { return false }
    return data.pointee.present != 0
  }

  /// Interns an atom by name (`onlyIfExists` false: the atom is created if needed); cached.
  func atom(_ atomName: String) throws(ScreenCaptureError) -> UInt32 {
    if let known = atoms[atomName] { return known }
    let cookie = xcb_intern_atom(connection, 0, UInt16(atomName.utf8.count), atomName)
    let value = try withReply("InternAtom(\(atomName))", { xcb_intern_atom_reply(connection, cookie, $0) }) {
      $0.pointee.atom
    }
    atoms[atomName] = value
    return value
  }

  /// The whole screen as a rectangle in root coordinates.
  public var screenRect: PixelRect { PixelRect(x: 0, y: 0, width: screenWidth, height: screenHeight) }
}
