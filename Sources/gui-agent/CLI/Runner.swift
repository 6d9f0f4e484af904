import Agent
import Foundation

/// Walks the command tree, parses arguments, runs the leaf and maps errors to exit codes.
enum Runner {
  static func run(_ root: Command, arguments: [String]) -> ExitCode {
    var command = root
    var path = root.name
    var rest = arguments
    while !command.subcommands.isEmpty {
      guard let next = rest.first else {
        Output.out(Help.text(for: command, path: path))
        return .usage
      }
      if next == "--help" || next == "-h" || next == "help" {
        Output.out(Help.text(for: command, path: path))
        return .success
      }
      if next == "--version" {
        Output.out(Version.string)
        return .success
      }
      guard let sub = command.subcommands.first(where: { $0.name == next }) else {
        Output.err("error: unknown subcommand '\(next)' of '\(path)'")
        Output.err("see '\(path) --help'")
        return .usage
      }
      command = sub
      path += " " + sub.name
      rest.removeFirst()
    }
    do {
      let parsed = try ParsedArguments.parse(rest, for: command, path: path)
      if parsed.flag("help") {
        Output.out(Help.text(for: command, path: path))
        return .success
      }
      Output.quiet = parsed.flag("quiet")
      guard let body = command.run else { return .usage }
      return try body(parsed)
    } catch let error as UsageError {
      Output.err("error: \(error.message)")
      Output.err("see '\(path) --help'")
      return .usage
    } catch {
      let message = (error as? LocalizedError)?.errorDescription ?? String(describing: error)
      Output.err("error: \(message)")
      switch error as? AgentError {
      case .storeFull?, .storeReadOnly?: return .storeUnwritable
      default: return .failure
      }
    }
  }
}

enum Version {
  static let string = "gui-agent 0.1.0"
}
