import Foundation

/// Standard output for results, standard error for logs and progress.
enum Output {
  static func out(_ s: String) {
    write(Data((s.hasSuffix("\n") ? s : s + "\n").utf8))
  }

  static func err(_ s: String) {
    writeError(Data((s.hasSuffix("\n") ? s : s + "\n").utf8))
  }

  /// Standard output, raw. When its reader has gone (`gui-agent episodes show 1 | head`), the
  /// process ends at once with status 141 (128 + SIGPIPE), as a program killed by SIGPIPE does;
  /// Foundation's `FileHandle.write(_:)` would trap instead.
  static func write(_ data: Data) {
    do { try FileHandle.standardOutput.write(contentsOf: data) } catch { exit(141) }
  }

  /// Standard error, raw; a closed standard error loses the text and nothing else.
  static func writeError(_ data: Data) {
    try? FileHandle.standardError.write(contentsOf: data)
  }

  /// A log line on standard error, prefixed so it is easy to grep apart from results.
  static func log(_ s: String) { err("gui-agent: \(s)") }

  /// Prints `object` as one line of JSON with sorted keys (stable for scripts and tests).
  static func json(_ object: Any) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    write(data + Data("\n".utf8))
  }

  static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) != 0 }
  static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }

  /// Set by `--quiet` before the command runs.
  nonisolated(unsafe) static var quiet = false

  /// Whether progress lines are drawn: only on a terminal, so pipes, files and CI logs stay clean.
  static var progressEnabled: Bool { !quiet && stderrIsTerminal }

  /// Standard error's terminal width, 80 when it has none or reports none.
  static var terminalColumns: Int {
    var size = winsize()
    guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
    return Int(size.ws_col)
  }
}
