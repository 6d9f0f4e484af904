/// Every top-level command, in the order `--help` lists them.
enum Commands {
  static let all: [Command] = [
    screens, capture, act, tiles, ground, parse, models, generate, eval, run, episodes, scenario, serve, bench, quantize, version,
  ]

  static let version = Command(
    name: "version",
    abstract: "Print the version.",
    run: { args in
      if args.json { try Output.json(["version": Version.string]) } else { Output.out(Version.string) }
      return .success
    })
}
