import Agent
import Foundation
import Imaging
@testable import Service
import Testing
import TestSupport

/// The trace viewer in headless Chromium (Debian's `chromium`, from scripts/install-deps): the
/// page the server sends is run, its DOM after the scripts is read back, and its screenshot is
/// checked to hold a rendered page.
@Suite(.serialized) struct ViewerTests {
  static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

  /// Runs Chromium headless on `url` with `arguments`; returns standard output (bounded to 90 s).
  static func chromium(_ arguments: [String], url: String) throws -> String {
    let binary = try #require(chromium, "chromium is not installed (scripts/install-deps installs it)")
    let profile = try Fixtures.temporaryFolder("chromium")
    defer { try? FileManager.default.removeItem(at: profile) }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binary)
    // --no-sandbox: tests run as root in CI, where Chromium's sandbox cannot start.
    p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
                   "--user-data-dir=\(profile.path)", "--virtual-time-budget=8000", "--window-size=1100,900"] + arguments + [url]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let killer = DispatchWorkItem { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
    DispatchQueue.global().asyncAfter(deadline: .now() + 90, execute: killer)
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    killer.cancel()
    return String(decoding: data, as: UTF8.self)
  }

  @Test func pageShowsEpisodesAndSteps() throws {
    let s = try EpisodeRouteTests.EpisodeServer()
    let r = try s.client.post("/v1/episodes", json: ["task": "press the blue button", "plan": EpisodeRouteTests.shortPlan,
                                                      "settings": EpisodeRouteTests.quiet])
    let id = try #require(try r.json()["id"] as? Int)
    _ = try s.waitForEnd(id)
    let base = "http://127.0.0.1:\(s.client.port)/"

    // The list.
    let list = try Self.chromium(["--dump-dom"], url: base)
    #expect(list.contains("press the blue button"), "\(list.prefix(2000))")
    #expect(list.contains("succeeded"))
    #expect(list.contains("data-id=\"\(id)\""))

    // One episode: step timeline with screenshot, click marker, action.
    let page = try Self.chromium(["--dump-dom"], url: base + "#/episodes/\(id)")
    #expect(page.contains("Episode #\(id): press the blue button"), "\(page.prefix(3000))")
    #expect(page.contains("data-step=\"0\""))
    #expect(page.contains("data-step=\"2\""))
    #expect(page.contains("Click at (100, 80)"))
    #expect(page.contains("click(start_box='(100,80)')"))
    #expect(page.contains("/v1/episodes/\(id)/steps/0/screenshot.png"))
    // The click drawn over the 320x240 screenshot in its own pixels (ViewerOverlayTests has more).
    #expect(page.contains("<svg class=\"overlay\" viewBox=\"0 0 320 240\""))

    // The rendered page: a real image of the window size with more than a blank background.
    let folder = try Fixtures.temporaryFolder("shot")
    defer { try? FileManager.default.removeItem(at: folder) }
    let png = folder.appendingPathComponent("viewer.png")
    _ = try Self.chromium(["--screenshot=\(png.path)"], url: base + "#/episodes/\(id)")
    let image = try PNG.read(path: png.path)
    #expect(image.width == 1100 && image.height == 900)
    var colors = Set<RGB>()
    for y in stride(from: 0, to: image.height, by: 7) {
      for x in stride(from: 0, to: image.width, by: 7) { colors.insert(image[x, y]) }
    }
    #expect(colors.count > 20, "only \(colors.count) colours: the page did not render")
    // The header bar (#1d2330) is drawn across the top.
    #expect(image[500, 5] == RGB(0x1d, 0x23, 0x30))
  }

  /// While an episode runs the page polls: it says so, and shows steps recorded after it opened.
  @Test func pageRefreshesWhileAnEpisodeRuns() throws {
    let s = try EpisodeRouteTests.EpisodeServer()
    let r = try s.client.post("/v1/episodes", json: ["task": "slow task", "plan": EpisodeRouteTests.longPlan(100),
                                                      "settings": EpisodeRouteTests.quiet])
    let id = try #require(try r.json()["id"] as? Int)
    let page = try Self.chromium(["--dump-dom"], url: "http://127.0.0.1:\(s.client.port)/#/episodes/\(id)")
    #expect(page.contains("live: refreshing every 2 s"), "\(page.prefix(2000))")
    #expect(page.contains("class=\"status running\""))
    #expect(try s.client.post("/v1/episodes/\(id)/stop", raw: "").status == 202)
    _ = try s.waitForEnd(id)
  }

  /// With a token, the page takes it from the fragment and sends it on its API calls.
  @Test func pageUsesTheTokenFromTheFragment() throws {
    let token = "viewer-token-0123456789"
    let s = try RunningService({ $0.token = token }, store: EpisodeStore(path: Fixtures.temporaryFolder("tok").appendingPathComponent("e.sqlite")))
    let base = "http://127.0.0.1:\(s.client.port)/"
    let without = try Self.chromium(["--dump-dom"], url: base)
    #expect(without.contains("HTTP 401"))
    let with = try Self.chromium(["--dump-dom"], url: base + "#token=\(token)")
    #expect(with.contains("No episodes yet."), "\(with.prefix(2000))")
  }
}
