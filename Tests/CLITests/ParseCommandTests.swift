import Foundation
import Imaging
import Testing
import TestSupport

/// `gui-agent parse` on a real Tk screenshot (the screenspot-mini fixture, 640x480).
@Suite struct ParseCommandTests {
  static let screenshot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("GroundingTests/Fixtures/screenspot-mini/tk_settings.png").path

  static func scratch(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("cli-parse-\(getpid())-\(name)").path
  }

  @Test func jsonListsTheElementsWithBoxes() throws {
    let r = try CLI.run(["parse", "--image", Self.screenshot, "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    let j = try r.json()
    #expect((j["parser"] as? String)?.hasPrefix("tesseract 5") == true)
    #expect(j["area"] as? [String: Int] == ["x": 0, "y": 0, "width": 640, "height": 480])
    let elements = try #require(j["elements"] as? [[String: Any]])
    let cancel = try #require(elements.first { $0["text"] as? String == "Cancel" }, "read \(elements.map { $0["text"] ?? "" })")
    #expect(cancel["kind"] as? String == "text")
    let box = try #require(cancel["box"] as? [String: Int])
    // Tk's geometry of the Cancel button: 102x31 at (525, 420).
    let (x, y, w, h) = (box["x"] ?? -1, box["y"] ?? -1, box["width"] ?? 0, box["height"] ?? 0)
    #expect(x >= 525 && y >= 420 && x + w <= 627 && y + h <= 451 && w > 0, "\(box)")
    #expect(elements.map { $0["id"] as? Int } == Array(1...elements.count))
    #expect(r.stderr.contains("elements in"))
  }

  @Test func textListingAndAnnotatedWords() throws {
    let out = Self.scratch("marks.png")
    defer { try? FileManager.default.removeItem(atPath: out) }
    let r = try CLI.run(["parse", "--image", Self.screenshot, "--words", "--annotate", out])
    #expect(r.status == 0, "\(r.stderr)")
    // [id] WxH+X+Y confidence "text"
    let line = try #require(r.stdout.split(separator: "\n").first { $0.hasSuffix("\"notifications\"") }, "\(r.stdout)")
    #expect(line.wholeMatch(of: /\[\d+\] \d+x\d+\+\d+\+\d+ \d+ "notifications"/) != nil, "\(line)")
    #expect(r.stdout.contains("wrote \(out)"))
    let marked = try PNG.read(path: out)
    #expect(marked.width == 640 && marked.height == 480)
    let json = try CLI.run(["parse", "--image", Self.screenshot, "--words", "--json"]).json()
    let elements = try #require(json["elements"] as? [[String: Any]])
    #expect(!elements.isEmpty && elements.allSatisfy { $0["kind"] as? String == "word" })
    for e in elements {
      // The outline runs one pixel outside each box.
      let b = try #require(e["box"] as? [String: Int])
      let (x, y) = ((b["x"] ?? 0) - 1, (b["y"] ?? 0) - 1)
      #expect(marked[x, y] == RGB(255, 0, 170), "no mark at (\(x), \(y)) for \(e["text"] ?? "")")
    }
  }

  /// --capture on an Xvfb of the test's own showing a Tk label on a desktop-coloured window (over
  /// Xvfb's bare black root, sparse segmentation finds no text: docs/screen-parsing.md): the
  /// whole screen, then monitor 0 (Xvfb's one monitor covers the screen: the same boxes).
  @Test func captureReadsTheLiveScreen() throws {
    let server = try PrivateXvfb(arguments: ["-screen", "0", "800x600x24"])
    defer { server.stop() }
    let app = Process()
    app.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    app.arguments = ["python3", "-c", """
      import tkinter as tk
      r = tk.Tk(); r.geometry("800x600+0+0"); r.configure(bg="#3c5a6e")
      tk.Label(r, text="Quarterly report ready", font=("DejaVu Sans", 14)).place(x=100, y=80)
      r.mainloop()
      """]
    app.environment = ProcessInfo.processInfo.environment.merging(["DISPLAY": server.display]) { _, new in new }
    app.standardOutput = FileHandle.nullDevice
    app.standardError = FileHandle.nullDevice
    try app.run()
    defer { kill(app.processIdentifier, SIGKILL) }
    var found: [String: Any]? = nil
    for _ in 0..<40 where found == nil {
      let r = try CLI.run(["parse", "--capture", "--json", "--display", server.display])
      #expect(r.status == 0, "\(r.stderr)")
      let elements = try r.json()["elements"] as? [[String: Any]] ?? []
      found = elements.first { $0["text"] as? String == "Quarterly report ready" }
      if found == nil { Thread.sleep(forTimeInterval: 0.25) }
    }
    let box = try #require(found?["box"] as? [String: Int])
    let (x, y, w, h) = (box["x"] ?? -1, box["y"] ?? -1, box["width"] ?? 0, box["height"] ?? 0)
    #expect(x >= 100 && y >= 80 && x + w < 400 && y + h < 200 && w > 100, "\(box)")
    let monitor = try CLI.run(["parse", "--capture", "--monitor", "0", "--json", "--display", server.display]).json()
    #expect(monitor["area"] as? [String: Int] == ["x": 0, "y": 0, "width": 800, "height": 600])
    let same = (monitor["elements"] as? [[String: Any]] ?? []).first { $0["text"] as? String == "Quarterly report ready" }
    #expect(same?["box"] as? [String: Int] == box)
  }

  @Test func helpAndErrors() throws {
    let help = try CLI.run(["parse", "--help"])
    #expect(help.status == 0)
    for option in ["--image", "--capture", "--monitor", "--annotate", "--words", "--scale", "--json"] {
      #expect(help.stdout.contains(option), "help lacks \(option)")
    }
    let missing = try CLI.run(["parse", "--image", "/nonexistent/screen.png"])
    #expect(missing.status == 1)
    #expect(missing.stderr.contains("/nonexistent/screen.png"))
    for args in [["parse"], ["parse", "--image", Self.screenshot, "--scale", "9"],
                 ["parse", "--image", Self.screenshot, "--segmentation", "columns"],
                 ["parse", "--image", Self.screenshot, "--capture"]] {
      #expect(try CLI.run(args).status == 2, "\(args)")
    }
    let noData = try CLI.run(["parse", "--image", Self.screenshot, "--tessdata", "/nonexistent/tessdata"])
    #expect(noData.status == 1)
    #expect(noData.stderr.contains("/nonexistent/tessdata") && noData.stderr.contains("TESSDATA_PREFIX"))
  }
}
