import Foundation
import Imaging

/// What is drawn over a step's screenshot in the HTML export: an SVG whose viewBox is the
/// screenshot's own size, so marks sit on exact screen pixels whatever size the page shows the
/// image at, and no annotated copy of the PNG is stored. The trace viewer (Service's
/// ViewerPage) draws the same marks with the same classes and this CSS.
///
/// Drawn: the grounding region (the box the element was found in) as a dashed rectangle, and
/// over it the grounded point (where the pointer action landed) as a circle with a crosshair.
/// A drag's end point is not recorded by the store, so it is not drawn.
public enum StepOverlay {
  /// The overlay for a `width`×`height` screenshot, or "" when there is nothing to draw.
  static func svg(point: GroundedPoint?, box: PixelRect? = nil, width: Int, height: Int) -> String {
    guard point != nil || box != nil, width > 0, height > 0 else { return "" }
    let label = [point.map(clickText), box.map(regionText)].compactMap { $0 }.joined(separator: ", ")
    return "<svg class=\"overlay\" viewBox=\"0 0 \(width) \(height)\" preserveAspectRatio=\"none\" "
      + "xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"\(label)\">"
      + (box.map(region) ?? "") + (point.map { click($0, radius: markRadius(width: width, height: height)) } ?? "")
      + "</svg>"
  }

  /// The legend under the screenshot: what the marks mean, with their coordinates.
  static func legend(point: GroundedPoint?, box: PixelRect? = nil) -> String {
    (point.map { "<p class=\"legend\"><span class=\"key click\"></span>\(clickText($0)) screen pixels</p>" } ?? "")
      + (box.map { "<p class=\"legend\"><span class=\"key region\"></span>\(regionText($0)) screen pixels</p>" } ?? "")
  }

  /// A circle about 1/70 of the larger side (18 px on a 1280-wide screen), at least 6 px.
  static func markRadius(width: Int, height: Int) -> Double { max(6, (Double(max(width, height)) / 70).rounded()) }

  private static func clickText(_ p: GroundedPoint) -> String { "click at (\(formatNumber(p.x)), \(formatNumber(p.y)))" }

  private static func regionText(_ b: PixelRect) -> String { "grounding region \(b.width) x \(b.height) at (\(b.x), \(b.y))" }

  private static func click(_ p: GroundedPoint, radius r: Double) -> String {
    let x = formatNumber(p.x), y = formatNumber(p.y)
    let arm = formatNumber(2 * r), gap = formatNumber(r / 2)
    // Two strokes each: a white halo under the colour keeps the mark visible on any background.
    let cross = ["M\(x) \(y)m-\(arm) 0h\(formatNumber(2 * r - r / 2))", "M\(x) \(y)m\(gap) 0h\(formatNumber(2 * r - r / 2))",
                 "M\(x) \(y)m0 -\(arm)v\(formatNumber(2 * r - r / 2))", "M\(x) \(y)m0 \(gap)v\(formatNumber(2 * r - r / 2))"]
      .joined(separator: "")
    return "<g class=\"click\" data-x=\"\(x)\" data-y=\"\(y)\">"
      + "<circle cx=\"\(x)\" cy=\"\(y)\" r=\"\(formatNumber(r))\" class=\"halo\"/><path d=\"\(cross)\" class=\"halo\"/>"
      + "<circle cx=\"\(x)\" cy=\"\(y)\" r=\"\(formatNumber(r))\" class=\"ink\"/><path d=\"\(cross)\" class=\"ink\"/>"
      + "</g>"
  }

  /// The region's rectangle on its exact pixels: x, y is its top-left pixel, width × height
  /// pixels from there, as the grounder reported it.
  private static func region(_ b: PixelRect) -> String {
    let rect = "x=\"\(b.x)\" y=\"\(b.y)\" width=\"\(b.width)\" height=\"\(b.height)\""
    return "<g class=\"region\" data-x=\"\(b.x)\" data-y=\"\(b.y)\" data-w=\"\(b.width)\" data-h=\"\(b.height)\">"
      + "<rect \(rect) class=\"halo\"/><rect \(rect) class=\"ink\"/></g>"
  }

  /// The overlay's CSS: the SVG laid over the image, strokes a fixed width on the page; the
  /// region dashed and in another colour, so it reads apart from the click.
  public static let css = """
    .overlay{position:absolute;inset:0;width:100%;height:100%;pointer-events:none;overflow:visible}
    .overlay .halo,.overlay .ink{fill:none;vector-effect:non-scaling-stroke}
    .overlay .halo{stroke:#fff;stroke-width:5}.overlay .ink{stroke:#e0245e;stroke-width:2.5}
    .overlay .region .halo{stroke-width:4}.overlay .region .ink{stroke:#1a73e8;stroke-width:2;stroke-dasharray:6 4}
    .legend{font-size:12px;color:#555;margin:.3rem 0}.key{display:inline-block;width:10px;height:10px;margin-right:.4rem;border-radius:50%}
    .key.click{border:2px solid #e0245e}.key.region{border:2px dashed #1a73e8;border-radius:0}
    """
}
