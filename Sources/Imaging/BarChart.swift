/// A grouped bar chart of fractions drawn as an image: a title, a 0-100 % axis with grid lines,
/// one group of bars per category (one bar per series, its value printed above it) and, for more
/// than one series, a legend. Text is the 5x7 ``BitmapFont``, so labels are ASCII.
public struct BarChart: Sendable, Equatable {
  /// One set of bars, one value per category.
  public struct Series: Sendable, Equatable {
    public var name: String
    /// Fractions in [0, 1], one per category; nil draws no bar and "-" for the value.
    public var values: [Double?]
    public init(name: String, values: [Double?]) { self.name = name; self.values = values }
  }

  public var title: String
  public var categories: [String]
  public var series: [Series]
  /// Image height in pixels; the width follows from the number of bars and label widths.
  public var height = 440
  /// Categories that start a new part of the chart: a vertical rule is drawn before each.
  public var sectionStarts: Set<Int> = []

  public init(title: String, categories: [String], series: [Series]) {
    self.title = title; self.categories = categories; self.series = series
  }

  /// Series colours in order; more series than colours reuse them.
  public static let palette = [RGB(0x3b, 0x6e, 0xc8), RGB(0xe0, 0x7b, 0x22), RGB(0x2e, 0x9e, 0x5b), RGB(0xc8, 0x3b, 0x4a),
                               RGB(0x7d, 0x4f, 0xc0), RGB(0x1f, 0x9a, 0xa8), RGB(0x8c, 0x6d, 0x46), RGB(0x6b, 0x74, 0x87)]
  public static let background = RGB(255, 255, 255)
  static let ink = RGB(0x1d, 0x23, 0x30), grid = RGB(0xe3, 0xe6, 0xec), axis = RGB(0x6b, 0x74, 0x87)

  public static func color(series index: Int) -> RGB { palette[index % palette.count] }

  // MARK: - Layout

  /// Where things go, in image pixels.
  public struct Layout: Sendable, Equatable {
    public let width: Int, height: Int
    /// The plotting area: its top edge is 100 %, its bottom edge (`plot.y + plot.height`) 0 %.
    public let plot: PixelRect
    let groupWidth: Int, barWidth: Int, seriesCount: Int, legendTop: Int

    /// The bar of `series` in `category` for `value` (its height is `value * plot.height`, rounded).
    public func bar(series: Int, category: Int, value: Double) -> PixelRect {
      let v = min(max(value.isFinite ? value : 0, 0), 1)
      let h = Int((v * Double(plot.height)).rounded())
      let groupLeft = plot.x + category * groupWidth + (groupWidth - seriesCount * barWidth) / 2
      return PixelRect(x: groupLeft + series * barWidth, y: plot.y + plot.height - h, width: barWidth - 2, height: h)
    }
  }

  /// Text scale for titles, axis and category labels; bar values use `valueScale`.
  static let labelScale = 2
  var valueScale: Int { series.count > 1 ? 1 : 2 }

  public var layout: Layout {
    let n = max(series.count, 1)
    let barWidth = n > 1 ? 36 : 68
    let widestLabel = categories.map { RGBImage.textSize($0, scale: Self.labelScale).width }.max() ?? 0
    let groupWidth = max(n * barWidth + 20, widestLabel + 16)
    let left = 70, right = 24
    let legendRows = series.count > 1 ? series.count : 0
    let legendTop = 46
    let top = legendTop + legendRows * 22 + 24
    let width = max(480, left + max(categories.count, 1) * groupWidth + right)
    let plotHeight = max(height - top - 44, 40)
    return Layout(width: width, height: top + plotHeight + 44,
                  plot: PixelRect(x: left, y: top, width: max(categories.count, 1) * groupWidth, height: plotHeight),
                  groupWidth: groupWidth, barWidth: barWidth, seriesCount: n, legendTop: legendTop)
  }

  // MARK: - Drawing

  /// The chart as an image.
  public func render() throws(ImagingError) -> RGBImage {
    let l = layout
    var image = try RGBImage(width: l.width, height: l.height, fill: Self.background)
    let plotBottom = l.plot.y + l.plot.height
    image.drawText(title, x: 16, y: 14, color: Self.ink, scale: Self.labelScale)
    for (i, s) in series.enumerated() where series.count > 1 {
      let y = l.legendTop + i * 22
      image.fill(PixelRect(x: 18, y: y, width: 14, height: 14), color: Self.color(series: i))
      image.drawText(s.name, x: 40, y: y, color: Self.ink, scale: Self.labelScale)
    }
    for step in 0...5 {
      let y = plotBottom - Int((Double(step) / 5 * Double(l.plot.height)).rounded())
      if step > 0 { image.drawLine(x0: l.plot.x, y0: y, x1: l.plot.x + l.plot.width, y1: y, color: Self.grid) }
      let label = "\(step * 20)%"
      let size = RGBImage.textSize(label, scale: Self.labelScale)
      image.drawText(label, x: l.plot.x - 8 - size.width, y: y - size.height / 2, color: Self.axis, scale: Self.labelScale)
    }
    for (c, name) in categories.enumerated() {
      if sectionStarts.contains(c), c > 0 {
        let x = l.plot.x + c * l.groupWidth
        image.drawLine(x0: x, y0: l.plot.y, x1: x, y1: plotBottom + 30, color: Self.axis)
      }
      for (s, one) in series.enumerated() {
        let value = c < one.values.count ? one.values[c] : nil
        let bar = l.bar(series: s, category: c, value: value ?? 0)
        if value != nil { image.fill(bar, color: Self.color(series: s)) }
        let text = value.map { String(format: "%.1f", $0 * 100) } ?? "-"
        let size = RGBImage.textSize(text, scale: valueScale)
        image.drawText(text, x: bar.x + (bar.width - size.width) / 2, y: bar.y - size.height - 4, color: Self.ink, scale: valueScale)
      }
      let size = RGBImage.textSize(name, scale: Self.labelScale)
      image.drawText(name, x: l.plot.x + c * l.groupWidth + (l.groupWidth - size.width) / 2, y: plotBottom + 12,
                     color: Self.ink, scale: Self.labelScale)
    }
    image.drawLine(x0: l.plot.x, y0: plotBottom, x1: l.plot.x + l.plot.width, y1: plotBottom, color: Self.axis)
    image.drawLine(x0: l.plot.x, y0: l.plot.y, x1: l.plot.x, y1: plotBottom, color: Self.axis)
    return image
  }
}
