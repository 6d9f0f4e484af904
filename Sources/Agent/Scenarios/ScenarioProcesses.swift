import Foundation

// MARK: - A private X server

/// An Xvfb of the runner's own, so scenarios never share a server with anything else.
/// `-displayfd` lets Xvfb choose a free display number and say it once it accepts clients;
/// `-noreset` keeps it from resetting when the last application disconnects.
final class ScenarioXvfb {
  let process = Process()
  let display: String

  /// Starts `Xvfb` (from `PATH`) with a `width`x`height`x24 screen.
  /// - Throws: `AgentError.invalidArgument` when Xvfb is missing or does not come up.
  init(width: Int = 1280, height: Int = 800) throws {
    let out = Pipe()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")  // execs Xvfb: same pid
    process.arguments = ["Xvfb", "-displayfd", "1", "-noreset", "-nolisten", "tcp", "-screen", "0", "\(width)x\(height)x24"]
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch {
      throw AgentError.invalidArgument("Xvfb cannot be started (scripts/install-deps installs it): \(error.localizedDescription)")
    }
    // Xvfb writes "N\n" once it accepts clients; read to the newline or EOF (it exited).
    var said = Data()
    while !said.contains(UInt8(ascii: "\n")) {
      let chunk = out.fileHandleForReading.availableData
      if chunk.isEmpty { break }
      said.append(chunk)
    }
    let text = String(decoding: said, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard let number = Int(text) else {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
      throw AgentError.invalidArgument("Xvfb did not start (it said '\(text)'; is Xvfb installed?)")
    }
    display = ":\(number)"
  }

  /// SIGKILL (a child may inherit SIGTERM blocked), then the lock file and socket that Xvfb
  /// removes itself only on a clean exit.
  func stop() {
    guard process.isRunning else { return }
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    let n = display.dropFirst()
    try? FileManager.default.removeItem(atPath: "/tmp/.X\(n)-lock")
    try? FileManager.default.removeItem(atPath: "/tmp/.X11-unix/X\(n)")
  }

  deinit { stop() }
}

// MARK: - Applications

/// An application started for a scenario; its output goes to a file in the scenario's folder.
final class ScenarioProcess {
  let process = Process()
  let command: [String]
  let outputFile: URL

  /// Starts `command` (program looked up on `PATH`) with `environment` added to ours.
  /// - Throws: `AgentError.invalidArgument` naming the command when it cannot start.
  init(command: [String], environment: [String: String], outputFile: URL) throws {
    self.command = command
    self.outputFile = outputFile
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = command
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    FileManager.default.createFile(atPath: outputFile.path, contents: nil)
    let handle = try FileHandle(forWritingTo: outputFile)
    process.standardOutput = handle
    process.standardError = handle
    process.standardInput = FileHandle.nullDevice
    do { try process.run() } catch {
      throw AgentError.invalidArgument("\(command.joined(separator: " ")) cannot be started: \(error.localizedDescription)")
    }
  }

  var isRunning: Bool { process.isRunning }

  /// The end of what the application printed, for failure reasons.
  func outputTail(_ count: Int = 300) -> String {
    let text = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
    let tail = text.suffix(count).trimmingCharacters(in: .whitespacesAndNewlines)
    return tail.isEmpty ? "(no output)" : String(tail)
  }

  func stop() {
    guard process.isRunning else { return }
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
  }

  deinit { stop() }
}

// MARK: - Shell checks

/// The result of a scenario's check command.
struct CheckResult {
  var status: Int32
  var output: String
  var timedOut: Bool
}

/// Runs `command` with `/bin/sh -c` in `directory`, killing it after `timeout` seconds.
func runCheck(_ command: String, environment: [String: String], directory: URL, timeout: Double) throws -> CheckResult {
  let p = Process()
  p.executableURL = URL(fileURLWithPath: "/bin/sh")
  p.arguments = ["-c", command]
  p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
  p.currentDirectoryURL = directory
  let outFile = FileManager.default.temporaryDirectory.appendingPathComponent("gui-agent-check-\(UUID().uuidString).out")
  FileManager.default.createFile(atPath: outFile.path, contents: nil)
  defer { try? FileManager.default.removeItem(at: outFile) }
  let handle = try FileHandle(forWritingTo: outFile)
  defer { try? handle.close() }
  p.standardOutput = handle
  p.standardError = handle
  p.standardInput = FileHandle.nullDevice
  do { try p.run() } catch {
    throw AgentError.invalidArgument("check '\(command)' cannot be started: \(error.localizedDescription)")
  }
  let deadline = Date().addingTimeInterval(timeout)
  var timedOut = false
  while p.isRunning {
    if Date() > deadline {
      kill(p.processIdentifier, SIGKILL)
      timedOut = true
      break
    }
    usleep(20_000)
  }
  p.waitUntilExit()
  let text = (try? String(contentsOf: outFile, encoding: .utf8)) ?? ""
  return CheckResult(status: p.terminationStatus, output: String(text.suffix(600)), timedOut: timedOut)
}
