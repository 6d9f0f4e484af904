import Agent
import Foundation

/// `gui-agent episodes merge A.sqlite B.sqlite … -o ALL.sqlite`: one store from several (e.g. the
/// stores of a cluster job's shards).
extension Commands {
  static let episodesMerge = Command(
    name: "merge", abstract: "Join episode stores into a new one.",
    discussion: """
      Every episode, step and screenshot of each store is copied, stores in the order given and
      episodes in id order. An episode keeps its id unless an earlier store's took it; then it gets
      the next free id (the same inputs always give the same output). Each copied episode records
      the store it came from (source_store, source_id) and keeps the host that ran it. The output
      is built in a temporary file beside it and put in place when complete; an existing output is
      refused. --json prints {"output", "episodes", "steps", "renumbered": [{"store", "from", "to"}]}.
      """,
    options: [.value("output", short: "o", "ALL.sqlite", "The new store (required; must not exist).")],
    positionals: [PositionalSpec(name: "STORE.sqlite", help: "Episode stores to join.", variadic: true)],
    run: { args in
      guard let output = args.string("output") else { throw UsageError("missing -o ALL.sqlite") }
      guard !args.positionals.isEmpty else { throw UsageError("give the stores to merge") }
      let summary = try StoreMerge.merge(args.positionals.map { URL(fileURLWithPath: $0) },
                                         into: URL(fileURLWithPath: output))
      if args.json {
        try Output.json(["output": output, "episodes": summary.episodes, "steps": summary.steps,
                         "renumbered": summary.renumbered.map { ["store": $0.store, "from": $0.from, "to": $0.to] }])
      } else {
        for r in summary.renumbered { Output.log("\(r.store): episode \(r.from) is \(r.to) in \(output)") }
        Output.out("\(summary.episodes) episodes, \(summary.steps) steps from \(args.positionals.count) stores in \(output)")
      }
      return .success
    })
}
