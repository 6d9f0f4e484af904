import Imaging
import Testing
@testable import ScreenCapture

/// Every test that touches the X server: serialized, since windows, pointer and focus are shared.
@Suite("X server", .serialized) struct XServerTests {}

/// A window drawn by the test client, with the picture it should show.
struct DrawnWindow {
  let id: UInt32
  let rect: PixelRect
  var expected: RGBImage
}

extension TestClient {
  /// A window at `r` holding four coloured quadrants and a gradient strip (PutImage), with the
  /// same picture built in memory.
  func patternWindow(_ r: PixelRect, title: String? = nil) throws -> DrawnWindow {
    let id = try window(r, title: title)
    var expected = try RGBImage(width: r.width, height: r.height)
    let hw = r.width / 2, hh = r.height / 2
    let quadrants: [(PixelRect, RGB)] = [
      (PixelRect(x: 0, y: 0, width: hw, height: hh), RGB(255, 0, 0)),
      (PixelRect(x: hw, y: 0, width: r.width - hw, height: hh), RGB(0, 255, 0)),
      (PixelRect(x: 0, y: hh, width: hw, height: r.height - hh), RGB(0, 0, 255)),
      (PixelRect(x: hw, y: hh, width: r.width - hw, height: r.height - hh), RGB(250, 200, 17)),
    ]
    for (q, c) in quadrants {
      fill(id, q, c)
      for y in q.y..<(q.y + q.height) { for x in q.x..<(q.x + q.width) { expected[x, y] = c } }
    }
    // Gradient strip: every byte value appears in each channel somewhere.
    let gw = min(256, r.width - 20), gh = 24
    var gradient = try RGBImage(width: gw, height: gh)
    for y in 0..<gh {
      for x in 0..<gw { gradient[x, y] = RGB(UInt8(x & 255), UInt8((y * 11) & 255), UInt8(255 - (x & 255))) }
    }
    put(id, gradient, x: 10, y: 10)
    for y in 0..<gh { for x in 0..<gw { expected[10 + x, 10 + y] = gradient[x, y] } }
    return DrawnWindow(id: id, rect: r, expected: expected)
  }
}

/// Index and values of the first differing pixel, for a readable failure.
func firstDifference(_ a: RGBImage, _ b: RGBImage) -> String? {
  guard a.width == b.width, a.height == b.height else { return "size \(a.width)x\(a.height) vs \(b.width)x\(b.height)" }
  for y in 0..<a.height {
    for x in 0..<a.width where a[x, y] != b[x, y] { return "pixel (\(x), \(y)): \(a[x, y]) vs \(b[x, y])" }
  }
  return nil
}

extension XServerTests {
  @Test func bogusDisplayNameIsAnErrorNamingIt() {
    #expect(throws: ScreenCaptureError.self) { _ = try X11Display(display: ":987") }
    do {
      _ = try X11Display(display: ":987")
    } catch {
      guard case let .displayUnavailable(name, _) = error else { Issue.record("wrong error \(error)"); return }
      #expect(name == ":987")
      #expect(error.localizedDescription.contains(":987"))
    }
    #expect(throws: ScreenCaptureError.displayUnavailable(display: "no display here",
                                                          reason: "the display name could not be parsed")) {
      _ = try X11Display(display: "no display here")
    }
  }

  @Test func screenSizeAndMonitors() throws {
    let x = try X11Display(display: testDisplayName())
    #expect(x.screenWidth > 0 && x.screenHeight > 0)
    let monitors = try x.monitors()
    #expect(!monitors.isEmpty)
    // Xvfb with one screen: one monitor covering it.
    #expect(monitors.first?.rect == x.screenRect)
    #expect(monitors.first.map { !$0.name.isEmpty } == true)
    #expect(monitors.contains { $0.isPrimary } || monitors.count == 1)
    let img = try x.capture(.monitor(index: 0))
    #expect(img.width == monitors[0].rect.width && img.height == monitors[0].rect.height)
    #expect(throws: ScreenCaptureError.monitorNotFound("with index 7 (there are \(monitors.count))")) {
      try x.capture(.monitor(index: 7))
    }
    let byName = try x.rect(of: .monitorNamed(monitors[0].name))
    #expect(byName == monitors[0].rect)
    // The RandR 1.2 fallback (active CRTCs) sees the same monitor on Xvfb.
    #expect(try x.crtcMonitors().map(\.rect) == monitors.map(\.rect))
    #expect(throws: ScreenCaptureError.monitorNotFound("named 'no-such-output'")) {
      try x.capture(.monitorNamed("no-such-output"))
    }
  }

  @Test(arguments: [CaptureMethod.shm, .getImage])
  func windowAndRegionCaptureMatchWhatWasDrawn(method: CaptureMethod) throws {
    let client = try TestClient()
    defer { client.close() }
    let x = try X11Display(display: testDisplayName())
    let w = try client.patternWindow(PixelRect(x: 200, y: 150, width: 320, height: 240))

    let byId = try x.capture(.window(id: w.id), method: method)
    #expect(firstDifference(byId, w.expected) == nil)

    // A region straddling the window's top-left corner: black root around the window? The root
    // background is not ours to know, so compare only the part inside the window.
    let region = PixelRect(x: 180, y: 130, width: 100, height: 80)
    let cut = try x.capture(.region(region), method: method)
    #expect(cut.width == 100 && cut.height == 80)
    let inside = try cut.cropped(to: PixelRect(x: 20, y: 20, width: 80, height: 60))
    #expect(firstDifference(inside, try w.expected.cropped(to: PixelRect(x: 0, y: 0, width: 80, height: 60))) == nil)

    let screen = try x.capture(.screen, method: method)
    #expect(screen.width == x.screenWidth && screen.height == x.screenHeight)
    #expect(firstDifference(try screen.cropped(to: w.rect), w.expected) == nil)
  }

  @Test func sharedMemoryAndGetImageGiveIdenticalImages() throws {
    let client = try TestClient()
    defer { client.close() }
    let x = try X11Display(display: testDisplayName())
    _ = try client.patternWindow(PixelRect(x: 600, y: 300, width: 300, height: 200))
    #expect(x.sharedMemoryAvailable)
    let a = try x.capture(.screen, method: .shm)
    let b = try x.capture(.screen, method: .getImage)
    #expect(a == b)
    // The segment is reused for a smaller capture and grown for none.
    let r = PixelRect(x: 590, y: 290, width: 333, height: 111)
    #expect(try x.capture(.region(r), method: .shm) == (try x.capture(.region(r), method: .getImage)))
    #expect(try x.capture(.region(r), method: .auto) == (try a.cropped(to: r)))
  }

  @Test func windowCaptureShowsOverlapsAndClipsToTheScreen() throws {
    let client = try TestClient()
    defer { client.close() }
    let x = try X11Display(display: testDisplayName())
    let below = try client.patternWindow(PixelRect(x: 100, y: 500, width: 200, height: 160), title: "gui-agent capture test below")
    let above = try client.window(PixelRect(x: 250, y: 600, width: 100, height: 100))
    client.fill(above, PixelRect(x: 0, y: 0, width: 100, height: 100), RGB(9, 99, 199))
    var expected = below.expected
    for y in 100..<160 { for x in 150..<200 { expected[x, y] = RGB(9, 99, 199) } }
    #expect(firstDifference(try x.capture(.window(id: below.id)), expected) == nil)
    // By title: exact, then case-insensitive substring.
    #expect(firstDifference(try x.capture(.windowNamed("gui-agent capture test below")), expected) == nil)
    #expect(try x.rect(of: .windowNamed("CAPTURE TEST BELOW")) == below.rect)
    // _NET_WM_NAME (UTF-8) wins over WM_NAME.
    client.setNetWMName(below.id, "Grüße-Fenster 🪟")
    #expect(try x.rect(of: .windowNamed("Grüße-Fenster 🪟")) == below.rect)
    #expect(try x.windows().contains { $0.id == below.id && $0.name == "Grüße-Fenster 🪟" && $0.rect == below.rect })
    #expect(try x.windowInfo(above).isViewable)

    // Partly off screen: the visible part only.
    let edge = try client.patternWindow(PixelRect(x: x.screenWidth - 120, y: x.screenHeight - 80, width: 300, height: 200))
    let clipped = try x.capture(.window(id: edge.id))
    #expect(clipped.width == 120 && clipped.height == 80)
    #expect(firstDifference(clipped, try edge.expected.cropped(to: PixelRect(x: 0, y: 0, width: 120, height: 80))) == nil)
  }

  @Test func unmappedOffScreenAndMissingWindowsAreClearErrors() throws {
    let client = try TestClient()
    defer { client.close() }
    let x = try X11Display(display: testDisplayName())
    let hidden = try client.window(PixelRect(x: 10, y: 10, width: 50, height: 50), title: "gui-agent hidden", map: false)
    #expect(throws: ScreenCaptureError.windowNotViewable(window: hidden, mapState: "unmapped")) {
      try x.capture(.window(id: hidden))
    }
    #expect(throws: ScreenCaptureError.windowNotViewable(window: hidden, mapState: "unmapped")) {
      try x.capture(.windowNamed("gui-agent hidden"))
    }
    let away = try client.window(PixelRect(x: x.screenWidth + 500, y: 10, width: 50, height: 50))
    #expect(throws: ScreenCaptureError.windowOffScreen(window: away, geometry: "50x50+\(x.screenWidth + 500)+10")) {
      try x.capture(.window(id: away))
    }
    #expect(throws: ScreenCaptureError.windowNotFound("named 'no such window title 4711'")) {
      try x.capture(.windowNamed("no such window title 4711"))
    }
    #expect(throws: ScreenCaptureError.windowNotFound("with id 0x7fffffe")) {
      try x.capture(.window(id: 0x7ff_fffe))
    }
    #expect(throws: ScreenCaptureError.self) {
      try x.capture(.region(PixelRect(x: x.screenWidth - 10, y: 0, width: 20, height: 20)))
    }
  }
}
