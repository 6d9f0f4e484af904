import Foundation
import Testing

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
