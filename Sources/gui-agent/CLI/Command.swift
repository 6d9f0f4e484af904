import Foundation

/// Exit statuses of every gui-agent command.
enum ExitCode: Int32 {
  case success = 0
  /// The command ran and something went wrong at run time (no display, corrupt file, …).
  case failure = 1
  /// The command line itself is wrong (unknown option, missing value, bad number).
  case usage = 2
  /// `ground`: the model's pointer head found nothing scoring at least --min-score.
  case notFound = 3
  /// The episode store cannot be written: its disk is full (or its size limit reached) or it is
  /// read-only. What it held before is intact; the message names the file.
  case storeUnwritable = 4
}

/// A wrong command line; printed with the command's usage, exit status 2.
struct UsageError: Error, CustomStringConvertible {
  let message: String
  init(_ message: String) { self.message = message }
  var description: String { message }
}

/// One option of a command: a flag (`valueName == nil`) or an option taking a value.
struct OptionSpec: Sendable {
  let name: String             // long name without dashes: "json"
  let short: Character?        // "-o"
  let valueName: String?       // "FILE"; nil for a flag
  let help: String
  let repeatable: Bool

  static func flag(_ name: String, short: Character? = nil, _ help: String) -> OptionSpec {
    OptionSpec(name: name, short: short, valueName: nil, help: help, repeatable: false)
  }
  static func value(_ name: String, short: Character? = nil, _ valueName: String, _ help: String,
                    repeatable: Bool = false) -> OptionSpec {
    OptionSpec(name: name, short: short, valueName: valueName, help: help, repeatable: repeatable)
  }
}

/// A positional argument, documented in `--help`.
struct PositionalSpec: Sendable {
  let name: String
  let help: String
  var optional = false
  var variadic = false
}

/// A leaf command (`gui-agent capture`) or a group of subcommands (`gui-agent act`).
struct Command: Sendable {
  let name: String
  let abstract: String
  var discussion: String = ""
  var options: [OptionSpec] = []
  var positionals: [PositionalSpec] = []
  var subcommands: [Command] = []
  var run: (@Sendable (ParsedArguments) throws -> ExitCode)? = nil

  /// Options every leaf command accepts.
  static let commonOptions: [OptionSpec] = [
    .flag("json", "Print one JSON object on standard output (machine output)."),
    .flag("quiet", short: "q", "Draw no progress line on standard error (none is drawn when it is not a terminal)."),
    .flag("help", short: "h", "Show this help."),
  ]
}
