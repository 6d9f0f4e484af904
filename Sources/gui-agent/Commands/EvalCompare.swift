import Foundation
import Grounding

/// `gui-agent eval compare`: several results files side by side, and the `--plot` bar charts.
extension Commands {
  static let evalCompare = Command(
    name: "compare",
    abstract: "Compare the accuracy of several results files: a table and grouped bars.",
    discussion: """
      Each file is a --out file of 'gui-agent eval screenspot' (or several shards of one run,
      joined first with 'gui-agent eval merge --out'). Each is named by its file name without
      .jsonl. The table has one column per file and one row per source (data_source, platform),
      then text, icon and overall; '-' marks a group a file has no samples of. --plot draws the
      same as grouped bars, one colour per file. --json prints {"groups": [...], "results":
      [{"name", "path", "n", "overall", "text", "icon", "by_source", ...}]}, accuracies as
      fractions.
      """,
    options: reportOptions,
    positionals: [PositionalSpec(name: "RESULTS.jsonl", help: "Results files to compare.", variadic: true)],
    run: { args in
      var reports: [(name: String, report: AccuracyReport)] = []
      for (path, name) in zip(args.positionals, comparisonNames(args.positionals)) {
        guard FileManager.default.fileExists(atPath: path) else { throw GroundingError.recordFile(path: path, line: 0, reason: "no such file") }
        let contents = try ResultsFile.read(path: path)
        if contents.droppedPartialLine { Output.log("\(path): the last line was cut short; it is left out") }
        if contents.records.isEmpty { Output.log("\(path) holds no results") }
        reports.append((name, AccuracyReport(records: contents.records)))
      }
      let groups = AccuracyChart.categories(reports.map(\.report))
      let title = "ScreenSpot accuracy - \(reports.count) results files"
      if let path = args.string("markdown") {
        try writeText(comparisonTable(reports, groups: groups, markdown: true), to: path)
      }
      if let path = args.string("plot") { try AccuracyChart.write(title: title, reports: reports, to: path) }
      if args.json {
        let results = zip(reports, args.positionals).map { r, path in
          r.report.jsonObject().merging(["name": r.name, "path": path]) { a, _ in a }
        }
        try Output.json(["groups": groups, "results": results])
      } else {
        Output.out(comparisonTable(reports, groups: groups, markdown: false))
      }
      return .success
    })

  /// `--plot FILE.png` of `eval screenspot` and `eval merge`: the report as bars.
  static func writePlot(_ report: AccuracyReport, args: ParsedArguments, title: String) throws {
    guard let path = args.string("plot") else { return }
    try AccuracyChart.write(title: title, reports: [("results", report)], to: path)
  }

  /// Each file's name without its folder and `.jsonl`; the whole path where two names collide.
  static func comparisonNames(_ paths: [String]) -> [String] {
    let short = paths.map { path -> String in
      let name = (path as NSString).lastPathComponent
      return name.hasSuffix(".jsonl") ? String(name.dropLast(6)) : name
    }
    return zip(short, paths).map { name, path in short.filter { $0 == name }.count > 1 ? path : name }
  }

  /// Rows of groups, a column per report, then the scored counts; as text or Markdown.
  static func comparisonTable(_ reports: [(name: String, report: AccuracyReport)], groups: [String], markdown: Bool) -> String {
    func pct(_ v: Double?) -> String { v.map { String(format: "%.1f%%", $0 * 100) } ?? "-" }
    var rows = groups.map { g in [g] + reports.map { pct(AccuracyChart.accuracy($0.report, category: g)) } }
    rows.append(["n"] + reports.map { "\($0.report.n)" })
    let header = ["group"] + reports.map(\.name)
    if markdown {
      let lines = [header, [":---"] + reports.map { _ in "---:" }] + rows
      return lines.map { "| " + $0.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |" }
        .joined(separator: "\n") + "\n"
    }
    let widths = header.indices.map { c in ([header] + rows).map { $0[c].count }.max() ?? 0 }
    func line(_ cells: [String]) -> String {
      cells.enumerated().map { c, cell in
        let pad = String(repeating: " ", count: widths[c] - cell.count)
        return c == 0 ? cell + pad : pad + cell
      }.joined(separator: "  ")
    }
    let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
    return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
  }

  private static func writeText(_ text: String, to path: String) throws {
    do { try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
      throw GroundingError.recordFile(path: path, line: 0, reason: "cannot write: \(error.localizedDescription)")
    }
  }
}
