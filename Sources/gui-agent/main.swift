import Foundation

// gui-agent: the command-line front of the project. Each command lives in Commands/; this file
// only assembles the tree and exits with the runner's status.
// A peer that went away (an X server that exited under libxcb, a reader that closed our stdout,
// an HTTP client gone mid-reply) must be a write error that the caller reports, not SIGPIPE
// killing the process: libxcb writes with writev, which raises it.
signal(SIGPIPE, SIG_IGN)

let root = Command(
  name: "gui-agent",
  abstract: "Screen understanding and GUI automation on Linux/X11.",
  subcommands: Commands.all
)
let status = Runner.run(root, arguments: Array(CommandLine.arguments.dropFirst()))
exit(status.rawValue)
