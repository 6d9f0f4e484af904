import Foundation

// MARK: - Terminal table and Markdown

extension AccuracyReport {
  /// Rows of (group, n, text, icon, all) as printed, overall last.
  var rows: [(name: String, n: Int, text: String, icon: String, all: String)] {
    func pct(_ t: Tally) -> String { t.accuracy.map { String(format: "%.1f%%", $0 * 100) } ?? "-" }
    var out = sources.compactMap { name -> (String, Int, String, String, String)? in
      guard let s = bySource[name] else { return nil }
      return (name, s.all.n, pct(s.text), pct(s.icon), pct(s.all))
    }
    out.append(("overall", overall.n, pct(text), pct(icon), pct(overall)))
    return out
  }

  var footnote: String {
    var notes = ["\(overall.hits) of \(n) hits"]
    if noCoordinate > 0 { notes.append("\(noCoordinate) answers without a point (counted as misses)") }
    notes.append("\(skipped) skipped")
    return notes.joined(separator: ", ")
  }

  /// A fixed-width table for the terminal.
  public func table() -> String {
    let header = ("source", "n", "text", "icon", "all")
    let body = rows
    let w0 = max(header.0.count, body.map(\.name.count).max() ?? 0)
    func line(_ a: String, _ b: String, _ c: String, _ d: String, _ e: String) -> String {
      a.padding(toLength: w0, withPad: " ", startingAt: 0) + "  " + [b.leftPadded(6), c.leftPadded(7), d.leftPadded(7), e.leftPadded(7)].joined(separator: "  ")
    }
    var lines = [line(header.0, header.1, header.2, header.3, header.4)]
    lines.append(String(repeating: "-", count: w0 + 2 + 6 + 3 * 9))
    for (i, r) in body.enumerated() {
      if i == body.count - 1 && body.count > 1 { lines.append(String(repeating: "-", count: w0 + 2 + 6 + 3 * 9)) }
      lines.append(line(r.name, String(r.n), r.text, r.icon, r.all))
    }
    lines.append(footnote)
    return lines.joined(separator: "\n")
  }

  /// A Markdown section: a title, the table and the counts.
  public func markdown(title: String) -> String {
    var lines = ["## \(title)", "", "| source | n | text | icon | all |", "| --- | ---: | ---: | ---: | ---: |"]
    for r in rows {
      let name = r.name == "overall" ? "**overall**" : r.name.replacingOccurrences(of: "|", with: "\\|")
      lines.append("| \(name) | \(r.n) | \(r.text) | \(r.icon) | \(r.all) |")
    }
    lines += ["", footnote + ".", ""]
    return lines.joined(separator: "\n")
  }
}

extension String {
  func leftPadded(_ width: Int) -> String {
    count >= width ? self : String(repeating: " ", count: width - count) + self
  }
}
