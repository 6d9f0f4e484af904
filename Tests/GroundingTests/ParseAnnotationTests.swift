import Foundation
import Imaging
import Testing
import Grounding

/// The set-of-marks picture: boxes outlined in the mark colour, each id on a label beside it.
@Suite struct ParseAnnotationTests {
  @Test func marksAreDrawnAtTheBoxesAndSurviveAPNGRoundTrip() throws {
    let background = RGB(200, 200, 200)
    let screenshot = try RGBImage(width: 400, height: 300, fill: background)
    // The screenshot covers a monitor at (1000, 50): boxes are screen pixels.
    let area = PixelRect(x: 1000, y: 50, width: 400, height: 300)
    let parse = ScreenParse(area: area, elements: [
      ScreenElement(id: 1, kind: .text, text: "Save", box: PixelRect(x: 1100, y: 150, width: 60, height: 20), confidence: 90),
      ScreenElement(id: 12, kind: .word, text: "Top", box: PixelRect(x: 1010, y: 52, width: 30, height: 12), confidence: 80),
    ], milliseconds: 1)
    let decoded = try PNG.decode(PNG.encode(parse.annotated(screenshot)))
    #expect(decoded.width == 400 && decoded.height == 300)
    // Box 1's outline just outside its corners and edges (image pixels: the area's origin taken off).
    for (x, y) in [(99, 99), (160, 99), (99, 120), (160, 120), (130, 99), (99, 110)] {
      #expect(decoded[x, y] == ScreenParse.markColor, "outline at (\(x), \(y))")
    }
    // The box itself stays the screenshot.
    #expect(decoded[100, 100] == background && decoded[130, 110] == background)
    // Its label sits above the box: mark-coloured background with white digits.
    let label = (88..<99).flatMap { y in (100..<112).map { x in decoded[x, y] } }
    #expect(label.contains(ScreenParse.markColor) && label.contains(ScreenParse.labelColor))
    // Box 12 touches the top: its label goes inside the box, and both digits are drawn.
    let inner = (3..<12).flatMap { y in (10..<30).map { x in decoded[x, y] } }
    #expect(inner.filter { $0 == ScreenParse.labelColor }.count >= 8)
    // Far from both, nothing is drawn.
    #expect(decoded[350, 250] == background)
  }
}
