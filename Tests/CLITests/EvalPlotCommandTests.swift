import Foundation
import Imaging
import Testing

/// `eval screenspot --plot` and `eval compare` on the screenspot-mini fixture: the PNG read back
/// pixel by pixel against the accuracies the same run prints as JSON.
@Suite struct EvalPlotCommandTests {
  let eval = EvalCommandTests()

  /// The accuracies of a report's JSON in the plot's order: sources, text, icon, overall.
  static func accuracies(_ j: [String: Any]) throws -> (groups: [String], values: [Double?]) {
    let by = try #require(j["by_source"] as? [String: [String: Any]])
    let groups = by.keys.sorted() + ["text", "icon", "overall"]
    let values = by.keys.sorted().map { by[$0]?["accuracy"] as? Double } + [j["text"] as? Double, j["icon"] as? Double, j["overall"] as? Double]
    return (groups, values)
  }

  /// Checks that `png` holds one bar per value of each series, each as high as its accuracy.
  static func expectBars(_ png: String, groups: [String], series: [[Double?]]) throws {
    let chart = BarChart(title: "", categories: groups, series: series.map { BarChart.Series(name: "", values: $0) })
    let image = try PNG.read(path: png)
    let layout = chart.layout
    #expect(image.width == layout.width && image.height == layout.height)
    let bottom = layout.plot.y + layout.plot.height
    for (s, values) in series.enumerated() {
      for (c, value) in values.enumerated() {
        let bar = layout.bar(series: s, category: c, value: value ?? 0)
        var y = bottom - 1
        while y >= 0, image[bar.x + bar.width / 2, y] == BarChart.color(series: s) { y -= 1 }
        #expect(bottom - 1 - y == Int(((value ?? 0) * Double(layout.plot.height)).rounded()), "\(groups[c]), series \(s)")
      }
    }
  }

  @Test func screenspotPlot() throws {
    let dir = try eval.scratch()
    defer { try? FileManager.default.removeItem(at: dir) }
    let png = dir.appendingPathComponent("plot.png").path
    let r = try eval.screenspot(["--baseline", "center", "--json", "--plot", png])
    #expect(r.status == 0, "\(r.stderr)")
    let (groups, values) = try Self.accuracies(try r.json())
    #expect(groups == ["tk-editor", "tk-login", "tk-settings", "text", "icon", "overall"])
    // Not all zero: the center of the screen hits one sample, so one bar at least has a height.
    #expect(values.contains { ($0 ?? 0) > 0 })
    try Self.expectBars(png, groups: groups, series: [values])
  }

  @Test func compareTwoResultsFiles() throws {
    let dir = try eval.scratch()
    defer { try? FileManager.default.removeItem(at: dir) }
    func path(_ n: String) -> String { dir.appendingPathComponent(n).path }
    let center = try eval.screenspot(["--baseline", "center", "--json", "--out", path("center.jsonl")])
    let random = try eval.screenspot(["--baseline", "random", "--seed", "5", "--json", "--out", path("random-5.jsonl")])
    #expect(center.status == 0 && random.status == 0, "\(center.stderr)\(random.stderr)")

    let j = try CLI.run(["eval", "compare", path("center.jsonl"), path("random-5.jsonl"), "--json", "--plot", path("cmp.png")])
    #expect(j.status == 0, "\(j.stderr)")
    let object = try j.json()
    let groups = try #require(object["groups"] as? [String])
    let results = try #require(object["results"] as? [[String: Any]])
    #expect(results.map { $0["name"] as? String } == ["center", "random-5"])
    #expect(results.map { $0["path"] as? String } == [path("center.jsonl"), path("random-5.jsonl")])
    // Each file's numbers are those its own run printed.
    for (result, run) in zip(results, [center, random]) {
      let own = try run.json()
      #expect(result["overall"] as? Double == own["overall"] as? Double && result["n"] as? Int == own["n"] as? Int)
      #expect(try Self.accuracies(result).values == (try Self.accuracies(own)).values)
    }
    try Self.expectBars(path("cmp.png"), groups: groups, series: try results.map { try Self.accuracies($0).values })

    let table = try CLI.run(["eval", "compare", path("center.jsonl"), path("random-5.jsonl"), "--markdown", path("cmp.md")])
    #expect(table.status == 0, "\(table.stderr)")
    let lines = table.stdout.split(separator: "\n").map(String.init)
    #expect(lines.first?.split(separator: " ") == ["group", "center", "random-5"])
    let overall = try #require(lines.first { $0.hasPrefix("overall") })
    let pct = { (v: Any?) in String(format: "%.1f%%", 100 * ((v as? Double) ?? -1)) }
    #expect(overall.split(separator: " ").map(String.init) == ["overall", pct(results[0]["overall"]), pct(results[1]["overall"])])
    #expect(lines.last?.split(separator: " ") == ["n", "15", "15"])
    let md = try String(contentsOfFile: path("cmp.md"), encoding: .utf8)
    #expect(md.hasPrefix("| group | center | random-5 |\n| :--- | ---: | ---: |\n"))
  }

  @Test func compareRefusesAMissingFile() throws {
    let r = try CLI.run(["eval", "compare", "/nonexistent/a.jsonl"])
    #expect(r.status == 1 && r.stderr.contains("/nonexistent/a.jsonl"), "\(r.stderr)")
  }
}
