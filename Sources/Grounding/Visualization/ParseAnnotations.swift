import Imaging

// Set-of-marks: each element's box drawn on the screenshot with its number beside it, so that a
// person (or a model shown the picture) can name an element by its number.

extension ScreenParse {
  /// The colour of the boxes and of the number labels' background.
  public static let markColor = RGB(255, 0, 170)
  /// The colour of the numbers.
  public static let labelColor = RGB(255, 255, 255)

  /// `screenshot` (the one parsed, covering ``area``) with every element's box outlined just
  /// outside it and its id drawn above its top-left corner (inside when there is no room above).
  public func annotated(_ screenshot: RGBImage) -> RGBImage {
    var out = screenshot
    let scale = max(1, min(screenshot.width, screenshot.height) / 500)
    let thickness = max(1, scale - 1)
    for e in elements {
      // Outside the box, so the outline does not cover the glyphs' edges.
      let outline = PixelRect(x: e.box.x - area.x - thickness, y: e.box.y - area.y - thickness,
                              width: e.box.width + 2 * thickness, height: e.box.height + 2 * thickness)
      out.stroke(outline, color: Self.markColor, thickness: thickness)
      let label = String(e.id)
      let height = RGBImage.textSize(label, scale: scale).height
      // The label's background reaches `scale` pixels past its glyphs: flush above the outline.
      let above = outline.y - height - scale
      let y = above - scale >= 0 ? above : outline.y + thickness + scale
      out.drawText(label, x: max(scale, outline.x + scale), y: y, color: Self.labelColor, scale: scale, background: Self.markColor)
    }
    return out
  }
}
