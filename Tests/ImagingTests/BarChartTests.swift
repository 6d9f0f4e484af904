import Foundation
import Testing
@testable import Imaging

/// The bar chart drawn for accuracy plots, read back pixel by pixel.
@Suite struct BarChartTests {
  /// How many pixels of `color` stand in column `x`, counted up from the row above the 0 % line
  /// until another colour.
  static func columnHeight(_ image: RGBImage, x: Int, from bottom: Int, color: RGB) -> Int {
    var y = bottom - 1
    while y >= 0, image[x, y] == color { y -= 1 }
    return bottom - 1 - y
  }

  let chart = BarChart(title: "Accuracy", categories: ["web", "desktop", "overall"], series: [
    BarChart.Series(name: "center", values: [0.25, 1.0, 0.5]),
    BarChart.Series(name: "model", values: [0.8, nil, 0.0]),
  ])

  @Test func barHeightsAreTheValues() throws {
    let layout = chart.layout
    let image = try PNG.decode(try PNG.encode(try chart.render()))
    #expect(image.width == layout.width && image.height == layout.height)
    let bottom = layout.plot.y + layout.plot.height
    for (s, series) in chart.series.enumerated() {
      for (c, value) in series.values.enumerated() {
        let bar = layout.bar(series: s, category: c, value: value ?? 0)
        let height = Self.columnHeight(image, x: bar.x + bar.width / 2, from: bottom, color: BarChart.color(series: s))
        let expected = Int(((value ?? 0) * Double(layout.plot.height)).rounded())
        #expect(height == expected, "series \(s) category \(c): \(height) px, expected \(expected)")
      }
    }
    // A full bar reaches the 100 % line exactly.
    #expect(layout.bar(series: 0, category: 1, value: 1).y == layout.plot.y)
  }

  @Test func barsOfOneGroupSitSideBySideInsideTheirGroup() {
    let l = chart.layout
    for c in chart.categories.indices {
      let a = l.bar(series: 0, category: c, value: 1), b = l.bar(series: 1, category: c, value: 1)
      #expect(a.x + a.width < b.x)
      #expect(a.x > l.plot.x + c * l.plot.width / 3 && b.x + b.width < l.plot.x + (c + 1) * l.plot.width / 3)
    }
  }

  @Test func legendOnlyForSeveralSeries() throws {
    let two = try chart.render()
    let one = try BarChart(title: "Accuracy", categories: ["web"], series: [chart.series[0]]).render()
    // The legend's swatches: one per series, at the left under the title.
    #expect(two[24, 52] == BarChart.color(series: 0) && two[24, 74] == BarChart.color(series: 1))
    #expect(one[24, 52] == BarChart.background)
  }

  @Test func valuesOutsideTheAxisAreClamped() {
    let l = chart.layout
    #expect(l.bar(series: 0, category: 0, value: 1.7).height == l.plot.height)
    #expect(l.bar(series: 0, category: 0, value: -0.2).height == 0)
    #expect(l.bar(series: 0, category: 0, value: .nan).height == 0)
  }
}
