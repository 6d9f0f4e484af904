import CTesseract
import Engine
import Foundation
import Imaging

// MARK: - Options

/// How Tesseract splits a page into text before reading it (its `--psm`).
public enum PageSegmentation: String, Sendable, Codable, CaseIterable {
  /// Fully automatic layout analysis (psm 3): columns and paragraphs, as on a document.
  case auto
  /// One uniform block of text (psm 6).
  case block
  /// As much text as possible in no particular order (psm 11): UI labels scattered over a screen.
  case sparse

  var tesseractMode: TessPageSegMode {
    switch self {
    case .auto: PSM_AUTO
    case .block: PSM_SINGLE_BLOCK
    case .sparse: PSM_SPARSE_TEXT
    }
  }
}

/// Which elements ``TesseractParser/parse(_:area:)`` lists.
public enum TextLevel: String, Sendable, Codable, CaseIterable {
  /// Text lines (kind `.text`).
  case lines
  /// Single words (kind `.word`).
  case words
  /// Each line followed by its words.
  case linesAndWords = "lines+words"
}

/// A word read by OCR, in screen pixels.
public struct TextWord: Sendable, Equatable, Codable {
  public var text: String
  public var box: PixelRect
  /// 0...100.
  public var confidence: Double
}

/// A line of text read by OCR and the words on it, in screen pixels and reading order.
public struct TextLine: Sendable, Equatable, Codable {
  public var text: String
  public var box: PixelRect
  /// 0...100.
  public var confidence: Double
  public var words: [TextWord]
}

// MARK: - Parser

/// Reads the text of a screenshot with Tesseract: lines and words with their boxes in screen pixels.
///
/// Screen text is small (12 to 15 pixels high at 96 dpi) and Tesseract reads it better enlarged,
/// so the screenshot is upscaled by ``Options/scale`` first and the boxes are scaled back exactly
/// (docs/screen-parsing.md: scale 2 measured on real GTK screenshots).
/// One engine per parser: not thread-safe, use one parser per thread.
public final class TesseractParser: ScreenParser {
  public struct Options: Sendable, Hashable {
    /// Tesseract language(s): `eng`, or several joined with `+` (`eng+deu`).
    public var language: String
    /// Upscaling before OCR, 1...4 (1: none).
    public var scale: Double
    public var pageSegmentation: PageSegmentation
    /// What `parse` lists; ``TesseractParser/readLines(_:area:)`` always gives lines with their words.
    public var level: TextLevel
    /// The tessdata folder; nil: `TESSDATA_PREFIX`, then Debian's /usr/share/tesseract-ocr/5/tessdata.
    public var dataPath: String?
    /// Resolution of the screenshot's text, in pixels per inch (before upscaling).
    public var ppi: Int

    public init(language: String = "eng", scale: Double = TesseractParser.defaultScale,
                pageSegmentation: PageSegmentation = .sparse, level: TextLevel = .lines,
                dataPath: String? = nil, ppi: Int = 96) {
      self.language = language
      self.scale = scale
      self.pageSegmentation = pageSegmentation
      self.level = level
      self.dataPath = dataPath
      self.ppi = ppi
    }
  }

  public static let defaultScale = 2.0
  /// Tesseract's image side limit (its Pix dimensions are checked against it).
  static let maxSide = 32_767

  public let options: Options
  public let name: String
  private let engine: TesseractEngine

  /// Loads the engine. Throws ``GroundingError/ocrDataMissing(language:searched:)`` when no
  /// tessdata folder holds the language, ``GroundingError/ocrLanguageUnavailable(language:dataPath:)``
  /// when Tesseract cannot load it, ``GroundingError/invalidArgument(_:)`` for a bad option.
  public init(options: Options = Options(),
              environment: [String: String] = ProcessInfo.processInfo.environment) throws(GroundingError) {
    guard options.scale.isFinite, (1...4).contains(options.scale) else {
      throw .invalidArgument("OCR scale \(options.scale) is outside 1...4")
    }
    guard (30...1200).contains(options.ppi) else { throw .invalidArgument("OCR ppi \(options.ppi) is outside 30...1200") }
    let folder = try Tessdata.folder(for: options.language, given: options.dataPath, environment: environment)
    engine = try TesseractEngine(dataPath: folder, language: options.language)
    self.options = options
    name = "tesseract \(TesseractEngine.version) \(options.language)"
  }

  public func parse(_ screenshot: RGBImage, area: PixelRect) throws -> ScreenParse {
    let clock = ContinuousClock()
    let t0 = clock.now
    let lines = try readLines(screenshot, area: area)
    var elements: [ScreenElement] = []
    func add(_ kind: ScreenElement.Kind, _ text: String, _ box: PixelRect, _ confidence: Double) {
      elements.append(ScreenElement(id: elements.count + 1, kind: kind, text: text, box: box, confidence: confidence))
    }
    for line in lines {
      if options.level != .words { add(.text, line.text, line.box, line.confidence) }
      if options.level != .lines { for w in line.words { add(.word, w.text, w.box, w.confidence) } }
    }
    return ScreenParse(area: area, elements: elements, milliseconds: (clock.now - t0).milliseconds)
  }

  /// The screenshot's text lines with their words, boxes in screen pixels (`area`'s offset added).
  /// Words and lines whose text is only whitespace are left out.
  public func readLines(_ screenshot: RGBImage, area: PixelRect) throws(GroundingError) -> [TextLine] {
    guard screenshot.width > 0, screenshot.height > 0 else { return [] }
    let map = BoxMap(sourceWidth: screenshot.width, sourceHeight: screenshot.height, scale: options.scale,
                     origin: ScreenPoint(x: area.x, y: area.y))
    guard map.scaledWidth <= Self.maxSide, map.scaledHeight <= Self.maxSide else {
      throw .imageTooLarge(width: map.scaledWidth, height: map.scaledHeight)
    }
    let input: RGBImage
    do {
      input = map.scaledWidth == screenshot.width && map.scaledHeight == screenshot.height
        ? screenshot : try screenshot.resized(width: map.scaledWidth, height: map.scaledHeight, filter: .bicubic)
    } catch {
      throw .imaging(error)
    }
    let ppi = Int((Double(options.ppi) * Double(map.scaledWidth) / Double(screenshot.width)).rounded())
    let recognized = try engine.recognize(input, ppi: ppi, pageSegmentation: options.pageSegmentation.tesseractMode)
    return recognized.compactMap { r -> TextLine? in
      let words = r.words.filter { !$0.text.isEmpty }.map {
        TextWord(text: $0.text, box: map.screenRect($0), confidence: $0.confidence)
      }
      guard !words.isEmpty else { return nil }
      let text = r.line.text.isEmpty ? words.map(\.text).joined(separator: " ") : r.line.text
      return TextLine(text: text, box: map.screenRect(r.line), confidence: r.line.confidence, words: words)
    }
  }
}

/// Maps boxes on the upscaled image back to screen pixels: the smallest screen rectangle that
/// covers the scaled box (left and top rounded down, right and bottom up), clamped to the image.
struct BoxMap {
  let sourceWidth: Int, sourceHeight: Int
  let scaledWidth: Int, scaledHeight: Int
  let origin: ScreenPoint

  init(sourceWidth: Int, sourceHeight: Int, scale: Double, origin: ScreenPoint) {
    self.sourceWidth = sourceWidth
    self.sourceHeight = sourceHeight
    scaledWidth = max(1, Int((Double(sourceWidth) * scale).rounded()))
    scaledHeight = max(1, Int((Double(sourceHeight) * scale).rounded()))
    self.origin = origin
  }

  /// Integer arithmetic on the exact ratio scaled/source, so integer scales map back without rounding error.
  func screenRect(_ r: RecognizedText) -> PixelRect {
    func down(_ v: Int, _ source: Int, _ scaled: Int) -> Int { min(source, max(0, v * source / scaled)) }
    func up(_ v: Int, _ source: Int, _ scaled: Int) -> Int { min(source, max(0, (v * source + scaled - 1) / scaled)) }
    let x0 = down(r.left, sourceWidth, scaledWidth), x1 = up(r.right, sourceWidth, scaledWidth)
    let y0 = down(r.top, sourceHeight, scaledHeight), y1 = up(r.bottom, sourceHeight, scaledHeight)
    return PixelRect(x: origin.x + x0, y: origin.y + y0, width: max(0, x1 - x0), height: max(0, y1 - y0))
  }
}
