import Foundation

/// The temporary folders of scenario runs: `gui-agent-scenario-<pid>-<start>-<uuid>`, where
/// `<pid>` is the runner's process and `<start>` its start time (clock ticks since boot, field 22
/// of `/proc/<pid>/stat`), so that a reused pid is not mistaken for the runner. A runner that was
/// killed (kill -9 skips every clean-up) leaves its folder behind; a later run removes it.
enum ScenarioFolders {
  static let prefix = "gui-agent-scenario-"

  /// A new folder name for this process, in `directory`.
  static func make(in directory: URL = FileManager.default.temporaryDirectory) -> URL {
    let pid = getpid()
    let start = startTime(of: pid) ?? 0
    return directory.appendingPathComponent("\(prefix)\(pid)-\(start)-\(UUID().uuidString)")
  }

  /// Removes the folders in `directory` whose runner is gone (no such process, another process
  /// under its pid, or a zombie): only names of the form above, only folders of this user.
  /// - Returns: the folders removed.
  @discardableResult
  static func removeLeftovers(in directory: URL = FileManager.default.temporaryDirectory) -> [URL] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    var removed: [URL] = []
    for name in names {
      guard let owner = owner(of: name), !isAlive(pid: owner.pid, start: owner.start) else { continue }
      let folder = directory.appendingPathComponent(name)
      var info = stat()
      guard lstat(folder.path, &info) == 0, info.st_mode & 0o170000 == 0o040000, info.st_uid == getuid() else { continue }
      if (try? FileManager.default.removeItem(at: folder)) != nil { removed.append(folder) }
    }
    return removed
  }

  /// The pid and start time in a folder name of ours; nil for any other name.
  static func owner(of name: String) -> (pid: pid_t, start: UInt64)? {
    guard name.hasPrefix(prefix) else { return nil }
    let parts = name.dropFirst(prefix.count).split(separator: "-", maxSplits: 2)
    guard parts.count == 3, let pid = pid_t(parts[0]), pid > 0, let start = UInt64(parts[1]),
          UUID(uuidString: String(parts[2])) != nil else { return nil }
    return (pid, start)
  }

  /// Whether `pid` is a live (not zombie) process that started at `start`.
  static func isAlive(pid: pid_t, start: UInt64) -> Bool {
    guard let fields = statFields(of: pid), fields.count > 19 else { return false }
    return fields[0] != "Z" && fields[19] == String(start)
  }

  static func startTime(of pid: pid_t) -> UInt64? {
    guard let fields = statFields(of: pid), fields.count > 19 else { return nil }
    return UInt64(fields[19])
  }

  /// `/proc/<pid>/stat` from field 3 (state) on: the command name before it is in parentheses
  /// and may itself hold spaces and parentheses, so the split starts after the last ')'.
  private static func statFields(of pid: pid_t) -> [Substring]? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = text.lastIndex(of: ")") else { return nil }
    return text[text.index(after: close)...].split(separator: " ")
  }
}
