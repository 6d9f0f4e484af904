import Foundation

/// A finished child process: its exit status and both outputs.
public struct ProcessResult: Sendable {
  public let status: Int32
  public let stdout: String
  public let stderr: String
}

/// The built `gui-agent` binary: it sits next to the test bundle in the build folder.
public func guiAgentBinary() throws -> URL {
  let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
  var dir = exe.deletingLastPathComponent()
  // The xctest bundle may be a directory (…/X.xctest/…); walk up until gui-agent is found.
  for _ in 0..<4 {
    let candidate = dir.appendingPathComponent("gui-agent")
    if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    dir = dir.deletingLastPathComponent()
  }
  throw PrivateXvfbError("gui-agent binary not found near \(exe.path); build it first")
}

/// Runs a program to its end, killed after `timeout` seconds; both pipes are read concurrently
/// so that neither can fill up and block the child.
@discardableResult
public func runProgram(_ url: URL, _ args: [String], environment: [String: String]? = nil,
                       stdin: Data? = nil, timeout: Double = 600) throws -> ProcessResult {
  let p = Process()
  p.executableURL = url
  p.arguments = args
  if let environment { p.environment = environment }
  let out = Pipe(), err = Pipe(), input = Pipe()
  p.standardOutput = out
  p.standardError = err
  p.standardInput = input
  try p.run()
  if let stdin { input.fileHandleForWriting.write(stdin) }
  try input.fileHandleForWriting.close()
  let killer = DispatchWorkItem { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
  DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
  nonisolated(unsafe) var errData = Data()
  let group = DispatchGroup()
  group.enter()
  DispatchQueue.global().async {
    errData = err.fileHandleForReading.readDataToEndOfFile()
    group.leave()
  }
  let outData = out.fileHandleForReading.readDataToEndOfFile()
  group.wait()
  p.waitUntilExit()
  killer.cancel()
  return ProcessResult(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                       stderr: String(decoding: errData, as: UTF8.self))
}
