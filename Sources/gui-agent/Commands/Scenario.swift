import Agent
import Engine
import Foundation
import Grounding

/// `gui-agent scenario run FILE|DIR`: end-to-end scenarios, each on a private X server.
extension Commands {
  static let scenario = Command(
    name: "scenario",
    abstract: "Run end-to-end scenarios: real applications, a scripted plan, a check.",
    subcommands: [scenarioRun])

  static let scenarioRun = Command(
    name: "run", abstract: "Run the scenarios of a file or folder and print a pass/fail table.",
    discussion: """
      Each scenario starts its own Xvfb and applications, runs its scripted plan through the agent \
      loop (recorded in the episode store) and its check command; see Scenarios/README.md. \
      Exit status 0 only when every scenario passed. --json prints \
      {"passed", "failed", "scenarios": [{"name", "passed", "episode_id", "steps", "reason", "seconds"}]}. \
      --shard K/N|auto runs the scenarios whose index in file-name order % N == K; '{shard}' in \
      --store becomes K-of-N, a store per shard for 'episodes merge'.
      """,
    options: [storeOption, .flag("keep-going", "Run the remaining scenarios after a failure."),
              .value("model", "DIR", "The grounding model for element descriptions that are not @name references "
                       + "(default: the embedded bluelm-vl-nano, loaded only when a plan has such descriptions)."),
              .value("threads", "N", "Compute threads of the grounding model (default: all cores)."),
              .value("shard", "K/N|auto[/N]", shardOptionHelp)] + grounderOptionSpecs,
    positionals: [PositionalSpec(name: "FILE|DIR", help: "A scenario file, or a folder of them (*.json).")],
    run: { args in
      let shard = try shardOption(args)
      let scenarios = try Scenario.loadAll(from: URL(fileURLWithPath: args.positionals[0]))
        .enumerated().filter { shard.contains($0.offset) }.map(\.element)
      if scenarios.isEmpty { Output.log("shard \(shard) has no scenarios"); return .success }
      let store = try EpisodeStore(path: shardStoreURL(args, shard: shard))
      let json = args.json
      let width = max(8, scenarios.map(\.name.count).max() ?? 8)
      if !json { Output.out(row("scenario", "result", "steps", "seconds", "reason", width: width)) }
      let bar = ProgressBar(total: scenarios.count, label: "scenarios", unit: "scenario")
      var done = 0
      var runner = ScenarioRunner(store: store) { r in
        done += 1
        defer { bar.update(done) }
        guard !json else { return }
        bar.clear()
        Output.out(row(r.name, r.passed ? "pass" : "FAIL", "\(r.steps)", String(format: "%.1f", r.seconds),
                       r.reason.replacingOccurrences(of: "\n", with: " "), width: width))
      }
      let mode = try grounderMode(args)
      if mode == .ocr, args.string("model") != nil { throw UsageError("--grounder ocr uses no model: drop --model, or use --grounder hybrid") }
      if mode != .ocr, args.string("model") != nil || scenarios.contains(where: { !$0.describedElements.isEmpty }) {
        let threads = try args.int("threads", range: 1...256) ?? ProcessInfo.processInfo.activeProcessorCount
        let model = try ModelLoader.load(path: try DefaultModel.resolve(args.string("model")), threads: threads)
        runner.describedLocator = mode == .hybrid ? try textLocator(args, vlm: model, grounding: GroundingOptions())
          : try GrounderLocator(model: model)
      } else if mode == .ocr {
        runner.describedLocator = try textLocator(args, vlm: nil, grounding: GroundingOptions())
      }
      bar.update(0)
      let report = runner.run(scenarios, keepGoing: args.flag("keep-going"))
      bar.finish()
      if json {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        Output.out(String(decoding: try encoder.encode(report), as: UTF8.self))
      } else {
        let skipped = scenarios.count - report.scenarios.count
        Output.out("\(report.passed) passed, \(report.failed) failed" + (skipped > 0 ? ", \(skipped) not run" : ""))
      }
      return report.allPassed && report.scenarios.count == scenarios.count ? .success : .failure
    })

  private static func row(_ name: String, _ result: String, _ steps: String, _ seconds: String, _ reason: String,
                          width: Int) -> String {
    func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
    return pad(name, width) + "  " + pad(result, 6) + "  " + pad(steps, 5) + "  " + pad(seconds, 7) + "  " + reason
  }
}
