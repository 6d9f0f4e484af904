import Foundation
import Imaging

/// Accuracy reports as a bar chart: one group per source (v1/v2 `data_source`, Pro `platform`),
/// then (after a rule) text, icon and overall; one bar per report, so several runs compare side
/// by side.
public enum AccuracyChart {
  /// The chart's categories for `reports`: every source any of them has (name order), then
  /// "text", "icon", "overall".
  public static func categories(_ reports: [AccuracyReport]) -> [String] {
    Array(Set(reports.flatMap(\.sources))).sorted() + ["text", "icon", "overall"]
  }

  /// The fraction of `report` for one of ``categories(_:)``; nil when it has no such samples.
  public static func accuracy(_ report: AccuracyReport, category: String) -> Double? {
    switch category {
    case "text": report.text.accuracy
    case "icon": report.icon.accuracy
    case "overall": report.overall.accuracy
    default: report.bySource[category]?.all.accuracy
    }
  }

  /// The bar chart of `reports`, each named (the legend) by its `name`.
  public static func chart(title: String, reports: [(name: String, report: AccuracyReport)]) -> BarChart {
    let names = categories(reports.map(\.report))
    let series = reports.map { r in BarChart.Series(name: r.name, values: names.map { accuracy(r.report, category: $0) }) }
    // The bitmap font is ASCII: report titles use an em dash.
    var chart = BarChart(title: title.replacingOccurrences(of: "—", with: "-"), categories: names, series: series)
    chart.sectionStarts = [names.count - 3]
    return chart
  }

  /// Renders ``chart(title:reports:)`` and writes it as a PNG to `path`.
  public static func write(title: String, reports: [(name: String, report: AccuracyReport)], to path: String) throws {
    do {
      try PNG.write(try chart(title: title, reports: reports).render(), to: path)
    } catch {
      throw GroundingError.recordFile(path: path, line: 0, reason: "cannot write the plot: \(error.localizedDescription)")
    }
  }
}
