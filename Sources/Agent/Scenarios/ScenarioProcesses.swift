import Foundation

// MARK: - A private X server

/// An Xvfb of the runner's own, so scenarios never share a server with anything else.
/// `-displayfd` lets Xvfb choose a free display number and say it once it accepts clients;
/// `-noreset` keeps it from resetting when the last application disconnects.
final class ScenarioXvfb {
  let child: ScenarioChild
  let display: String

  /// Starts `Xvfb` (from `PATH`) in `group` with a `width`x`height`x24 screen, waiting for it
  /// until `deadline` (30 s at most).
  /// - Throws: `AgentError.invalidArgument` when Xvfb is missing or does not come up.
  init(in group: ScenarioGroup, width: Int = 1280, height: Int = 800, until deadline: Date) throws {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else {
      throw AgentError.invalidArgument("Xvfb cannot be started: pipe: \(String(cString: strerror(errno)))")
    }
    defer { close(fds[0]) }
    let null = open("/dev/null", O_RDWR | O_CLOEXEC)
    defer { close(null) }
    let arguments = ["Xvfb", "-displayfd", "1", "-noreset", "-nolisten", "tcp", "-screen", "0", "\(width)x\(height)x24"]
    do {
      child = try group.spawn(arguments, environment: ProcessInfo.processInfo.environment,
                              stdin: null, stdout: fds[1], stderr: null)
      close(fds[1])
    } catch {
      close(fds[1])
      throw AgentError.invalidArgument("\(error.localizedDescription) (scripts/install-deps installs Xvfb)")
    }
    // Xvfb writes "N\n" once it accepts clients; read to the newline, EOF (it exited) or the deadline.
    let said = Self.readLine(fds[0], until: min(deadline, Date().addingTimeInterval(30)))
    guard let number = Int(said.text) else {
      kill(child.pid, SIGKILL)
      throw AgentError.invalidArgument(said.timedOut ? "Xvfb did not say its display number in time"
                                                     : "Xvfb did not start (it said '\(said.text)')")
    }
    display = ":\(number)"
  }

  /// The lock file and socket that Xvfb removes itself only on a clean exit; call once it is gone.
  func removeLeftovers() {
    guard !child.isRunning else { return }
    let n = display.dropFirst()
    try? FileManager.default.removeItem(atPath: "/tmp/.X\(n)-lock")
    try? FileManager.default.removeItem(atPath: "/tmp/.X11-unix/X\(n)")
  }

  private static func readLine(_ fd: Int32, until deadline: Date) -> (text: String, timedOut: Bool) {
    var said: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 64)
    while !said.contains(UInt8(ascii: "\n")) {
      var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      let ready = poll(&p, 1, Int32(max(0, deadline.timeIntervalSinceNow) * 1000))
      if ready < 0, errno == EINTR { continue }
      if ready <= 0 { return (String(decoding: said, as: UTF8.self), true) }
      let n = read(fd, &buffer, buffer.count)
      if n < 0, errno == EINTR { continue }
      if n <= 0 { break }
      said += buffer[0..<n]
    }
    return (String(decoding: said, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines), false)
  }
}

// MARK: - Applications

/// An application started for a scenario; its output goes to a file in the scenario's folder.
final class ScenarioProcess {
  let child: ScenarioChild
  let command: [String]
  let outputFile: URL

  /// Starts `command` (program looked up on `PATH`) in `group` with `environment` added to ours.
  /// - Throws: `AgentError.invalidArgument` naming the command when it cannot start.
  init(command: [String], environment: [String: String], outputFile: URL, in group: ScenarioGroup) throws {
    self.command = command
    self.outputFile = outputFile
    let out = try openForOutput(outputFile)
    defer { close(out) }
    let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
    defer { close(null) }
    child = try group.spawn(command, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
                            stdin: null, stdout: out, stderr: out)
  }

  var isRunning: Bool { child.isRunning }

  /// The end of what the application printed, for failure reasons.
  func outputTail(_ count: Int = 300) -> String {
    let text = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
    let tail = text.suffix(count).trimmingCharacters(in: .whitespacesAndNewlines)
    return tail.isEmpty ? "(no output)" : String(tail)
  }
}

/// A new, empty file for a child's output: its descriptor (close-on-exec), to be closed by the caller.
private func openForOutput(_ file: URL) throws -> Int32 {
  let fd = open(file.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
  guard fd >= 0 else {
    throw AgentError.invalidArgument("cannot create \(file.path): \(String(cString: strerror(errno)))")
  }
  return fd
}

// MARK: - Shell checks

/// The result of a scenario's check command.
struct CheckResult {
  var status: Int32
  var output: String
  var timedOut: Bool
}

/// Runs `command` with `/bin/sh -c` in `directory`, within `group`, its output in `outputFile`;
/// kills it after `timeout` seconds (what it started in the background dies with the group).
func runCheck(_ command: String, environment: [String: String], directory: URL, outputFile: URL,
              timeout: Double, in group: ScenarioGroup) throws -> CheckResult {
  let out = try openForOutput(outputFile)
  defer { close(out) }
  let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
  defer { close(null) }
  let child: ScenarioChild
  do {
    child = try group.spawn(["/bin/sh", "-c", command],
                            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
                            stdin: null, stdout: out, stderr: out, directory: directory)
  } catch {
    throw AgentError.invalidArgument("check '\(command)': \(error.localizedDescription)")
  }
  let deadline = Date().addingTimeInterval(timeout)
  var timedOut = false
  // After SIGKILL the shell goes at once; 3 s more bound even a child stuck in the kernel.
  while child.isRunning, Date() < deadline.addingTimeInterval(3) {
    if Date() > deadline, !timedOut {
      kill(child.pid, SIGKILL)
      timedOut = true
    }
    usleep(20_000)
  }
  let text = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
  return CheckResult(status: child.exitStatus ?? -1, output: String(text.suffix(600)), timedOut: timedOut)
}
