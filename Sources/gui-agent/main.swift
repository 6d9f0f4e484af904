import Foundation

// gui-agent: the command-line front of the project. Each command lives in Commands/; this file
// only assembles the tree and exits with the runner's status.
let root = Command(
  name: "gui-agent",
  abstract: "Screen understanding and GUI automation on Linux/X11.",
  subcommands: Commands.all
)
let status = Runner.run(root, arguments: Array(CommandLine.arguments.dropFirst()))
exit(status.rawValue)
