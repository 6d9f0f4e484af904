import Foundation
import Synchronization
import Imaging
import Testing
@testable import ScreenCapture

/// An event-recording window: the test client's own view of what XTest delivered.
private let inputMask = XEvent.maskKeyPress | XEvent.maskKeyRelease | XEvent.maskButtonPress
  | XEvent.maskButtonRelease | XEvent.maskPointerMotion
private let area = PixelRect(x: 300, y: 300, width: 400, height: 300)

/// A test client with its event-recording window at `area`, holding the input focus, and the
/// display under test.
private func inputWindow() throws -> (TestClient, X11Display) {
  let client = try TestClient()
  do {
    let x = try X11Display(display: testDisplayName())
    client.focus(try client.window(area, events: inputMask))
    return (client, x)
  } catch {
    client.close()
    throw error
  }
}

extension XServerTests {
  @Test func clickArrivesAtItsPointWithItsButton() throws {
    let (client, x) = try inputWindow()
    defer { client.close() }

    try x.click(at: ScreenPoint(x: 350, y: 420), button: .right)
    let events = try client.waitFor(timeout: 5) { $0.type == XEvent.buttonRelease }
    let press = try #require(events.first { $0.type == XEvent.buttonPress })
    #expect(press.detail == 3)
    #expect((press.x, press.y) == (50, 120))
    #expect((press.rootX, press.rootY) == (350, 420))
    #expect(events.last?.detail == 3)
    #expect(try x.pointerPosition() == ScreenPoint(x: 350, y: 420))

    try x.click(at: ScreenPoint(x: 301, y: 599), button: .middle)
    try x.click(button: .left, count: 2)
    let more = client.drain().filter { $0.type == XEvent.buttonPress || $0.type == XEvent.buttonRelease }
    #expect(more.map(\.type) == [4, 5, 4, 5, 4, 5])
    #expect(more.map(\.detail) == [2, 2, 1, 1, 1, 1])
    #expect(more.allSatisfy { ($0.x, $0.y) == (1, 299) })
    #expect(throws: ScreenCaptureError.self) { try x.click(at: ScreenPoint(x: -1, y: 10)) }

    try x.click(at: ScreenPoint(x: 400, y: 400), holding: "ctrl+shift")
    let held = client.drain().filter { $0.type == XEvent.buttonPress }
    #expect(held.map { $0.state & (XEvent.shiftMask | XEvent.controlMask) } == [XEvent.shiftMask | XEvent.controlMask])
  }

  @Test func dragPressesMovesAlongThePathAndReleases() throws {
    let (client, x) = try inputWindow()
    defer { client.close() }
    try x.movePointer(to: ScreenPoint(x: 10, y: 10))
    _ = client.drain(quiet: 0.1)

    let path = [ScreenPoint(x: 310, y: 310), ScreenPoint(x: 500, y: 310), ScreenPoint(x: 500, y: 450)]
    try x.drag(along: path, stepPixels: 10, stepDelay: 0.002)
    let events = try client.waitFor(timeout: 5) { $0.type == XEvent.buttonRelease }
    let presses = events.filter { $0.type == XEvent.buttonPress }
    #expect(presses.count == 1)
    #expect(presses.first.map { ($0.rootX, $0.rootY, $0.detail) } ?? (0, 0, 0) == (310, 310, 1))
    #expect(events.last.map { ($0.rootX, $0.rootY) } ?? (0, 0) == (500, 450))
    // Motion between press and release, with button 1 held, on the path, never going back.
    guard let p = events.firstIndex(where: { $0.type == XEvent.buttonPress }) else { return }
    let moves = events[p...].filter { $0.type == XEvent.motionNotify }
    #expect(moves.count >= 30)  // 190 px + 140 px in steps of at most 10
    #expect(moves.allSatisfy { $0.state & XEvent.button1Mask != 0 })
    #expect(moves.allSatisfy { ($0.rootY == 310 && (310...500).contains($0.rootX)) || ($0.rootX == 500 && (310...450).contains($0.rootY)) })
    let progress = moves.map { $0.rootX - 310 + $0.rootY - 310 }
    #expect(progress == progress.sorted())
    #expect(moves.contains { ($0.rootX, $0.rootY) == (500, 310) })
  }

  @Test func scrollClicksButtonsFourToSeven() throws {
    let (client, x) = try inputWindow()
    defer { client.close() }
    try x.scroll(.down, clicks: 3, at: ScreenPoint(x: 400, y: 400))
    try x.scroll(.up, clicks: 2)
    try x.scroll(.left, clicks: 1)
    try x.scroll(.right, clicks: 4)
    let presses = client.drain().filter { $0.type == XEvent.buttonPress }.map(\.detail)
    #expect(presses == [5, 5, 5, 4, 4, 6, 7, 7, 7, 7])

    // Press and release apart, at different points.
    try x.press(.left, at: ScreenPoint(x: 320, y: 330))
    try x.release(.left, at: ScreenPoint(x: 340, y: 360))
    let buttons = client.drain().filter { $0.type == XEvent.buttonPress || $0.type == XEvent.buttonRelease }
    #expect(buttons.map { [Int($0.type), Int($0.detail), $0.x, $0.y] } == [[4, 1, 20, 30], [5, 1, 40, 60]])
  }

  @Test func keyCombinationArrivesWithItsModifiers() throws {
    let (client, x) = try inputWindow()
    defer { client.close() }

    try x.key("ctrl+shift+s")
    let events = try client.waitFor(timeout: 5) { $0.type == XEvent.keyPress && $0.keysyms.first == 0x73 }
    let s = try #require(events.last)
    #expect(s.state & XEvent.shiftMask != 0)
    #expect(s.state & XEvent.controlMask != 0)
    #expect(events.filter { $0.type == XEvent.keyPress }.map { $0.keysyms.first ?? 0 } == [0xffe3, 0xffe1, 0x73])

    try x.key("Return")
    try x.key("alt+F4")
    let later = client.drain().filter { $0.type == XEvent.keyPress }.map { $0.keysyms.first ?? 0 }
    #expect(later == [0xff0d, 0xffe9, 0xffc1])

    // A shifted keysym gets Shift added; a keysym missing from the keymap is borrowed (read
    // while the call runs: the borrowed keycode is given back when it returns).
    let shifted = try keyPresses(client, count: 5, x) { try $0.key("ctrl+A"); try $0.key("super+ü") }
    #expect(shifted.map { $0.keysyms.first ?? 0 } == [0xffe3, 0xffe1, 0x61, 0xffeb, 0xfc])
    #expect(shifted.first { $0.keysyms.first == 0x61 }.map { $0.state & (XEvent.shiftMask | XEvent.controlMask) }
            == XEvent.shiftMask | XEvent.controlMask)

    _ = client.drain(quiet: 0.2)
    #expect(throws: ScreenCaptureError.unknownKey("nosuchkey")) { try x.key("ctrl+nosuchkey") }
    #expect(client.drain(quiet: 0.2).allSatisfy { $0.type != XEvent.keyPress })  // nothing was pressed
  }

  @Test func typedUnicodeTextArrivesAsThoseCharacters() throws {
    let (client, x) = try inputWindow()
    defer { client.close() }
    let before = client.fullMapping()
    let text = "Grüße €5"
    // 8 characters plus the Shift press for G.
    let presses = try keyPresses(client, count: 9, x) { try $0.type(text) }
      .filter { !isModifierKeysym($0.keysyms.first ?? 0) }
    let typed = String(presses.map { decodeCharacter(keysyms: $0.keysyms, state: $0.state) ?? "?" })
    let keycodes = presses.map(\.detail)
    #expect(typed == text)
    // ü, ß and € are not on the default keymap: they came through keycodes that were empty.
    let perKeycode = before.count / 248  // keycodes 8...255
    let borrowed = Set(keycodes.filter { kc in
      let row = before[(Int(kc) - 8) * perKeycode..<(Int(kc) - 7) * perKeycode]
      return row.allSatisfy { $0 == 0 }
    })
    #expect(borrowed.count == 3)
    // The borrowed keycodes are given back once the call returns.
    #expect(client.fullMapping() == before)
  }
}

/// Runs `action` on another thread with a 30 ms key delay while this thread reads KeyPress events
/// and each keycode's mapping as they arrive (borrowed keycodes are still mapped then); returns
/// after `count` presses and the end of `action`.
private func keyPresses(_ client: TestClient, count: Int, _ x: X11Display,
                        _ action: @escaping @Sendable (X11Display) throws -> Void) throws -> [ReceivedEvent] {
  let failure = Mutex<String?>(nil)
  x.keyDelay = 0.03
  defer { x.keyDelay = 0.012 }
  let worker = Thread {
    do { try action(x) } catch { failure.withLock { $0 = "\(error)" } }
  }
  worker.start()
  var presses: [ReceivedEvent] = []
  let deadline = Date().addingTimeInterval(20)
  while presses.count < count, Date() < deadline, let e = client.next(timeout: 5) {
    if e.type == XEvent.keyPress { presses.append(e) }
  }
  while !worker.isFinished { usleep(1000) }
  if let f = failure.withLock({ $0 }) { throw TestClientError("input call failed: \(f)") }
  return presses
}

extension XServerTests {
  /// More distinct missing characters than there are spare keycodes: typed in batches, each
  /// borrowing and giving back the spares.
  @Test func typingMoreMissingCharactersThanSpareKeycodes() throws {
    let (client, x) = try inputWindow()
    defer { client.close() }
    let before = client.fullMapping()
    let spares = try x.keyboardMapping().spareKeycodes().count
    #expect(spares > 0)
    // CJK ideographs from U+4E00: none is on a keymap.
    let text = String(String.UnicodeScalarView((0..<(spares + 5)).compactMap { Unicode.Scalar(0x4e00 + $0) }))
    let presses = try keyPresses(client, count: text.unicodeScalars.count, x) { try $0.type(text) }
    #expect(String(presses.map { decodeCharacter(keysyms: $0.keysyms, state: $0.state) ?? "?" }) == text)
    #expect(client.fullMapping() == before)
  }
}
