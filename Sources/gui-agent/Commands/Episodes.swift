import Agent
import Foundation

/// `gui-agent episodes …`: the recorded episodes: list, show, export, remove.
extension Commands {
  static let episodes = Command(
    name: "episodes",
    abstract: "List, show, export and remove recorded episodes.",
    subcommands: [episodesList, episodesShow, episodesExport, episodesRemove, episodesMerge])

  private static let idArgument = [PositionalSpec(name: "ID", help: "The episode id (see 'episodes list').")]

  static let episodesList = Command(
    name: "list", abstract: "List episodes, newest last.",
    discussion: "--json prints an array of {\"id\", \"task\", \"status\", \"steps\", \"started\", \"ended\"}.",
    options: [storeOption],
    run: { args in
      let list = try EpisodeStore(path: storeURL(args)).episodes()
      if args.json {
        try Output.json(list.map { e -> [String: Any] in
          ["id": e.id, "task": e.task, "status": e.status.rawValue, "steps": e.stepCount,
           "started": timestamp(e.started), "ended": e.ended.map { timestamp($0) as Any } ?? NSNull()]
        })
        return .success
      }
      if list.isEmpty { Output.log("no episodes in \(storeURL(args).path)") }
      for e in list {
        Output.out("\(e.id)\t\(e.status.rawValue)\t\(e.stepCount) steps\t\(timestamp(e.started))\t\(e.task)")
      }
      return .success
    })

  static let episodesShow = Command(
    name: "show", abstract: "Show an episode and its steps.",
    options: [storeOption], positionals: idArgument,
    run: { args in
      let store = try EpisodeStore(path: storeURL(args))
      let id = try episodeID(args)
      let e = try store.episode(id)
      let steps = try store.steps(episode: id)
      if args.json {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, enc in
          var c = enc.singleValueContainer()
          try c.encode(timestamp(date))
        }
        // The settings as an object, not the JSON text the store keeps.
        var episode = try JSONSerialization.jsonObject(with: encoder.encode(e)) as? [String: Any] ?? [:]
        episode["settings"] = try? JSONSerialization.jsonObject(with: Data(e.settingsJSON.utf8))
        episode["settingsJSON"] = nil
        let object: [String: Any] = [
          "episode": episode,
          "steps": try JSONSerialization.jsonObject(with: encoder.encode(steps)),
        ]
        try Output.json(object)
        return .success
      }
      Output.out("episode \(e.id): \(e.task)")
      Output.out("status: \(e.status.rawValue)  steps: \(e.stepCount)  started: \(timestamp(e.started))"
        + (e.ended.map { "  ended: \(timestamp($0))" } ?? ""))
      for (role, model) in e.models.sorted(by: { $0.key < $1.key }) { Output.out("\(role): \(model)") }
      if let s = e.summary { Output.out("summary: \(s)") }
      if let err = e.error { Output.out("error: \(err)") }
      for s in steps {
        Output.out("step \(s.index + 1)")
        if let r = s.reasoning, !r.isEmpty { Output.out("  reasoning: \(r)") }
        Output.out("  action: " + (s.action.map { JSONActionGrammar.serialize($0) } ?? s.actionJSON ?? "none (output: \(s.rawOutput))"))
        if let p = s.groundedPoint { Output.out("  point: (\(Int(p.x)), \(Int(p.y)))") }
        if let b = s.groundedBox { Output.out("  grounding region: \(b.width) x \(b.height) at (\(b.x), \(b.y))") }
        if let c = s.screenChanged { Output.out("  screen changed: \(c ? "yes" : "no")") }
        if s.ended == nil { Output.out("  outcome: never recorded (the process stopped during the action)") }
        if let err = s.error { Output.out("  error: \(err)") }
      }
      return .success
    })

  static let episodesExport = Command(
    name: "export", abstract: "Export an episode as JSONL, OSWorld trajectory or an HTML page.",
    discussion: "jsonl and osworld write a folder (default ./episode-ID-FORMAT); html writes one file (default ./episode-ID.html).",
    options: [storeOption,
              .value("format", "jsonl|html|osworld", "The export format (required)."),
              .value("out", short: "o", "PATH", "Where to write.")],
    positionals: idArgument,
    run: { args in
      let store = try EpisodeStore(path: storeURL(args))
      let id = try episodeID(args)
      guard let format = args.string("format") else { throw UsageError("missing --format jsonl|html|osworld") }
      let written: URL
      switch format {
      case "jsonl":
        written = try store.exportJSONL(episode: id, to: URL(fileURLWithPath: args.string("out") ?? "episode-\(id)-jsonl"))
      case "osworld":
        written = try store.exportOSWorld(episode: id, to: URL(fileURLWithPath: args.string("out") ?? "episode-\(id)-osworld"))
      case "html":
        written = URL(fileURLWithPath: args.string("out") ?? "episode-\(id).html")
        try store.exportHTML(episode: id, to: written)
      default:
        throw UsageError("--format: '\(format)' is not jsonl, html or osworld")
      }
      if args.json { try Output.json(["episode": id, "format": format, "path": written.path]) } else { Output.out(written.path) }
      return .success
    })

  static let episodesRemove = Command(
    name: "rm", abstract: "Remove an episode and its steps.",
    options: [storeOption], positionals: idArgument,
    run: { args in
      let id = try episodeID(args)
      try EpisodeStore(path: storeURL(args)).delete(episode: id)
      if args.json { try Output.json(["removed": id]) } else { Output.log("removed episode \(id)") }
      return .success
    })

  private static func episodeID(_ args: ParsedArguments) throws -> Int64 {
    let s = args.positionals[0]
    guard let id = Int64(s), id > 0 else { throw UsageError("episode id '\(s)' is not a positive integer") }
    return id
  }

  /// ISO-8601 UTC with milliseconds, as the store writes times.
  static func timestamp(_ date: Date) -> String {
    date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
  }
}
