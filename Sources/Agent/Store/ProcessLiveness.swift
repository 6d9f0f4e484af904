import Foundation

/// Whether the process that began an episode still runs.
enum ProcessLiveness {
  /// Slack for comparing a process's start (whole seconds of boot time plus clock ticks) with an
  /// episode's start.
  private static let startSlack: TimeInterval = 2

  /// Why the owner of an episode begun at `episodeStarted` by `pid` is gone, or nil if it runs.
  /// A live pid whose process started after the episode is a reused pid, not the owner.
  static func ownerGone(pid: Int32, episodeStarted: Date) -> String? {
    guard isAlive(pid) else { return "process \(pid) exited while the episode was running" }
    if let start = startTime(pid), start > episodeStarted.addingTimeInterval(startSlack) {
      return "process \(pid) exited while the episode was running (the pid now belongs to a later process)"
    }
    return nil
  }

  /// `kill(pid, 0)`: ESRCH means no such process; EPERM means it exists under another user.
  static func isAlive(_ pid: Int32) -> Bool {
    guard pid > 0 else { return false }  // 0 and negatives address process groups, not a process
    if kill(pid, 0) == 0 { return true }
    return errno == EPERM
  }

  /// When `pid` started, from Linux's /proc: field 22 of /proc/PID/stat (clock ticks after boot)
  /// plus `btime` of /proc/stat. Nil where /proc is unavailable or unreadable.
  static func startTime(_ pid: Int32) -> Date? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return nil }
    // Fields after the command name (which may hold spaces and parentheses) start at field 3.
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 19, let ticks = Double(fields[19]) else { return nil }
    guard let system = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
          let line = system.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
          let boot = Double(line.dropFirst("btime ".count)) else { return nil }
    let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
    guard hz > 0 else { return nil }
    return Date(timeIntervalSince1970: boot + ticks / hz)
  }
}
