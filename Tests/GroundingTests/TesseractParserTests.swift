import Foundation
import Imaging
import Testing
@testable import Grounding

/// Tesseract on a real Tk window (the screenspot-mini fixture, boxes from Tk's own geometry), the
/// box arithmetic of upscaling, and the errors for missing language data.
@Suite struct TesseractParserTests {
  static func settingsWindow() throws -> RGBImage {
    let url = try #require(Bundle.module.url(forResource: "tk_settings", withExtension: "png", subdirectory: "Fixtures/screenspot-mini"))
    return try PNG.read(path: url.path)
  }

  /// Tk's geometry of the two buttons in tk_settings.png (screenspot_mini.json).
  static let save = PixelRect(x: 420, y: 420, width: 102, height: 31)
  static let cancel = PixelRect(x: 525, y: 420, width: 102, height: 31)

  static func whole(_ image: RGBImage) -> PixelRect { PixelRect(x: 0, y: 0, width: image.width, height: image.height) }

  @Test func readsTheTkWindowWithBoxesInsideTheWidgets() throws {
    let image = try Self.settingsWindow()
    let parse = try TesseractParser().parse(image, area: Self.whole(image))
    let texts = parse.elements.map(\.text)
    // A checkbox's box is read as a letter or sign before its label ("¥ Dark mode"): contained, not equal.
    for expected in ["Preferences", "Display name:", "Enable notifications", "Dark mode", "Save", "Cancel"] {
      #expect(texts.contains { $0.contains(expected) }, "'\(expected)' not read; read \(texts)")
    }
    #expect(parse.elements.map(\.id) == Array(1...parse.elements.count))
    #expect(parse.elements.allSatisfy { $0.kind == .text && (0...100).contains($0.confidence) })
    let save = try #require(parse.elements.first { $0.text == "Save" })
    let cancel = try #require(parse.elements.first { $0.text == "Cancel" })
    #expect(Self.save.covers(save.box), "Save at \(save.box)")
    #expect(Self.cancel.covers(cancel.box), "Cancel at \(cancel.box)")
    #expect(parse.area == Self.whole(image))
  }

  /// Every scale reads the buttons inside their widgets: boxes on the upscaled image come back to
  /// screen pixels. (At scale 1 the two buttons' words make one line, "Save Cancel": words, not lines.)
  @Test(arguments: [1.0, 1.5, 2.0, 3.0])
  func boxesComeBackFromEveryScale(scale: Double) throws {
    let image = try Self.settingsWindow()
    let parser = try TesseractParser(options: .init(scale: scale))
    let words = try parser.readLines(image, area: Self.whole(image)).flatMap(\.words)
    let save = try #require(words.first { $0.text == "Save" }, "read \(words.map(\.text))")
    let cancel = try #require(words.first { $0.text == "Cancel" }, "read \(words.map(\.text))")
    #expect(Self.save.covers(save.box), "Save at \(save.box) with scale \(scale)")
    #expect(Self.cancel.covers(cancel.box), "Cancel at \(cancel.box) with scale \(scale)")
  }

  @Test func boxArithmeticIsExact() {
    // Scale 2: left/top halve down, right/bottom halve up.
    let twice = BoxMap(sourceWidth: 640, sourceHeight: 480, scale: 2, origin: .zero)
    #expect(twice.scaledWidth == 1280 && twice.scaledHeight == 960)
    #expect(twice.screenRect(RecognizedText(text: "", left: 21, top: 10, right: 43, bottom: 31, confidence: 0))
            == PixelRect(x: 10, y: 5, width: 12, height: 11))
    // A box scaled up by an integer factor maps back to itself, at any offset.
    for s in 1...4 {
      let map = BoxMap(sourceWidth: 300, sourceHeight: 200, scale: Double(s), origin: ScreenPoint(x: 1920, y: -40))
      let r = RecognizedText(text: "", left: 17 * s, top: 33 * s, right: 95 * s, bottom: 51 * s, confidence: 0)
      #expect(map.screenRect(r) == PixelRect(x: 1937, y: -7, width: 78, height: 18))
    }
    // 1.5 (640 -> 960): the smallest covering rectangle, clamped to the image.
    let half = BoxMap(sourceWidth: 640, sourceHeight: 480, scale: 1.5, origin: .zero)
    #expect(half.screenRect(RecognizedText(text: "", left: 15, top: 0, right: 31, bottom: 720, confidence: 0))
            == PixelRect(x: 10, y: 0, width: 11, height: 480))
  }

  @Test func areaOffsetIsAddedToEveryBox() throws {
    let image = try Self.settingsWindow()
    let parser = try TesseractParser()
    let atOrigin = try parser.parse(image, area: Self.whole(image))
    let area = PixelRect(x: 1925, y: 300, width: image.width, height: image.height)
    let moved = try parser.parse(image, area: area)
    #expect(moved.area == area)
    #expect(moved.elements.map(\.text) == atOrigin.elements.map(\.text))
    #expect(!moved.elements.isEmpty)
    for (a, b) in zip(atOrigin.elements, moved.elements) {
      #expect(b.box == PixelRect(x: a.box.x + 1925, y: a.box.y + 300, width: a.box.width, height: a.box.height))
    }
  }

  @Test func wordsAndLinesAreNumberedInOrder() throws {
    let image = try Self.settingsWindow()
    let words = try TesseractParser(options: .init(level: .words)).parse(image, area: Self.whole(image))
    #expect(words.elements.allSatisfy { $0.kind == .word && !$0.text.contains(" ") && !$0.text.isEmpty })
    #expect(words.elements.contains { $0.text == "notifications" })
    let both = try TesseractParser(options: .init(level: .linesAndWords)).parse(image, area: Self.whole(image))
    #expect(both.elements.map(\.id) == Array(1...both.elements.count))
    // Each line is followed by its words, which spell it.
    var i = 0
    while i < both.elements.count {
      let line = both.elements[i]
      #expect(line.kind == .text)
      var words: [String] = []
      i += 1
      while i < both.elements.count, both.elements[i].kind == .word { words.append(both.elements[i].text); i += 1 }
      #expect(words.joined(separator: " ") == line.text)
    }
  }

  @Test func blankScreenHasNoElements() throws {
    let blank = try RGBImage(width: 320, height: 200, fill: RGB(240, 240, 240))
    #expect(try TesseractParser().parse(blank, area: Self.whole(blank)).elements.isEmpty)
  }

  @Test func missingLanguageDataNamesWhereItLooked() throws {
    let empty = FileManager.default.temporaryDirectory.appendingPathComponent("tessdata-empty-\(getpid())")
    try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: empty) }
    #expect(throws: GroundingError.ocrDataMissing(language: "eng", searched: [empty.path])) {
      try TesseractParser(options: .init(dataPath: empty.path))
    }
    let message = GroundingError.ocrDataMissing(language: "eng", searched: [empty.path]).localizedDescription
    #expect(message.contains(empty.path) && message.contains("TESSDATA_PREFIX") && message.contains("tesseract-ocr-eng"))
    // TESSDATA_PREFIX is searched first, then the standard folders.
    let error = #expect(throws: GroundingError.self) {
      try TesseractParser(options: .init(language: "zzz"), environment: ["TESSDATA_PREFIX": empty.path])
    }
    guard case let .ocrDataMissing(language, searched)? = error else {
      Issue.record("expected ocrDataMissing, got \(String(describing: error))")
      return
    }
    #expect(language == "zzz")
    #expect(searched.first == empty.path && searched.contains(Tessdata.standardFolders[0]))
  }

  @Test func prefixFolderWinsAndBadDataIsAnError() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tessdata-bad-\(getpid())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    try Data(repeating: 0x5A, count: 4096).write(to: folder.appendingPathComponent("bad.traineddata"))
    #expect(try Tessdata.folder(for: "bad", environment: ["TESSDATA_PREFIX": folder.path]) == folder.path)
    #expect(throws: GroundingError.ocrLanguageUnavailable(language: "bad", dataPath: folder.path)) {
      try TesseractParser(options: .init(language: "bad", dataPath: folder.path))
    }
  }

  @Test func badOptionsAreRejected() {
    for language in ["../eng", "eng+", "", "en g"] {
      #expect(throws: GroundingError.self) { try TesseractParser(options: .init(language: language)) }
    }
    #expect(throws: GroundingError.invalidArgument("OCR scale 5.0 is outside 1...4")) { try TesseractParser(options: .init(scale: 5)) }
  }
}

extension PixelRect {
  /// Whether `other` lies inside this rectangle grown by 2 pixels on every side (glyph edges that
  /// the upscale spreads).
  func covers(_ other: PixelRect) -> Bool {
    other.x >= x - 2 && other.y >= y - 2 && other.x + other.width <= x + width + 2 && other.y + other.height <= y + height + 2
  }
}
