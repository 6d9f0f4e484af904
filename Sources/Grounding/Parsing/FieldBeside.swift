import Imaging

// MARK: - From a field's label to the field
//
// "the Name field" names an input box by the label beside it; OCR finds the label, and a click
// on the label misses the box. Forms put labels left of their fields, a short gap apart, so the
// field starts at the first colour edge right of the label on the label's middle row.

enum FieldBeside {
  /// Role nouns of input elements named by their label.
  static let nouns = ["field", "box", "text field", "text box", "input field", "entry", "dropdown", "combo box"]

  /// Whether the instruction names an input by its label ("the Name field", "type in the Name
  /// box"), not by the value it shows ("the field showing Name").
  static func namesField(_ instruction: String) -> Bool {
    let s = instruction.split(whereSeparator: \.isWhitespace).joined(separator: " ").lowercased()
    guard !s.hasPrefix("the field showing") else { return false }
    return nouns.contains { s.hasSuffix(" " + $0) }
  }

  /// Largest gap between a label and its field, in pixels.
  static let maxGap = 64
  /// Pixels inside the field's left edge where the click goes (past a border of a few pixels).
  static let inset = 12
  /// Summed |dR|+|dG|+|dB| that counts as an edge.
  static let edge = 48

  /// The point just inside the field that starts right of `label` (screen pixels; the image's
  /// top-left at `origin`), or nil when no edge lies within `maxGap` pixels.
  static func point(rightOf label: PixelRect, in image: RGBImage, origin: ScreenPoint) -> ScreenPoint? {
    let y = label.y + label.height / 2 - origin.y
    let start = label.x + label.width - origin.x + 1
    guard y >= 0, y < image.height, start >= 0, start < image.width else { return nil }
    func rgb(_ x: Int) -> (Int, Int, Int) {
      let i = 3 * (y * image.width + x)
      return (Int(image.pixels[i]), Int(image.pixels[i + 1]), Int(image.pixels[i + 2]))
    }
    let background = rgb(start)
    for x in (start + 1)..<min(image.width, start + maxGap) {
      let p = rgb(x)
      if abs(p.0 - background.0) + abs(p.1 - background.1) + abs(p.2 - background.2) >= edge {
        return ScreenPoint(x: min(image.width - 1, x + inset) + origin.x, y: y + origin.y)
      }
    }
    return nil
  }
}
