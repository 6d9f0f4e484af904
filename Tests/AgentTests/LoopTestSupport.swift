import Foundation
import Imaging
import ScreenCapture
import Testing
import TestSupport
@testable import Agent

/// A private Xvfb (640x480) with a small Tk window at +0+0 (400x300, white): a left click draws
/// a black 21x21 square centred on the click, any key press recolours the background. Other
/// test suites send input to the shared `$DISPLAY`; the loop tests never touch it.
final class LoopRig {
  static let appScript = """
    import tkinter as tk
    r = tk.Tk(); r.geometry("400x300+0+0")
    c = tk.Canvas(r, width=400, height=300, bg="white", highlightthickness=0); c.pack()
    c.bind("<Button-1>", lambda e: c.create_rectangle(e.x-10, e.y-10, e.x+10, e.y+10, fill="black"))
    r.bind("<Key>", lambda e: c.configure(bg="#%02x%02x%02x" % (len(e.keysym) * 20 % 256, 120, 200)))
    r.mainloop()
    """

  let xvfb: PrivateXvfb
  let app = Process()
  let display: X11Display
  let folder: TempFolder
  let store: EpisodeStore

  init() throws {
    xvfb = try PrivateXvfb(arguments: ["-noreset", "-screen", "0", "640x480x24"])
    do {
      app.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      app.arguments = ["python3", "-c", Self.appScript]
      app.environment = ProcessInfo.processInfo.environment.merging(["DISPLAY": xvfb.display]) { _, new in new }
      app.standardOutput = FileHandle.nullDevice
      app.standardError = FileHandle.nullDevice
      try app.run()
      display = try X11Display(display: xvfb.display)
      display.keyDelay = 0.004
      folder = try TempFolder()
      store = try EpisodeStore(path: folder.file("episodes.sqlite"))
      try waitForApp()
    } catch {
      if app.isRunning { kill(app.processIdentifier, SIGKILL) }
      xvfb.stop()
      throw error
    }
  }

  /// Polls until the Tk window shows (white at (200, 150)).
  private func waitForApp() throws {
    for _ in 0..<600 {
      if try pixel(200, 150) == [255, 255, 255] { return }
      Thread.sleep(forTimeInterval: 0.05)
    }
    throw LoopTestError("the Tk test window did not appear on \(xvfb.display)")
  }

  func pixel(_ x: Int, _ y: Int) throws -> [UInt8] {
    let image = try display.capture(.screen)
    return pixel(image, x, y)
  }

  func pixel(_ image: RGBImage, _ x: Int, _ y: Int) -> [UInt8] {
    let i = (y * image.width + x) * 3
    return Array(image.pixels[i..<i + 3])
  }

  func loop(_ settings: AgentSettings = LoopRig.fastSettings(), planner: (any ActionPlanner)? = nil,
            locator: (any ElementLocator)? = nil) -> AgentLoop {
    AgentLoop(configuration: AgentLoop.Configuration(display: display, store: store, planner: planner,
                                                     locator: locator, settings: settings))
  }

  static func fastSettings() -> AgentSettings {
    var s = AgentSettings()
    s.settleSeconds = 0.2
    return s
  }

  func stop() {
    if app.isRunning { kill(app.processIdentifier, SIGKILL) }
    app.waitUntilExit()
    xvfb.stop()
    folder.cleanup()
  }
}

struct LoopTestError: Error, CustomStringConvertible {
  let description: String
  init(_ d: String) { description = d }
}

/// A plan from JSON text, as plan files are written.
func plan(_ json: String) throws -> ScriptedPlan {
  try ScriptedPlan.decode(Data(json.utf8))
}

