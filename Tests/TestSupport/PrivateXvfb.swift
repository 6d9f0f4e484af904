import Foundation

/// An Xvfb of the test's own, for server setups the shared one lacks (other depths, no MIT-SHM).
/// `-displayfd` lets Xvfb pick a free display number and report it once it accepts clients.
public final class PrivateXvfb {
  public let process = Process()
  public let display: String

  public init(arguments: [String]) throws {
    let out = Pipe()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")  // Xvfb from PATH, same pid
    process.arguments = ["Xvfb", "-displayfd", "1", "-nolisten", "tcp"] + arguments
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    // Xvfb writes "N\n" once it accepts clients; read to the newline or EOF (it exited).
    var said = Data()
    while !said.contains(UInt8(ascii: "\n")) {
      let chunk = out.fileHandleForReading.availableData
      if chunk.isEmpty { break }
      said.append(chunk)
    }
    let n = String(decoding: said, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard let number = Int(n) else {
      kill(process.processIdentifier, SIGKILL)
      throw PrivateXvfbError("Xvfb \(arguments) did not start (said '\(n)')")
    }
    display = ":\(number)"
  }

  /// SIGKILL, since a child of the test runner inherits SIGTERM blocked and `terminate()` does
  /// nothing; then the lock file and socket that Xvfb would have removed on a clean exit.
  public func stop() {
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    let n = display.dropFirst()
    try? FileManager.default.removeItem(atPath: "/tmp/.X\(n)-lock")
    try? FileManager.default.removeItem(atPath: "/tmp/.X11-unix/X\(n)")
  }
}

public struct PrivateXvfbError: Error, CustomStringConvertible {
  public let description: String
  public init(_ d: String) { description = d }
}
