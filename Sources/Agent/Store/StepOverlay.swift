import Foundation

/// What is drawn over a step's screenshot in the HTML export: an SVG whose viewBox is the
/// screenshot's own size, so marks sit on exact screen pixels whatever size the page shows the
/// image at, and no annotated copy of the PNG is stored. The trace viewer (Service's
/// ViewerPage) draws the same marks with the same classes and this CSS.
///
/// Drawn: the grounded point (where the pointer action landed) as a circle with a crosshair.
/// A drag's end point and the grounding model's region are not recorded by the store, so they
/// are not drawn.
public enum StepOverlay {
  /// The overlay for a `width`×`height` screenshot, or "" when there is nothing to draw.
  static func svg(point: GroundedPoint?, width: Int, height: Int) -> String {
    guard let p = point, width > 0, height > 0 else { return "" }
    let r = markRadius(width: width, height: height)
    let x = formatNumber(p.x), y = formatNumber(p.y)
    let arm = formatNumber(2 * r), gap = formatNumber(r / 2)
    // Two strokes each: a white halo under the colour keeps the mark visible on any background.
    let cross = ["M\(x) \(y)m-\(arm) 0h\(formatNumber(2 * r - r / 2))", "M\(x) \(y)m\(gap) 0h\(formatNumber(2 * r - r / 2))",
                 "M\(x) \(y)m0 -\(arm)v\(formatNumber(2 * r - r / 2))", "M\(x) \(y)m0 \(gap)v\(formatNumber(2 * r - r / 2))"]
      .joined(separator: "")
    return "<svg class=\"overlay\" viewBox=\"0 0 \(width) \(height)\" preserveAspectRatio=\"none\" "
      + "xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"click at (\(x), \(y))\">"
      + "<g class=\"click\" data-x=\"\(x)\" data-y=\"\(y)\">"
      + "<circle cx=\"\(x)\" cy=\"\(y)\" r=\"\(formatNumber(r))\" class=\"halo\"/><path d=\"\(cross)\" class=\"halo\"/>"
      + "<circle cx=\"\(x)\" cy=\"\(y)\" r=\"\(formatNumber(r))\" class=\"ink\"/><path d=\"\(cross)\" class=\"ink\"/>"
      + "</g></svg>"
  }

  /// The legend under the screenshot: what the marks mean, with the click's coordinates.
  static func legend(point: GroundedPoint?) -> String {
    guard let p = point else { return "" }
    return "<p class=\"legend\"><span class=\"key click\"></span>click at (\(formatNumber(p.x)), \(formatNumber(p.y))) "
      + "screen pixels</p>"
  }

  /// A circle about 1/70 of the larger side (18 px on a 1280-wide screen), at least 6 px.
  static func markRadius(width: Int, height: Int) -> Double { max(6, (Double(max(width, height)) / 70).rounded()) }

  /// The overlay's CSS: the SVG laid over the image, strokes a fixed width on the page.
  public static let css = """
    .overlay{position:absolute;inset:0;width:100%;height:100%;pointer-events:none;overflow:visible}
    .overlay .halo,.overlay .ink{fill:none;vector-effect:non-scaling-stroke}
    .overlay .halo{stroke:#fff;stroke-width:5}.overlay .ink{stroke:#e0245e;stroke-width:2.5}
    .legend{font-size:12px;color:#555;margin:.3rem 0}.key{display:inline-block;width:10px;height:10px;margin-right:.4rem;border-radius:50%}
    .key.click{border:2px solid #e0245e}
    """
}
