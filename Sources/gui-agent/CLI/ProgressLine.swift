import Foundation

/// The text of a one-line progress display: `label [####------] 12/40  30%  2.5/s  ETA 12s`.
/// Pure formatting, apart from the drawing (``ProgressBar``), so every width and unit is testable.
struct ProgressLine {
  var label: String
  var done: Int
  var total: Int
  /// Seconds since the work started.
  var elapsed: Double
  /// The unit counted, for the rate when it is below one per second ("4.0 s/sample").
  var unit = "item"
  /// The work ended (maybe short of `total`, e.g. after a failure): the time taken replaces the ETA.
  var finished = false
  /// Items and seconds the rate is measured over, when not all of `done` in `elapsed` (the
  /// first item may have been counted before the clock started).
  var measured: (items: Int, seconds: Double)? = nil

  /// The widest bar; a narrower terminal shrinks it, then drops it.
  static let maxBarWidth = 30
  static let minBarWidth = 10

  /// The line fitted into `width` columns: the bar shrinks first, then goes; then the label is
  /// cut with "…". The counts, rate and time left are kept whole.
  func text(width: Int) -> String {
    let clamped = min(max(done, 0), max(total, 1))
    let fraction = Double(clamped) / Double(max(total, 1))
    let tail = "\(clamped)/\(total) " + Self.leftPadded(String(format: "%.0f%%", fraction * 100), 4)
      + "  " + rateText + "  " + timeText
    // label + " [" + bar + "] " + tail
    let room = width - tail.count - label.count - 4
    if room >= Self.minBarWidth {
      let barWidth = min(room, Self.maxBarWidth)
      let filled = Int(fraction * Double(barWidth))
      let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: barWidth - filled)
      return "\(label) [\(bar)] \(tail)"
    }
    let labelRoom = width - tail.count - 1
    if labelRoom >= label.count { return "\(label) \(tail)" }
    if labelRoom >= 2 { return String(label.prefix(labelRoom - 1)) + "… " + tail }
    return String(tail.prefix(max(width, 0)))
  }

  /// Items per second, or seconds per item when slower than one a second; "-" before the first.
  var rateText: String {
    guard let rate else { return "-/s" }
    if rate >= 10 { return String(format: "%.0f/s", rate) }
    if rate >= 1 { return String(format: "%.1f/s", rate) }
    return String(format: "%.1f", 1 / rate) + " s/\(unit)"
  }

  /// "ETA 3m05s" while running (unknown before the first item), "done in 12s" at the end.
  var timeText: String {
    if finished || done >= total { return "done in " + Self.duration(elapsed) }
    guard let rate else { return "ETA -" }
    return "ETA " + Self.duration(Double(total - done) / rate)
  }

  /// Items per second; nil before there is anything to measure.
  var rate: Double? {
    let (items, seconds) = measured ?? (done, elapsed)
    guard items > 0, seconds > 0 else { return nil }
    return Double(items) / seconds
  }

  /// Whole seconds as `1h02m`, `3m05s` or `12s` (minutes and seconds zero-padded after a larger unit).
  static func duration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "-" }
    let s = Int(min(seconds.rounded(), 359_999_999))
    if s >= 3600 { return String(format: "%dh%02dm", s / 3600, s / 60 % 60) }
    if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
    return "\(s)s"
  }

  private static func leftPadded(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
  }
}

/// Draws a ``ProgressLine`` on standard error, redrawn in place with `\r` at most 10 times a
/// second, ended with a newline by ``finish()``. Draws nothing when standard error is not a
/// terminal (pipes, files, CI) or `--quiet` was given: see ``Output/progressEnabled``.
/// `@unchecked Sendable`: model loading may report from several threads; every method holds the lock.
final class ProgressBar: @unchecked Sendable {
  private let lock = NSLock()
  private var total: Int
  private let label: String
  private let unit: String
  private let start = Date()
  private var lastDraw = Date.distantPast
  private var drawn = false
  /// Set by ``finish()``: later reports (a model reading a tensor lazily) draw nothing.
  private var ended = false
  private var done = 0
  /// The first count drawn and when: the rate is measured from there.
  private var first: (done: Int, time: Date)? = nil
  private let enabled: Bool

  init(total: Int, label: String, unit: String = "item", enabled: Bool = Output.progressEnabled) {
    self.total = max(total, 1)
    self.label = label
    self.unit = unit
    self.enabled = enabled
  }

  /// The count so far, and the total when it is known only once the work has started.
  func update(_ done: Int, of total: Int? = nil) {
    lock.lock()
    defer { lock.unlock() }
    if let total { self.total = max(total, 1) }
    self.done = done
    guard enabled, !ended else { return }
    let now = Date()
    guard done >= self.total || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
    draw(finished: false, now: now)
  }

  private func draw(finished: Bool, now: Date) {
    lastDraw = now
    let origin = first ?? (done, now)
    first = origin
    let line = ProgressLine(label: label, done: done, total: total, elapsed: now.timeIntervalSince(start), unit: unit,
                            finished: finished, measured: (done - origin.done, now.timeIntervalSince(origin.time)))
    // One column spare: a line as wide as the terminal wraps on some terminals.
    Output.writeError(Data(("\r\u{1B}[K" + line.text(width: Output.terminalColumns - 1)).utf8))
    drawn = true
  }

  /// Clears the line so that a log line can be printed; the next update draws it again.
  func clear() {
    lock.lock()
    defer { lock.unlock() }
    guard enabled, drawn else { return }
    Output.writeError(Data("\r\u{1B}[K".utf8))
    lastDraw = .distantPast
  }

  /// Draws the last count with the time taken and ends the line (nothing if nothing was drawn).
  func finish() {
    lock.lock()
    defer { lock.unlock() }
    guard enabled, drawn, !ended else { return }
    ended = true
    draw(finished: true, now: Date())
    Output.writeError(Data("\n".utf8))
  }
}
