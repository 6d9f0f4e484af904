import Foundation

// MARK: - HTML report

extension EpisodeStore {
  /// Writes ``htmlReport(episode:)`` to `file` (creating its folder).
  public func exportHTML(episode id: Int64, to file: URL) throws {
    let html = try htmlReport(episode: id)
    try ExportSupport.makeFolder(file.deletingLastPathComponent())
    try ExportSupport.write(Data(html.utf8), to: file)
  }

  /// One self-contained HTML page for an episode: per step the screen the model saw (a `data:`
  /// URL) with the grounded point and its grounding region drawn over it (``StepOverlay``), the action, the reasoning, the
  /// timings, any error, and the raw output and screen after it folded away. All text is
  /// HTML-escaped.
  ///
  /// The overlay's viewBox is the screenshot's own size (read from its PNG header), which matches
  /// the grounded point and region as long as screenshots are stored at screen resolution.
  public func htmlReport(episode id: Int64) throws -> String {
    let e = try episode(id)
    var body = """
      <header><h1>\(escapeHTML(e.task))</h1>
      <p><span class="status \(e.status.rawValue)">\(e.status.rawValue)</span> · episode \(e.id) · \(e.stepCount) steps
      · started \(StoreTime.string(e.started))\(e.ended.map { " · ended " + StoreTime.string($0) } ?? "")</p>
      \(e.models.sorted { $0.key < $1.key }.map { "<p class=\"dim\">\(escapeHTML($0.key)): \(escapeHTML($0.value))</p>" }.joined())
      \(e.summary.map { "<p>\(escapeHTML($0))</p>" } ?? "")\(e.error.map { "<p class=\"err\">\(escapeHTML($0))</p>" } ?? "")
      </header>

      """
    for step in try steps(episode: id) {
      body += try stepSection(step, episode: id)
    }
    return """
      <!doctype html>
      <html lang="en"><head><meta charset="utf-8">
      <title>Episode \(e.id): \(escapeHTML(e.task))</title>
      <style>\(Self.css)\(StepOverlay.css)</style></head>
      <body>
      \(body)</body></html>

      """
  }

  private func stepSection(_ step: StepRecord, episode id: Int64) throws -> String {
    var shot = "<div class=\"shot empty\">no screenshot</div>"
    if let png = try screenshot(episode: id, step: step.index, moment: .before) {
      let size = ExportSupport.pngSize(png)
      let overlay = size.map {
        StepOverlay.svg(point: step.groundedPoint, box: step.groundedBox, width: $0.width, height: $0.height)
      } ?? ""
      // The legend goes under the image, outside the box the overlay covers.
      shot = "<div><div class=\"shot\"><img src=\"\(Self.dataURL(png))\" alt=\"screen before step \(step.index + 1)\">"
        + "\(overlay)</div>\(overlay.isEmpty ? "" : StepOverlay.legend(point: step.groundedPoint, box: step.groundedBox))</div>"
    }
    let action = step.action.map { UITARSGrammar.serialize($0) } ?? step.actionJSON ?? "no action"
    var timings = step.latencies.sorted { $0.key < $1.key }.map { "<tr><td>\(escapeHTML($0.key))</td><td>\(formatMS($0.value))</td></tr>" }
    if let ended = step.ended {
      timings.append("<tr><td>step</td><td>\(formatMS(1000 * ended.timeIntervalSince(step.started)))</td></tr>")
    }
    var details = ""
    if let t = step.tokens { details += "<p class=\"dim\">tokens: \(t.prompt) prompt, \(t.completion) completion</p>" }
    if let changed = step.screenChanged { details += "<p class=\"dim\">screen \(changed ? "changed" : "did not change")</p>" }
    if step.ended == nil { details += "<p class=\"err\">no outcome recorded</p>" }
    if let error = step.error { details += "<p class=\"err\">\(escapeHTML(error))</p>" }
    details += "<details><summary>raw output</summary><pre>\(escapeHTML(step.rawOutput))</pre></details>"
    if let after = try screenshot(episode: id, step: step.index, moment: .after) {
      details += "<details><summary>screen after</summary><img src=\"\(Self.dataURL(after))\" alt=\"screen after step \(step.index + 1)\"></details>"
    }
    return """
      <section class="step" id="step-\(step.index)">
      \(shot)
      <div><h2>Step \(step.index + 1)</h2>
      <p><code>\(escapeHTML(action))</code></p>
      \(step.reasoning.map { "<pre>\(escapeHTML($0))</pre>" } ?? "")
      \(timings.isEmpty ? "" : "<table>\(timings.joined())</table>")
      \(details)</div>
      </section>

      """
  }

  // MARK: - Pieces

  private static let css = """
    body{font:14px/1.45 system-ui,sans-serif;color:#1d1d1f;max-width:1200px;margin:2rem auto;padding:0 1rem}
    h1{font-size:1.4rem;margin:0 0 .3rem}h2{font-size:1.05rem;margin:0 0 .4rem}
    header{border-bottom:1px solid #ddd;margin-bottom:1.5rem;padding-bottom:.5rem}
    .step{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:1.25rem;margin-bottom:2rem}
    .shot{position:relative;align-self:start}.shot img,details img{width:100%;display:block;border:1px solid #ccc}
    .shot.empty{border:1px dashed #ccc;padding:2rem;text-align:center;color:#888}
    pre{white-space:pre-wrap;background:#f5f5f7;padding:.5rem .7rem;border-radius:4px;margin:.4rem 0}
    code{background:#f5f5f7;padding:.1rem .3rem;border-radius:3px}
    table{border-collapse:collapse;margin:.4rem 0}td{padding:0 1rem 0 0}td+td{text-align:right;font-variant-numeric:tabular-nums}
    .dim{color:#666;margin:.2rem 0}.err{color:#b00020}
    .status{font-weight:600}.succeeded{color:#18794e}.failed,.interrupted{color:#b00020}
    """

  private static func dataURL(_ png: Data) -> String { "data:image/png;base64," + png.base64EncodedString() }

  private func formatMS(_ ms: Double) -> String { ms >= 1000 ? String(format: "%.2f s", ms / 1000) : String(format: "%.0f ms", ms) }
}

/// Escapes text for HTML element content and quoted attribute values.
func escapeHTML(_ text: String) -> String {
  var out = ""
  out.reserveCapacity(text.utf8.count)
  for ch in text {
    switch ch {
    case "&": out += "&amp;"
    case "<": out += "&lt;"
    case ">": out += "&gt;"
    case "\"": out += "&quot;"
    case "'": out += "&#39;"
    default: out.append(ch)
    }
  }
  return out
}
