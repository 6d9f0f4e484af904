import Foundation

/// Runs the built `gui-agent` binary (it sits next to the test bundle in the build folder) and
/// collects its exit status and output.
struct CLIResult {
  let status: Int32
  let stdout: String
  let stderr: String
  /// Standard output parsed as one JSON object.
  func json() throws -> [String: Any] {
    guard let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any] else {
      throw CLIHarnessError("stdout is not a JSON object: \(stdout)")
    }
    return object
  }
}

struct CLIHarnessError: Error, CustomStringConvertible {
  let description: String
  init(_ d: String) { description = d }
}

enum CLI {
  static var binary: URL {
    get throws {
      let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
      var dir = exe.deletingLastPathComponent()
      // The xctest bundle may be a directory (…/X.xctest/…); walk up until gui-agent is found.
      for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("gui-agent")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
      }
      throw CLIHarnessError("gui-agent binary not found near \(exe.path); build it first")
    }
  }

  static func run(_ args: [String], environment: [String: String]? = nil, stdin: Data? = nil) throws -> CLIResult {
    let p = Process()
    p.executableURL = try binary
    p.arguments = args
    if let env = environment { p.environment = env }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    let input = Pipe()
    p.standardInput = input
    try p.run()
    if let stdin { input.fileHandleForWriting.write(stdin) }
    try input.fileHandleForWriting.close()
    // Read both pipes concurrently so neither can fill up and block the child.
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
    return CLIResult(status: p.terminationStatus,
                     stdout: String(decoding: outData, as: UTF8.self),
                     stderr: String(decoding: errData, as: UTF8.self))
  }
}
