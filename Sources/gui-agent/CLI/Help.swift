/// `--help` text for commands, in the usual layout: usage, abstract, arguments, options.
enum Help {
  static func text(for command: Command, path: String) -> String {
    var out = "OVERVIEW: \(command.abstract)\n\n"
    if !command.subcommands.isEmpty {
      out += "USAGE: \(path) <subcommand>\n\nSUBCOMMANDS:\n"
      let width = (command.subcommands.map(\.name.count).max() ?? 0) + 2
      for sub in command.subcommands {
        out += "  " + sub.name.padding(width) + sub.abstract + "\n"
      }
      out += "\n  See '\(path) <subcommand> --help' for details.\n"
      return out
    }
    var usage = path
    if !command.options.isEmpty { usage += " [options]" }
    for p in command.positionals {
      let v = p.variadic ? "\(p.name) ..." : p.name
      usage += p.optional ? " [\(v)]" : " \(v)"
    }
    out += "USAGE: \(usage)\n"
    if !command.discussion.isEmpty { out += "\n\(command.discussion)\n" }
    if !command.positionals.isEmpty {
      out += "\nARGUMENTS:\n"
      let width = (command.positionals.map(\.name.count).max() ?? 0) + 2
      for p in command.positionals { out += "  " + p.name.padding(width) + p.help + "\n" }
    }
    out += "\nOPTIONS:\n"
    let all = command.options + Command.commonOptions
    let labels = all.map { spec -> String in
      var l = spec.short.map { "-\($0), " } ?? ""
      l += "--\(spec.name)"
      if let v = spec.valueName { l += " \(v)" }
      return l
    }
    let width = (labels.map(\.count).max() ?? 0) + 2
    for (label, spec) in zip(labels, all) { out += "  " + label.padding(width) + spec.help + "\n" }
    return out
  }
}

extension String {
  fileprivate func padding(_ width: Int) -> String {
    count >= width ? self + " " : self + String(repeating: " ", count: width - count)
  }
}
