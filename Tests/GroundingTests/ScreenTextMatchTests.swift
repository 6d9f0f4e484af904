import Imaging
import Testing
@testable import Grounding

@Suite struct InstructionLabelTests {
  @Test(arguments: [
    ("click the Save button", "Save"),
    ("switch to the Network tab", "Network"),
    ("the Name field", "Name"),
    ("open the File menu", "File"),
    ("select Blue in the list", "Blue"),
    ("the Email address field", "Email address"),
    ("Cancel", "Cancel"),
    ("type \"hello world\" into the search box", "hello world"),
    ("press the “OK” button", "OK"),
  ])
  func firstLabel(instruction: String, label: String) {
    #expect(InstructionLabel.candidates(instruction).first == label, "\(InstructionLabel.candidates(instruction))")
  }

  @Test func keepsLongerFormsAndTheWhole() {
    let c = InstructionLabel.candidates("click the Save button")
    #expect(c.last == "click the Save button")
    #expect(c.contains("the Save"))
  }

  @Test func apostropheIsNotAQuote() {
    #expect(InstructionLabel.candidates("don't save it's fine").first == "don't save it's fine")
  }

  @Test func blankGivesNothing() {
    #expect(InstructionLabel.candidates("   ").isEmpty)
  }
}

@Suite struct TextMatchTests {
  static func word(_ id: Int, _ text: String, x: Int, y: Int, w: Int = 40, h: Int = 14, conf: Double = 90) -> ScreenElement {
    ScreenElement(id: id, kind: .word, text: text, box: PixelRect(x: x, y: y, width: w, height: h), confidence: conf)
  }

  static let parse = ScreenParse(area: PixelRect(x: 0, y: 0, width: 800, height: 600), elements: [
    ScreenElement(id: 1, kind: .text, text: "File Edit View", box: PixelRect(x: 0, y: 0, width: 200, height: 20), confidence: 90),
    word(2, "File", x: 4, y: 3), word(3, "Edit", x: 60, y: 3), word(4, "View", x: 120, y: 3),
    // Loose words (no text line holds them): "Save As...", "Cancal" (misread) far right of it.
    word(5, "Save", x: 300, y: 400, conf: 80), word(6, "As...", x: 345, y: 401),
    word(7, "Cancal", x: 500, y: 400, w: 60),
    word(8, "Save", x: 300, y: 500, conf: 95),
  ], milliseconds: 1)

  @Test func groupsWordsIntoLines() {
    let lines = TextMatch.lines(Self.parse)
    // "Cancal" lies eight word-heights right of "As...": a separate element, not the same line.
    #expect(lines.map { $0.map(\.text) } == [["File", "Edit", "View"], ["Save", "As..."], ["Cancal"], ["Save"]])
  }

  @Test func findsRunsAcrossWordsAndIgnoresCaseAndPunctuation() throws {
    let c = TextMatch.candidates(for: "save as", in: TextMatch.lines(Self.parse))
    let best = try #require(c.first)
    #expect(best.text == "Save As...")
    #expect(best.distance == 0)
    #expect(best.box == PixelRect(x: 300, y: 400, width: 85, height: 15))
  }

  @Test func allowsEditsByLength() {
    let lines = TextMatch.lines(Self.parse)
    // Six letters: one edit allowed, so the misread "Cancal" still matches.
    #expect(TextMatch.candidates(for: "Cancel", in: lines).map(\.text) == ["Cancal"])
    // Three letters: none allowed.
    #expect(TextMatch.candidates(for: "Vew", in: lines).isEmpty)
    #expect(TextMatch.editDistance("kitten", "sitting") == 3)
  }

  @Test func ranksExactThenConfidence() {
    let c = TextMatch.candidates(for: "Save", in: TextMatch.lines(Self.parse))
    // Both "Save" words match exactly; the surer one (95) comes first. The run "Save As..."
    // overlaps the first and is not listed apart.
    #expect(c.map(\.box.y) == [500, 400])
  }

  @Test func instructionTriesLabelsInTurn() {
    let c = TextMatch.candidates(forInstruction: "open the Edit menu", in: Self.parse)
    #expect(c.first?.text == "Edit")
    #expect(TextMatch.candidates(forInstruction: "the red circle icon", in: Self.parse).isEmpty)
  }
}

/// A parser that reads a fixed parse (the text matching and caching are under test, not OCR).
final class FixedParser: ScreenParser {
  let result: ScreenParse
  var calls = 0
  init(_ result: ScreenParse) { self.result = result }
  var name: String { "fixed" }
  func parse(_ screenshot: RGBImage, area: PixelRect) throws -> ScreenParse {
    calls += 1
    var r = result
    r.area = area
    for i in r.elements.indices { r.elements[i].box.x += area.x; r.elements[i].box.y += area.y }
    return r
  }
}

@Suite struct OCRGrounderTests {
  @Test func groundsOnTextAndParsesEachScreenOnce() throws {
    let parser = FixedParser(TextMatchTests.parse)
    let g = OCRGrounder(parser: parser)
    let image = try RGBImage(width: 800, height: 600)
    let r = try g.ground(image: image, instruction: "click Save As")
    #expect(r.method == .ocr)
    #expect(r.point == ScreenPoint(x: 342, y: 407))
    let again = try g.ground(image: image, instruction: "the Edit menu", origin: .zero)
    #expect(again.point == ScreenPoint(x: 80, y: 10))
    #expect(parser.calls == 1)
    #expect(again.timings["ocr"] == 0)
    // Another screen (other pixels) is parsed afresh.
    _ = try g.ground(image: try RGBImage(width: 800, height: 600, fill: RGB(1, 2, 3)), instruction: "Edit")
    #expect(parser.calls == 2)
  }

  @Test func addsTheCaptureOrigin() throws {
    let g = OCRGrounder(parser: FixedParser(TextMatchTests.parse))
    let r = try g.ground(image: try RGBImage(width: 800, height: 600), instruction: "Edit", origin: ScreenPoint(x: 1920, y: 0))
    #expect(r.point == ScreenPoint(x: 2000, y: 10))
  }

  @Test func theModelChoosesOnlyAmongTheClosestMatches() {
    let parse = ScreenParse(area: PixelRect(x: 0, y: 0, width: 400, height: 300), elements: [
      TextMatchTests.word(1, "Entry", x: 10, y: 10), TextMatchTests.word(2, "1", x: 60, y: 10, w: 8),
      TextMatchTests.word(3, "Entry", x: 10, y: 50), TextMatchTests.word(4, "2", x: 60, y: 50, w: 8),
      TextMatchTests.word(5, "Entry", x: 10, y: 90),
    ], milliseconds: 0)
    let all = TextMatch.candidates(forInstruction: "the text Entry 2", in: parse)
    #expect(all.count == 3)
    #expect(OCRGrounder.closest(all).map(\.text) == ["Entry 2"])
  }

  @Test func noMatchIsNotFoundWithTheLabelsTried() throws {
    let g = OCRGrounder(parser: FixedParser(TextMatchTests.parse))
    let r = try g.ground(image: try RGBImage(width: 800, height: 600), instruction: "the gear icon")
    #expect(r.point == nil)
    #expect(r.noCoordinate == .noTextMatch(labels: ["gear", "the gear icon"]))
  }
}

@Suite struct FieldBesideTests {
  @Test(arguments: [
    ("the Name field", true), ("type in the Name field", true), ("Email address field", true),
    ("the Group combo box", true), ("the Password box", true), ("the field showing alice", false),
    ("the Save button", false), ("Name", false),
  ])
  func namesField(instruction: String, expected: Bool) {
    #expect(FieldBeside.namesField(instruction) == expected)
  }

  /// A grey window with a white field (border 1 px, dark) from x = 150 to 300 at rows 40...60.
  static func form() throws -> RGBImage {
    var image = try RGBImage(width: 400, height: 100, fill: RGB(220, 220, 220))
    for y in 40...60 {
      for x in 150...300 {
        let border = x == 150 || x == 300 || y == 40 || y == 60
        let c: UInt8 = border ? 90 : 255
        let i = 3 * (y * image.width + x)
        image.pixels[i] = c; image.pixels[i + 1] = c; image.pixels[i + 2] = c
      }
    }
    return image
  }

  @Test func clicksInsideTheFieldRightOfTheLabel() throws {
    let label = PixelRect(x: 100, y: 44, width: 40, height: 14)
    let p = try #require(FieldBeside.point(rightOf: label, in: try Self.form(), origin: .zero))
    #expect(p == ScreenPoint(x: 162, y: 51))
    // With the capture's origin the same field, in screen pixels.
    let shifted = PixelRect(x: 1100, y: 544, width: 40, height: 14)
    #expect(FieldBeside.point(rightOf: shifted, in: try Self.form(), origin: ScreenPoint(x: 1000, y: 500))
            == ScreenPoint(x: 1162, y: 551))
  }

  @Test func noFieldWithinTheGap() throws {
    // The label's row right of x = 20 is plain window up to the field at 150: more than 64 px.
    #expect(FieldBeside.point(rightOf: PixelRect(x: 10, y: 44, width: 10, height: 14), in: try Self.form(), origin: .zero) == nil)
    // A label on another row has no field beside it.
    #expect(FieldBeside.point(rightOf: PixelRect(x: 100, y: 5, width: 40, height: 14), in: try Self.form(), origin: .zero) == nil)
  }

  @Test func groundsTheFieldNotTheLabel() throws {
    let parse = ScreenParse(area: PixelRect(x: 0, y: 0, width: 400, height: 100), elements: [
      ScreenElement(id: 1, kind: .word, text: "Name", box: PixelRect(x: 100, y: 44, width: 40, height: 14), confidence: 95),
    ], milliseconds: 0)
    let g = OCRGrounder(parser: FixedParser(parse))
    #expect(try g.ground(image: try Self.form(), instruction: "the Name field").point == ScreenPoint(x: 162, y: 51))
    #expect(try g.ground(image: try Self.form(), instruction: "Name").point == ScreenPoint(x: 120, y: 51))
  }
}
