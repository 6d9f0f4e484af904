import CXCB
import Foundation
import Imaging
import Testing

/// The display the X tests run on. They need a real X server: `make test` starts Xvfb; by hand,
/// `Xvfb :57 -noreset -screen 0 1920x1080x24 & DISPLAY=:57 swift test --filter ScreenCaptureTests`.
/// Without `$DISPLAY` the tests fail (they do not skip).
func testDisplayName() throws -> String {
  guard let d = ProcessInfo.processInfo.environment["DISPLAY"], !d.isEmpty else {
    // Thrown, so the test fails with this message.
    throw TestClientError("DISPLAY is not set: run the ScreenCapture tests under Xvfb, e.g. "
      + "`Xvfb :57 -noreset -screen 0 1920x1080x24 &` then `DISPLAY=:57 swift test --filter ScreenCaptureTests`")
  }
  return d
}

struct TestClientError: Error, CustomStringConvertible {
  let description: String
  init(_ d: String) { description = d }
}

/// One input event as the test window received it.
struct ReceivedEvent {
  var type: UInt8
  /// Button number or keycode.
  var detail: UInt8
  var state: UInt16
  var x: Int, y: Int, rootX: Int, rootY: Int
  /// For KeyPress: the keycode's keysyms fetched as soon as the event was read.
  var keysyms: [UInt32] = []
}

// X11 event codes and masks (X11 protocol, "Events" and "Common Types").
enum XEvent {
  static let keyPress: UInt8 = 2, keyRelease: UInt8 = 3, buttonPress: UInt8 = 4, buttonRelease: UInt8 = 5
  static let motionNotify: UInt8 = 6, expose: UInt8 = 12
  static let maskKeyPress: UInt32 = 1, maskKeyRelease: UInt32 = 2, maskButtonPress: UInt32 = 4
  static let maskButtonRelease: UInt32 = 8, maskPointerMotion: UInt32 = 64, maskExposure: UInt32 = 1 << 15
  static let shiftMask: UInt16 = 1, controlMask: UInt16 = 4, button1Mask: UInt16 = 1 << 8
}

/// A plain xcb client of the test process: creates override-redirect windows (no window manager
/// needed), draws into them and reads the events they receive. Independent of the code under test.
final class TestClient {
  let conn: OpaquePointer
  let screen: xcb_screen_t

  init(display: String? = nil) throws {
    let name = try display ?? testDisplayName()
    var n: Int32 = 0
    guard let c = xcb_connect(name, &n), xcb_connection_has_error(c) == 0 else {
      throw TestClientError("cannot connect to \(name)")
    }
    conn = c
    var it = xcb_setup_roots_iterator(xcb_get_setup(c))
    for _ in 0..<n { xcb_screen_next(&it) }
    // A copy is enough here: only fixed fields are read, never the depth lists behind it.
    guard let s = it.data?.pointee else { throw TestClientError("no screen \(n)") }
    screen = s
  }

  /// Disconnecting destroys every window of this client.
  func close() { xcb_disconnect(conn) }

  // MARK: - Windows

  /// Creates and maps an override-redirect window with a black background, waits for its first
  /// Expose (so it is on screen; an off-screen window gets none), and returns its id.
  func window(_ r: PixelRect, events: UInt32 = 0, title: String? = nil, map: Bool = true) throws -> UInt32 {
    let w = xcb_generate_id(conn)
    // Values in bit order of the mask: BACK_PIXEL (2), OVERRIDE_REDIRECT (512), EVENT_MASK (2048).
    let values: [UInt32] = [screen.black_pixel, 1, events | XEvent.maskExposure]
    xcb_create_window(conn, UInt8(XCB_COPY_FROM_PARENT), w, screen.root, Int16(r.x), Int16(r.y),
                      UInt16(r.width), UInt16(r.height), 0, UInt16(XCB_WINDOW_CLASS_INPUT_OUTPUT.rawValue),
                      screen.root_visual, 2 | 512 | 2048, values)
    if let title {
      xcb_change_property(conn, UInt8(XCB_PROP_MODE_REPLACE.rawValue), w, UInt32(XCB_ATOM_WM_NAME.rawValue),
                          UInt32(XCB_ATOM_STRING.rawValue), 8, UInt32(title.utf8.count), title)
    }
    if map {
      xcb_map_window(conn, w)
      xcb_flush(conn)
      let onScreen = r.x < Int(screen.width_in_pixels) && r.y < Int(screen.height_in_pixels)
        && r.x + r.width > 0 && r.y + r.height > 0
      if onScreen { _ = try waitFor(timeout: 5) { $0.type == XEvent.expose } }
    }
    sync()
    return w
  }

  /// Sets `_NET_WM_NAME` (type UTF8_STRING), as toolkits do for titles outside Latin-1.
  func setNetWMName(_ w: UInt32, _ title: String) {
    func atom(_ name: String) -> UInt32 {
      let r = xcb_intern_atom_reply(conn, xcb_intern_atom(conn, 0, UInt16(name.utf8.count), name), nil)
      defer { free(r) }
      return r?.pointee.atom ?? 0
    }
    let bytes = Array(title.utf8)
    xcb_change_property(conn, UInt8(XCB_PROP_MODE_REPLACE.rawValue), w, atom("_NET_WM_NAME"), atom("UTF8_STRING"),
                        8, UInt32(bytes.count), bytes)
    sync()
  }

  func raise(_ w: UInt32) {
    let stackMode: [UInt32] = [0]  // Above
    xcb_configure_window(conn, w, UInt16(XCB_CONFIG_WINDOW_STACK_MODE.rawValue), stackMode)
    sync()
  }

  // MARK: - Drawing (TrueColor, masks 0xff0000 / 0xff00 / 0xff, 32 bpp LSB-first as Xvfb)

  func fill(_ w: UInt32, _ r: PixelRect, _ c: RGB) {
    fill(w, r, pixel: UInt32(c.r) << 16 | UInt32(c.g) << 8 | UInt32(c.b))
  }

  /// Fills with a raw pixel value of the window's visual.
  func fill(_ w: UInt32, _ r: PixelRect, pixel: UInt32) {
    let gc = xcb_generate_id(conn)
    xcb_create_gc(conn, gc, w, UInt32(XCB_GC_FOREGROUND.rawValue), [pixel])
    var rect = xcb_rectangle_t(x: Int16(r.x), y: Int16(r.y), width: UInt16(r.width), height: UInt16(r.height))
    xcb_poly_fill_rectangle(conn, w, gc, 1, &rect)
    xcb_free_gc(conn, gc)
    sync()
  }

  /// PutImage of `image` at (x, y) in ZPixmap: (height, width, 4) bytes B, G, R, 0.
  func put(_ w: UInt32, _ image: RGBImage, x: Int, y: Int) {
    var data = [UInt8](repeating: 0, count: image.width * image.height * 4)
    for i in 0..<(image.width * image.height) {
      data[4 * i] = image.pixels[3 * i + 2]
      data[4 * i + 1] = image.pixels[3 * i + 1]
      data[4 * i + 2] = image.pixels[3 * i]
    }
    let gc = xcb_generate_id(conn)
    xcb_create_gc(conn, gc, w, 0, nil)
    xcb_put_image(conn, UInt8(XCB_IMAGE_FORMAT_Z_PIXMAP.rawValue), w, gc, UInt16(image.width), UInt16(image.height),
                  Int16(x), Int16(y), 0, screen.root_depth, UInt32(data.count), data)
    xcb_free_gc(conn, gc)
    sync()
  }

  // MARK: - Events

  func focus(_ w: UInt32) {
    xcb_set_input_focus(conn, UInt8(XCB_INPUT_FOCUS_POINTER_ROOT.rawValue), w, 0)
    sync()
  }

  func sync() {
    free(xcb_get_input_focus_reply(conn, xcb_get_input_focus(conn), nil))
  }

  /// The next event, or nil after `timeout` seconds. KeyPress events get their keycode's keysyms
  /// fetched at once, while a borrowed mapping is still in place.
  func next(timeout: Double) -> ReceivedEvent? {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      if let e = xcb_poll_for_event(conn) {
        defer { free(e) }
        let type = e.pointee.response_type & 0x7f
        // Key, button and motion events share one layout (xcb_key_press_event_t).
        var ev = UnsafeRawPointer(e).load(as: xcb_key_press_event_t.self)
        if type == XEvent.expose { ev.detail = 0 }
        var out = ReceivedEvent(type: type, detail: ev.detail, state: ev.state, x: Int(ev.event_x), y: Int(ev.event_y),
                                rootX: Int(ev.root_x), rootY: Int(ev.root_y))
        if type == XEvent.keyPress { out.keysyms = keysyms(of: ev.detail) }
        return out
      }
      if xcb_connection_has_error(conn) != 0 { return nil }
      usleep(500)
    }
    return nil
  }

  /// Reads events until one satisfies `done`; returns all read. Throws on timeout.
  func waitFor(timeout: Double, _ done: (ReceivedEvent) -> Bool) throws -> [ReceivedEvent] {
    var seen: [ReceivedEvent] = []
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      guard let e = next(timeout: deadline.timeIntervalSinceNow) else { break }
      seen.append(e)
      if done(e) { return seen }
    }
    throw TestClientError("timed out after \(timeout) s; saw event types \(seen.map(\.type))")
  }

  /// Every event that arrives within `quiet` seconds of the previous one.
  func drain(quiet: Double = 0.3) -> [ReceivedEvent] {
    var seen: [ReceivedEvent] = []
    while let e = next(timeout: quiet) { seen.append(e) }
    return seen
  }

  /// The keysyms the server maps `keycode` to, now.
  func keysyms(of keycode: UInt8) -> [UInt32] {
    guard let r = xcb_get_keyboard_mapping_reply(conn, xcb_get_keyboard_mapping(conn, keycode, 1), nil) else { return [] }
    defer { free(r) }
    let n = Int(xcb_get_keyboard_mapping_keysyms_length(r))
    return xcb_get_keyboard_mapping_keysyms(r).map { Array(UnsafeBufferPointer(start: $0, count: n)) } ?? []
  }

  /// The whole core keyboard mapping (for checking that typing restored it).
  func fullMapping() -> [UInt32] {
    let setup = xcb_get_setup(conn)
    let lo = setup?.pointee.min_keycode ?? 8, hi = setup?.pointee.max_keycode ?? 255
    guard let r = xcb_get_keyboard_mapping_reply(conn, xcb_get_keyboard_mapping(conn, lo, hi - lo + 1), nil) else { return [] }
    defer { free(r) }
    let n = Int(xcb_get_keyboard_mapping_keysyms_length(r))
    return xcb_get_keyboard_mapping_keysyms(r).map { Array(UnsafeBufferPointer(start: $0, count: n)) } ?? []
  }
}

/// The character a KeyPress types, decoded independently of the code under test: Xlib's rule for
/// group 1 (level 2 with Shift; an empty level 2 repeats level 1, upper-cased for letters), then
/// Latin-1 keysyms as code points, Unicode keysyms as 0x01000000 + code point.
func decodeCharacter(keysyms: [UInt32], state: UInt16) -> Character? {
  let l1 = keysyms.first ?? 0
  var l2 = keysyms.count > 1 ? keysyms[1] : 0
  if l2 == 0 { l2 = (0x61...0x7a).contains(l1) ? l1 - 0x20 : l1 }
  let ks = state & XEvent.shiftMask != 0 ? l2 : l1
  let cp: UInt32
  switch ks {
  case 0x20...0x7e, 0xa0...0xff: cp = ks
  case 0x0100_0000...0x0110_ffff: cp = ks - 0x0100_0000
  case 0x20ac: cp = 0x20ac  // EuroSign, the legacy keysym
  default: return nil
  }
  return Unicode.Scalar(cp).map(Character.init)
}

/// Modifier keysyms (Shift_L ... Hyper_R, ISO_Level3_Shift): KeyPresses that type nothing.
func isModifierKeysym(_ ks: UInt32) -> Bool { (0xffe1...0xffee).contains(ks) || ks == 0xfe03 }
