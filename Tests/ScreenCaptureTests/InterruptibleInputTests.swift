import CXCB
import Foundation
import Imaging
import Testing
@testable import ScreenCapture

/// An event-recording window at `inputArea`, holding the focus, and the display under test.
private let inputArea = PixelRect(x: 300, y: 300, width: 400, height: 300)

private func recordingWindow() throws -> (TestClient, X11Display) {
  let client = try TestClient()
  do {
    let x = try X11Display(display: testDisplayName())
    let mask = XEvent.maskKeyPress | XEvent.maskKeyRelease | XEvent.maskButtonPress | XEvent.maskButtonRelease
      | XEvent.maskPointerMotion
    client.focus(try client.window(inputArea, events: mask))
    return (client, x)
  } catch {
    client.close()
    throw error
  }
}

/// The pointer's button and modifier state as the server holds it now (QueryPointer's mask).
private func pointerState(_ client: TestClient) throws -> UInt16 {
  guard let r = xcb_query_pointer_reply(client.conn, xcb_query_pointer(client.conn, client.screen.root), nil) else {
    throw TestClientError("QueryPointer failed")
  }
  defer { free(r) }
  return r.pointee.mask
}

/// The keycodes the server holds down now (QueryKeymap: a 256-bit vector).
private func keysDown(_ client: TestClient) throws -> [Int] {
  guard let r = xcb_query_keymap_reply(client.conn, xcb_query_keymap(client.conn), nil) else {
    throw TestClientError("QueryKeymap failed")
  }
  defer { free(r) }
  let bits = withUnsafeBytes(of: r.pointee.keys) { Array($0) }
  return (0..<256).filter { bits[$0 / 8] & (1 << ($0 % 8)) != 0 }
}

extension XServerTests {
  @Test func aDragStoppedByItsCheckReleasesTheButtonWhereItStopped() throws {
    let (client, x) = try recordingWindow()
    defer { client.close() }
    try x.movePointer(to: ScreenPoint(x: 10, y: 10))
    _ = client.drain(quiet: 0.1)

    // 380 px in steps of 10: 38 motion steps; the check stops it after the fifth.
    var asked: [ScreenPoint?] = []
    var seenByCheck: [ScreenPoint] = []
    var thrown: ScreenCaptureError?
    do {
      try x.drag(along: [ScreenPoint(x: 310, y: 310), ScreenPoint(x: 690, y: 310)], stepPixels: 10, stepDelay: 0.002) { put in
        asked.append(put)
        // The check may call the display it interrupts (fail-safe checks read the pointer).
        if let at = try? x.pointerPosition() { seenByCheck.append(at) }
        return asked.count == 5 ? "the test's deadline" : nil
      }
    } catch {
      thrown = error
    }
    #expect(thrown == .interrupted(reason: "the test's deadline", done: "5 of 38 motion steps of the drag (button 1 released)"))
    let stops = (1...5).map { ScreenPoint(x: 310 + 10 * $0, y: 310) }
    #expect(asked == stops)
    #expect(seenByCheck == stops)
    // Pressed at the start, released where it stopped, no motion past it; nothing held now.
    let events = client.drain(quiet: 0.3)
    let buttons = events.filter { $0.type == XEvent.buttonPress || $0.type == XEvent.buttonRelease }
    #expect(buttons.map { [Int($0.type), Int($0.detail), $0.rootX, $0.rootY] } == [[4, 1, 310, 310], [5, 1, 360, 310]])
    #expect(events.filter { $0.type == XEvent.motionNotify }.allSatisfy { $0.rootX <= 360 })
    #expect(try pointerState(client) & XEvent.button1Mask == 0)
    #expect(try x.pointerPosition() == ScreenPoint(x: 360, y: 310))

    // Without a reason to stop, the check is asked between every two steps and the drag ends.
    var calls = 0
    try x.drag(along: [ScreenPoint(x: 310, y: 400), ScreenPoint(x: 400, y: 400)], stepPixels: 10, stepDelay: 0) { _ in
      calls += 1
      return nil
    }
    #expect(calls == 8)  // 9 steps, none asked after the last
    #expect(try x.pointerPosition() == ScreenPoint(x: 400, y: 400))
    #expect(try pointerState(client) & XEvent.button1Mask == 0)
  }

  @Test func typingStoppedByItsCheckLeavesNoKeyDownAndGivesBackBorrowedKeycodes() throws {
    let (client, x) = try recordingWindow()
    defer { client.close() }
    let mapping = client.fullMapping()
    _ = client.drain(quiet: 0.1)
    // ü is not on the default keymap: it is typed through a borrowed keycode.
    let text = String(repeating: "aü", count: 100)
    var calls = 0
    var puts: [ScreenPoint?] = []
    var events: [ReceivedEvent] = []
    var thrown: ScreenCaptureError?
    do {
      try x.type(text) { put in
        puts.append(put)
        calls += 1
        guard calls == 6 else { return nil }
        // Read the presses while the borrowed keycode still maps to ü (keysyms are fetched on read).
        events = client.drain(quiet: 0.2)
        return "the test's deadline"
      }
    } catch {
      thrown = error
    }
    // Asked between keys only: after the first key, before the seventh.
    #expect(thrown == .interrupted(reason: "the test's deadline", done: "6 of 200 characters typed"))
    #expect(puts.allSatisfy { $0 == nil })  // typing does not move the pointer
    events += client.drain(quiet: 0.3)
    let presses = events.filter { $0.type == XEvent.keyPress && !isModifierKeysym($0.keysyms.first ?? 0) }
    let releases = events.filter { $0.type == XEvent.keyRelease }
    #expect(String(presses.map { decodeCharacter(keysyms: $0.keysyms, state: $0.state) ?? "?" }) == "aüaüaü")
    #expect(releases.count == events.filter { $0.type == XEvent.keyPress }.count)
    #expect(try keysDown(client) == [])
    #expect(client.fullMapping() == mapping)
  }
}
