import Foundation
import Testing
import TestSupport

@Suite struct CommandLineTests {
  @Test func helpListsSubcommandsAndExitsZero() throws {
    let r = try CLI.run(["--help"])
    #expect(r.status == 0)
    #expect(r.stdout.contains("USAGE: gui-agent <subcommand>"))
    #expect(r.stdout.contains("version"))
  }

  @Test func unknownSubcommandIsAUsageError() throws {
    let r = try CLI.run(["no-such-command"])
    #expect(r.status == 2)
    #expect(r.stderr.contains("unknown subcommand 'no-such-command'"))
  }

  @Test func unknownOptionIsAUsageError() throws {
    let r = try CLI.run(["version", "--bogus"])
    #expect(r.status == 2)
    #expect(r.stderr.contains("unknown option '--bogus'"))
  }

  @Test func jsonOutputIsOneObject() throws {
    let r = try CLI.run(["version", "--json"])
    #expect(r.status == 0)
    #expect(try r.json()["version"] as? String == "gui-agent 0.1.0")
  }
}

/// A reader that goes away (`gui-agent ... | head`) ends the program as SIGPIPE would, status
/// 141, not with a trap.
@Suite struct ClosedPipeTests {
  @Test func writingToAClosedPipeExits141() throws {
    let bin = try guiAgentBinary().path
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/bash")
    // `true` exits at once; half a second later gui-agent writes into a pipe without a reader.
    p.arguments = ["-c", "(sleep 0.5; exec '\(bin)' models) | true; echo ${PIPESTATUS[0]}"]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    p.waitUntilExit()
    let status = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      .trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(status == "141", "gui-agent models into a closed pipe exited \(status)")
  }
}
