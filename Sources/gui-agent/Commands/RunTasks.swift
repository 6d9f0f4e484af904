import Agent
import Engine
import Foundation
import Grounding
import ScreenCapture

/// One line of a `run --tasks` file.
struct TaskLine: Decodable {
  /// A name for reports (default: the line number).
  var id: String?
  /// What to do; a scenario line may leave it out (the scenario has its own).
  var task: String?
  /// A scripted plan (JSON), relative to the task file's folder.
  var plan: String?
  /// A scenario file (its own Xvfb, applications and check), relative to the task file's folder.
  var scenario: String?
}

/// `gui-agent run --tasks FILE.jsonl [--shard K/N|auto] [--store PATH]`: a batch of episodes on a
/// private Xvfb of this shard's own, recorded in this shard's store (`{shard}` in --store).
extension Commands {
  static let tasksDiscussion = """
    With --tasks FILE.jsonl (one JSON object a line: "task", optional "id", "plan", "scenario";
    paths relative to the file) the tasks run one after another instead of TASK: a scenario line
    as 'scenario run' runs it, the others on an Xvfb started for this run (--display is not used).
    --shard K/N|auto|auto/N takes the lines whose index (0-based, blank lines not counted) % N == K;
    '{shard}' in --store becomes K-of-N, a store per shard for 'episodes merge'.
    """

  static func runTasks(_ args: ParsedArguments, file: String) throws -> ExitCode {
    let shard = try shardOption(args)
    let all = try readTaskLines(file)
    let mine = all.enumerated().filter { shard.contains($0.offset) }
    let folder = URL(fileURLWithPath: file).deletingLastPathComponent()
    let store = try EpisodeStore(path: shardStoreURL(args, shard: shard))
    let settings = try agentSettings(args)
    let threads = try args.int("threads", range: 1...256) ?? ProcessInfo.processInfo.activeProcessorCount
    // The VLM only when a line needs one: no plan (it plans) or --model given (it grounds).
    let needsModel = args.string("model") != nil || mine.contains { $0.element.plan == nil && $0.element.scenario == nil }
    let vlm = needsModel ? try ModelLoader.load(path: try DefaultModel.resolve(args.string("model")), threads: threads) : nil
    var server: PrivateDisplay? = nil
    defer { server?.stop() }
    let textLocator = try textLocator(args, vlm: vlm, grounding: try groundingOptions(args))
    var results: [[String: Any]] = []
    if !args.json { Output.log("shard \(shard): \(mine.count) of \(all.count) tasks, store \(store.url.path)") }
    for (index, line) in mine {
      let id = line.id ?? "line \(index + 1)"
      var result: [String: Any] = ["id": id]
      if let scenarioPath = line.scenario {
        var runner = ScenarioRunner(store: store)
        if let textLocator { runner.describedLocator = textLocator } else if let vlm { runner.describedLocator = try GrounderLocator(model: vlm) }
        let scenario = try Scenario.load(from: resolve(scenarioPath, in: folder))
        let r = runner.run(scenario)
        result.merge(["status": r.passed ? "succeeded" : "failed", "steps": r.steps, "reason": r.reason,
                      "episode_id": r.episodeId.map { $0 as Any } ?? NSNull()]) { a, _ in a }
      } else {
        guard let task = line.task else { throw UsageError("\(file): task \(id) has neither \"task\" nor \"scenario\"") }
        if server == nil { server = try PrivateDisplay() }
        let display = try X11Display(display: server?.display)
        let plan = try line.plan.map { try ScriptedPlan.load(from: resolve($0, in: folder)) }
        var configuration = try AgentLoop.Configuration(display: display, store: store, vlm: vlm,
                                                        planner: nil, settings: settings, grounding: try groundingOptions(args))
        if let textLocator { configuration.locator = textLocator }
        let outcome = try AgentLoop(configuration: configuration).run(task: task, plan: plan)
        result.merge(["status": outcome.status.rawValue, "steps": outcome.steps, "reason": outcome.reason,
                      "episode_id": outcome.episodeId]) { a, _ in a }
      }
      if !args.json {
        Output.out("\(id)\t\(result["status"] ?? "")\t\(result["steps"] ?? 0) steps\t\(result["reason"] ?? "")")
      }
      results.append(result)
    }
    let succeeded = results.filter { $0["status"] as? String == "succeeded" }.count
    if args.json {
      try Output.json(["shard": shard.description, "store": store.url.path, "succeeded": succeeded,
                       "failed": results.count - succeeded, "tasks": results])
    } else {
      Output.out("\(succeeded) succeeded, \(results.count - succeeded) failed")
    }
    return succeeded == results.count ? .success : .failure
  }

  /// A path of a task line: absolute as it is, else relative to the task file's folder.
  private static func resolve(_ path: String, in folder: URL) -> URL {
    path.hasPrefix("/") ? URL(fileURLWithPath: path) : folder.appendingPathComponent(path)
  }

  /// The lines of a task file, blank lines left out.
  static func readTaskLines(_ file: String) throws -> [TaskLine] {
    let text: String
    do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
      throw AgentError.invalidArgument("--tasks \(file): \(error.localizedDescription)")
    }
    var lines: [TaskLine] = []
    for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      guard !raw.allSatisfy(\.isWhitespace) else { continue }
      do { lines.append(try JSONDecoder().decode(TaskLine.self, from: Data(raw.utf8))) } catch {
        throw AgentError.invalidArgument("--tasks \(file) line \(n + 1): not a task object (\(error.localizedDescription))")
      }
    }
    return lines
  }
}
