import Foundation
import Imaging
import Testing
import TestSupport

/// The X11 commands end to end against the test Xvfb (`make test` provides $DISPLAY).
@Suite(.serialized) struct ScreenCommandTests {
  var display: String {
    get throws {
      guard let d = ProcessInfo.processInfo.environment["DISPLAY"], !d.isEmpty else {
        throw CLIHarnessError("DISPLAY is unset: run the tests under Xvfb (make test, or scripts/with-xvfb swift test)")
      }
      return d
    }
  }

  @Test func screensReportsTheScreenSize() throws {
    let r = try CLI.run(["screens", "--json", "--display", try display])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try r.json()
    #expect((j["width"] as? Int ?? 0) > 0)
    let monitors = j["monitors"] as? [[String: Any]] ?? []
    #expect(!monitors.isEmpty)
  }

  @Test func captureRegionWritesAPNGOfThatSize() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("cli-capture-\(getpid()).png").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    let r = try CLI.run(["capture", "--region", "10,20,123,45", "-o", path, "--json", "--display", try display])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(try r.json()["width"] as? Int == 123)
    let image = try PNG.read(path: path)
    #expect(image.width == 123 && image.height == 45)
  }

  /// Input goes to an Xvfb of this test's own: the input tests of ScreenCapture run in parallel
  /// on the shared server and watch where the pointer is.
  @Test func pointerMovesWhereAskedAndScrollAndKeysRun() throws {
    _ = try display
    let server = try PrivateXvfb(arguments: ["-screen", "0", "800x600x24"])
    defer { server.stop() }
    let r = try CLI.run(["act", "move", "321", "234", "--json", "--display", server.display])
    #expect(r.status == 0, "\(r.stderr)")
    let pointer = try r.json()["pointer"] as? [String: Int]
    #expect(pointer?["x"] == 321 && pointer?["y"] == 234)
    let drag = try CLI.run(["act", "drag", "10", "10", "200", "100", "--json", "--display", server.display])
    #expect(drag.status == 0, "\(drag.stderr)")
    #expect(try drag.json()["pointer"] as? [String: Int] == ["x": 200, "y": 100])
    for args in [["scroll", "down", "--amount", "3"], ["key", "ctrl+shift+s", "Return"], ["type", "Grüße €5"],
                 ["click", "5", "6"], ["double-click"]] {
      let r = try CLI.run(["act"] + args + ["--display", server.display])
      #expect(r.status == 0, "\(args): \(r.stderr)")
    }
  }

  @Test func unreachableDisplayIsARuntimeError() throws {
    let r = try CLI.run(["capture", "-o", "/tmp/never.png", "--display", ":987"])
    #expect(r.status == 1)
    #expect(r.stderr.contains("cannot open X display ':987'"))
  }

  @Test func usageErrorsExitWithTwo() throws {
    for args in [["capture"], ["capture", "-o", "x.png", "--region", "1,2,3"],
                 ["act", "scroll", "sideways"], ["act", "click", "5"], ["act", "drag", "1", "2", "3"],
                 ["capture", "-o", "x.png", "--monitor", "0", "--window", "1"]] {
      let r = try CLI.run(args)
      #expect(r.status == 2, "\(args): \(r.stderr)")
    }
  }

  @Test func unknownKeyNameIsARuntimeErrorNamingIt() throws {
    let r = try CLI.run(["act", "key", "ctrl+nosuchkey", "--display", try display])
    #expect(r.status == 1)
    #expect(r.stderr.contains("nosuchkey"))
  }
}
