import Foundation
import Testing
@testable import Agent

/// The marks the HTML export draws over a step's screenshot (``StepOverlay``).
@Suite struct EpisodeOverlayTests {
  /// The export page's section of step `index`.
  func section(_ page: String, step index: Int) throws -> String {
    let start = try #require(page.range(of: "<section class=\"step\" id=\"step-\(index)\">"))
    let end = try #require(page.range(of: "</section>", range: start.upperBound..<page.endIndex))
    return String(page[start.lowerBound..<end.upperBound])
  }

  @Test func exportDrawsTheRecordedClickInScreenshotPixels() throws {
    let tmp = try TempFolder()
    defer { tmp.cleanup() }
    let (store, id) = try makeExportEpisode(in: tmp, finished: true)
    let page = try store.htmlReport(episode: id)
    let step0 = try section(page, step: 0)
    // The overlay covers the 80x50 screenshot in its own pixels; the click (60, 15) is drawn there.
    #expect(step0.contains("<svg class=\"overlay\" viewBox=\"0 0 80 50\" preserveAspectRatio=\"none\""))
    #expect(step0.contains("<g class=\"click\" data-x=\"60\" data-y=\"15\">"))
    #expect(step0.contains("<circle cx=\"60\" cy=\"15\" r=\"6\" class=\"ink\"/>"))
    // Crosshair arms 12 px long with a 3 px gap around the point.
    #expect(step0.contains("<path d=\"M60 15m-12 0h9M60 15m3 0h9M60 15m0 -12v9M60 15m0 3v9\" class=\"ink\"/>"))
    #expect(step0.contains("<p class=\"legend\"><span class=\"key click\"></span>click at (60, 15) screen pixels</p>"))
    // The overlay sits inside the screenshot's box, the legend under it; the reasoning beside.
    let shot = try #require(step0.range(of: "<div class=\"shot\">"))
    let overlay = try #require(step0.range(of: "<svg class=\"overlay\""))
    let legend = try #require(step0.range(of: "<p class=\"legend\">"))
    #expect(shot.upperBound < overlay.lowerBound && overlay.upperBound < legend.lowerBound)
    #expect(step0.contains("Click it. &lt;script&gt;"))
    #expect(page.contains(".overlay{position:absolute"))
    // Step 1 (a hotkey) has no point: its screenshot is shown without marks.
    let step1 = try section(page, step: 1)
    #expect(step1.contains("<img src=\"data:image/png") && !step1.contains("<svg") && !step1.contains("class=\"legend\""))
  }

  @Test func marksScaleWithTheScreenshot() {
    #expect(StepOverlay.markRadius(width: 80, height: 50) == 6)
    #expect(StepOverlay.markRadius(width: 1280, height: 800) == 18)
    #expect(StepOverlay.markRadius(width: 3840, height: 2160) == 55)
    let svg = StepOverlay.svg(point: GroundedPoint(x: 640.5, y: 400), width: 1280, height: 800)
    #expect(svg.contains("viewBox=\"0 0 1280 800\"") && svg.contains("<circle cx=\"640.5\" cy=\"400\" r=\"18\""))
    #expect(StepOverlay.svg(point: nil, width: 1280, height: 800).isEmpty)
    #expect(StepOverlay.svg(point: GroundedPoint(x: 1, y: 1), width: 0, height: 800).isEmpty)
  }
}
