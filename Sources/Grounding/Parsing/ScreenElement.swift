import Foundation
import Imaging

// MARK: - A structured reading of the screen

/// One element found on the screen: a line or word of text (from OCR), with its box.
///
/// Boxes are in screen pixels: a parse of one monitor's capture adds that monitor's offset, so a
/// box can be clicked as it is.
public struct ScreenElement: Sendable, Equatable, Codable {
  /// What the element is. OCR gives text lines (words joined by the engine's layout analysis).
  public enum Kind: String, Sendable, Codable {
    case text
    case word
  }

  /// 1-based; the number drawn beside the box in an annotated screenshot (set-of-marks).
  public var id: Int
  public var kind: Kind
  public var text: String
  public var box: PixelRect
  /// 0...100, as the OCR engine reports it.
  public var confidence: Double

  public init(id: Int, kind: Kind, text: String, box: PixelRect, confidence: Double) {
    self.id = id
    self.kind = kind
    self.text = text
    self.box = box
    self.confidence = confidence
  }

  /// The box's centre, where a click on the element goes.
  public var center: ScreenPoint { ScreenPoint(x: box.x + box.width / 2, y: box.y + box.height / 2) }
}

/// Everything a parser read from one screenshot.
public struct ScreenParse: Sendable, Equatable, Codable {
  /// The screen area the screenshot covers, in screen pixels (a monitor's rectangle, or the
  /// root window's at (0, 0)).
  public var area: PixelRect
  public var elements: [ScreenElement]
  /// Wall-clock time of the parse.
  public var milliseconds: Double

  public init(area: PixelRect, elements: [ScreenElement], milliseconds: Double) {
    self.area = area
    self.elements = elements
    self.milliseconds = milliseconds
  }

  /// The element list as a planner's prompt shows it: one line per element,
  /// `[3] "Save" at (412, 300) 64x22`.
  public func promptLines(limit: Int = 200) -> String {
    elements.prefix(limit).map { e in
      let text = e.text.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\"", with: "'")
      return "[\(e.id)] \"\(text)\" at (\(e.center.x), \(e.center.y)) \(e.box.width)x\(e.box.height)"
    }.joined(separator: "\n")
  }
}

/// Reads a screenshot into elements (OCR today).
///
/// `area` is where the screenshot lies on the screen (a monitor's rectangle, or the root window's
/// at (0, 0)); element boxes come back in screen pixels. Not required to be thread-safe: one
/// parser per thread.
public protocol ScreenParser: AnyObject {
  /// A short name for records (`"tesseract 5.3.0 eng"`).
  var name: String { get }
  func parse(_ screenshot: RGBImage, area: PixelRect) throws -> ScreenParse
}
