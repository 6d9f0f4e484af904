import Foundation
import Imaging
import Testing

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

  @Test func pointerMovesWhereAsked() throws {
    let r = try CLI.run(["act", "move", "321", "234", "--json", "--display", try display])
    #expect(r.status == 0, "\(r.stderr)")
    let pointer = try r.json()["pointer"] as? [String: Int]
    #expect(pointer?["x"] == 321 && pointer?["y"] == 234)
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
