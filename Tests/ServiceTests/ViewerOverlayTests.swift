import Agent
import Foundation
import Imaging
import Testing
import TestSupport

/// The trace viewer's drawing of a recorded click over the step's screenshot, read back from the
/// DOM headless Chromium builds (see ViewerTests).
@Suite(.serialized) struct ViewerOverlayTests {
  @Test func clickIsDrawnInScreenshotPixelsWithALegend() throws {
    let s = try EpisodeRouteTests.EpisodeServer()
    let r = try s.client.post("/v1/episodes", json: ["task": "press the blue button", "plan": EpisodeRouteTests.shortPlan,
                                                      "settings": EpisodeRouteTests.quiet])
    let id = try #require(try r.json()["id"] as? Int)
    _ = try s.waitForEnd(id)
    // What the store recorded for the first step: the click the page must draw.
    let episode = try s.client.get("/v1/episodes/\(id)").json()
    let steps = try #require(episode["steps"] as? [[String: Any]])
    let point = try #require(steps.first?["grounded_point"] as? [String: Double])
    let (x, y) = (Int(try #require(point["x"])), Int(try #require(point["y"])))

    let page = try ViewerTests.chromium(["--dump-dom"], url: "http://127.0.0.1:\(s.client.port)/#/episodes/\(id)")
    let start = try #require(page.range(of: "data-step=\"0\""), "\(page.prefix(3000))")
    let step1 = page.range(of: "data-step=\"1\"")?.lowerBound ?? page.endIndex
    let step0 = String(page[start.lowerBound..<step1])
    // The 320x240 screenshot's own coordinates, whatever size the page shows it at.
    #expect(step0.contains("<svg class=\"overlay\" viewBox=\"0 0 320 240\" preserveAspectRatio=\"none\""), "\(step0)")
    #expect(step0.contains("<g class=\"click\" data-x=\"\(x)\" data-y=\"\(y)\">"))
    #expect(step0.contains("<circle cx=\"\(x)\" cy=\"\(y)\" r=\"6\" class=\"ink\">"))
    #expect(step0.contains("<path d=\"M\(x) \(y)m-12 0h9M\(x) \(y)m3 0h9M\(x) \(y)m0 -12v9M\(x) \(y)m0 3v9\" class=\"ink\">"))
    #expect(step0.contains("click at (\(x), \(y)) screen pixels"))
    #expect(page.contains(".overlay .ink"))
  }

  @Test func groundingRegionIsDrawnUnderTheClickWithALegend() throws {
    let folder = try Fixtures.temporaryFolder("region")
    defer { try? FileManager.default.removeItem(at: folder) }
    // A recorded episode whose step found its element in a region, read by a service without a display.
    let store = try EpisodeStore(path: folder.appendingPathComponent("episodes.sqlite"))
    let id = try store.beginEpisode(task: "click Save", models: [:], settings: [String: String]())
    let shot = try PNG.encode(try RGBImage(width: 320, height: 240, fill: RGB(240, 240, 240)))
    let step = try store.beginStep(episode: id, index: 0, intent: StepIntent(
      rawOutput: #"{"action": "click", "target": {"element": "Save"}}"#, action: .click(.element("Save")),
      groundedPoint: GroundedPoint(x: 150, y: 70), groundedBox: PixelRect(x: 131, y: 61, width: 40, height: 18), screenshot: shot))
    try store.finishStep(step, outcome: StepOutcome(screenChanged: true))
    try store.finishEpisode(id: id, status: .succeeded, summary: "saved")
    let running = try RunningService({ $0.display = nil }, store: store)
    defer { running.stop() }

    let episode = try running.client.get("/v1/episodes/\(id)").json()
    let steps = try #require(episode["steps"] as? [[String: Any]])
    #expect(steps.first?["grounded_box"] as? [String: Int] == ["x": 131, "y": 61, "w": 40, "h": 18])

    let page = try ViewerTests.chromium(["--dump-dom"], url: "http://127.0.0.1:\(running.client.port)/#/episodes/\(id)")
    let start = try #require(page.range(of: "data-step=\"0\""), "\(page.prefix(3000))")
    let step0 = String(page[start.lowerBound...])
    #expect(step0.contains("<svg class=\"overlay\" viewBox=\"0 0 320 240\" preserveAspectRatio=\"none\" role=\"img\" "
      + "aria-label=\"click at (150, 70), grounding region 40 x 18 at (131, 61)\">"), "\(step0)")
    #expect(step0.contains("<g class=\"region\" data-x=\"131\" data-y=\"61\" data-w=\"40\" data-h=\"18\">"
      + "<rect x=\"131\" y=\"61\" width=\"40\" height=\"18\" class=\"halo\"></rect>"
      + "<rect x=\"131\" y=\"61\" width=\"40\" height=\"18\" class=\"ink\"></rect></g><g class=\"click\""))
    #expect(step0.contains("<span class=\"key region\"></span>grounding region 40 x 18 at (131, 61) screen pixels"))
    #expect(step0.contains("click at (150, 70) screen pixels"))
    #expect(page.contains(".overlay .region .ink"))
  }
}
