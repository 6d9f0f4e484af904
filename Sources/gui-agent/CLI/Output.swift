import Foundation

/// Standard output for results, standard error for logs and progress.
enum Output {
  static func out(_ s: String) {
    FileHandle.standardOutput.write(Data((s.hasSuffix("\n") ? s : s + "\n").utf8))
  }

  static func err(_ s: String) {
    FileHandle.standardError.write(Data((s.hasSuffix("\n") ? s : s + "\n").utf8))
  }

  /// A log line on standard error, prefixed so it is easy to grep apart from results.
  static func log(_ s: String) { err("gui-agent: \(s)") }

  /// Prints `object` as one line of JSON with sorted keys (stable for scripts and tests).
  static func json(_ object: Any) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    FileHandle.standardOutput.write(data + Data("\n".utf8))
  }

  static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) != 0 }
  static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }
}

/// A progress bar with rate and ETA on standard error, drawn only when standard output is a
/// terminal (so piped and `--json` runs stay clean).
final class ProgressBar {
  private let total: Int
  private let label: String
  private let start = Date()
  private var lastDraw = Date.distantPast
  private let enabled: Bool

  init(total: Int, label: String, enabled: Bool = Output.stdoutIsTerminal) {
    self.total = max(total, 1)
    self.label = label
    self.enabled = enabled
  }

  func update(_ done: Int) {
    guard enabled else { return }
    let now = Date()
    guard done >= total || now.timeIntervalSince(lastDraw) > 0.1 else { return }
    lastDraw = now
    let fraction = Double(min(done, total)) / Double(total)
    let elapsed = now.timeIntervalSince(start)
    let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
    let width = 30
    let filled = Int(fraction * Double(width))
    let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
    let line = String(format: "\r%@ [%@] %d/%d %3.0f%%  %@ elapsed, ETA %@", label, bar, done, total,
                      fraction * 100, Self.clock(elapsed), Self.clock(eta))
    FileHandle.standardError.write(Data(line.utf8))
  }

  func finish() {
    guard enabled else { return }
    update(total)
    FileHandle.standardError.write(Data("\n".utf8))
  }

  private static func clock(_ t: Double) -> String {
    let s = Int(t.rounded())
    return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                     : String(format: "%d:%02d", s / 60, s % 60)
  }
}
