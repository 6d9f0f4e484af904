import Agent
import Engine
import Foundation
import Grounding
import Imaging
import ScreenCapture
import Synchronization

/// `gui-agent run "task"`: the agent loop, streamed to the terminal and recorded in the store.
extension Commands {
  static let storeOption = OptionSpec.value("store", "PATH", "The episode store (default: $XDG_DATA_HOME/gui-agent/episodes.sqlite).")

  static let run = Command(
    name: "run",
    abstract: "Do a task on the screen: look, think, act, look again, until done; record every step.",
    discussion: """
      Modes: --model DIR alone: the VLM plans (thinking mode) and points. --planner MODEL with
      --model DIR: the planner (e.g. a .gguf chat model) names elements, the VLM locates them.
      --plan FILE: a scripted plan (JSON, points in screen pixels; see docs/agent-loop.md); with
      --model, its element targets are grounded. Each step prints the reasoning, the action and
      the point; the run ends with the episode id and the path of its HTML trace. Exit status 0
      when the episode succeeded, 1 otherwise, 4 when the episode store cannot be written (disk
      full, read-only).

      The --model folder is recognised as a known model ('gui-agent models') for its coordinate
      convention and grounding prompt; --model-name, --convention and --prompt-template override
      that (a VLM that plans gets the agent's own prompt; the convention still applies).

      Served models (vLLM, llama-server, ollama, 'gui-agent serve'; docs/agent-loop.md):
      --model-url URL --model-name NAME: a served VLM plans and points (e.g. ui-tars-1.5-7b; the
      name picks the known model's convention and grammar). --planner-url URL --planner-model
      NAME: a served model plans, --model (default: the embedded model) grounds. The API key is
      read from $\(ChatEndpoint.defaultKeyVariable), or the variable --api-key-env names.

      Element descriptions are located by the --model VLM (--grounder model), by the screen's
      text read with Tesseract (--grounder ocr), or by both (--grounder hybrid: OCR matches, the
      model choosing among several and grounding alone where no text matches). In mode 2 the
      planner is shown the screen's text lines, numbered, and may answer {"element_id": N}
      (--no-elements: not shown).
      """ + tasksDiscussion,
    options: [
      .value("model", "DIR", "The vision-language model (a checkpoint folder, docs/models.md; default: the embedded bluelm-vl-nano)."),
      .value("planner", "MODEL", "A text planner model (directory or .gguf); --model then grounds."),
      .value("plan", "FILE", "A scripted plan (JSON)."),
      .value("think-budget", "N", "Reasoning tokens per step for a model planner (default 256; 0: no thinking)."),
      .value("max-steps", "N", "Steps before stopping (default 25)."),
      .flag("constrained", "Restrict a model planner's answer to the JSON action grammar (always a valid action)."),
      .flag("dry-run", "Plan, ground, check and record, but send no input events."),
      .flag("confirm", "Ask on the terminal before each action."),
      .value("allow", "ACTIONS", "Comma-separated action names allowed (default: all)."),
      .value("deny-keys", "COMBO", "Also refuse this key combination, e.g. ctrl+q (repeatable).", repeatable: true),
      .value("deny-text", "REGEX", "Also refuse typing text that matches this regular expression (case-insensitive; repeatable).",
             repeatable: true),
      .flag("no-fail-safe", "Do not stop when the pointer is moved into a screen corner."),
      .value("settle", "MS", "Pause after each action before looking again (default 500)."),
      .value("step-timeout", "S", "Seconds a step may take (default 300)."),
      .value("episode-timeout", "S", "Seconds the episode may take (default 3600)."),
      .value("history", "K", "Earlier steps shown to the planner (default 5)."),
      .value("trace-out", "FILE", "Where to write the HTML trace (default: traces/ next to the store)."),
      .value("threads", "N", "Compute threads (default: all cores)."),
    ] + remotePlannerOptions + pairOptions + groundingOptionSpecs + grounderOptionSpecs + agentTextOptions + [
      storeOption, displayOption,
      .value("tasks", "FILE.jsonl", "Run the tasks of FILE (one JSON object a line) instead of TASK."),
      .value("shard", "K/N|auto[/N]", "With --tasks: only the lines with index % N == K (0-based); auto, auto/N as in 'eval screenspot'."),
    ],
    positionals: [PositionalSpec(name: "TASK", help: "What to do, e.g. \"open the File menu\".", optional: true)],
    run: { args in
      if let file = args.string("tasks") { return try runTasks(args, file: file) }
      if args.string("shard") != nil { throw UsageError("--shard goes with --tasks") }
      guard let task = args.positionals.first else { throw UsageError("missing TASK (or --tasks FILE.jsonl)") }
      let settings = try agentSettings(args)
      let remote = try remoteMode(args)
      let plan = try args.string("plan").map { try ScriptedPlan.load(from: URL(fileURLWithPath: $0)) }
      let threads = try args.int("threads", range: 1...256) ?? ProcessInfo.processInfo.activeProcessorCount
      // With --model-url, --model-name is the served model's name, not a local folder's.
      let grounding = try groundingOptions(args, readModelName: remote != .vision)
      let localGrounding = remote == .vision ? GroundingOptions() : grounding
      let served = try remote.map { try remotePlanner(args, mode: $0, convention: grounding.convention) }
      // Without a plan the VLM is needed: --model, else the embedded default. A plan uses one
      // only to ground its element descriptions: --model, else the default when it exists. A
      // served VLM grounds its own points: a local one only when --model is given.
      let vlmPath = remote == .vision ? args.string("model")
        : plan == nil ? try DefaultModel.resolve(args.string("model")) : (args.string("model") ?? DefaultModel.path())
      let pair = try loadOptions(args)
      let vlm = try vlmPath.map { try ModelLoader.load(path: $0, options: pair, threads: threads) }
      for note in vlm?.notes ?? [] { Output.log(note) }
      let plannerModel = plan == nil ? try args.string("planner").map { try ModelLoader.load(path: $0, threads: threads) } : nil
      let store = try EpisodeStore(path: storeURL(args))
      let display = try X11Display(display: args.string("display"))
      if let vlm, vlm.vision != nil {
        logSetup(try GroundingSetup.choose(folder: vlm.path, family: vlm.family, checkpointTemplate: vlm.promptTemplate,
                                           options: localGrounding))
      }
      var configuration: AgentLoop.Configuration
      if let served {
        let locator = try vlm.map { try GrounderLocator(model: $0, grounding: localGrounding) }
        configuration = AgentLoop.Configuration(display: display, store: store, planner: served, locator: locator, settings: settings)
      } else {
        configuration = try AgentLoop.Configuration(display: display, store: store, vlm: vlm, planner: plannerModel,
                                                    settings: settings, grounding: grounding,
                                                    parser: plannerModel != nil ? try elementParser(args) : nil)
      }
      if let locator = try textLocator(args, vlm: vlm, grounding: localGrounding) { configuration.locator = locator }
      if args.flag("confirm") { configuration.confirm = askBeforeAction }
      let json = args.json
      if !json { configuration.onStep = printStep }
      let interrupt = InterruptRequest.install()
      configuration.stopRequested = { InterruptRequest.flag.load(ordering: .relaxed) }
      defer { interrupt.cancel() }
      let outcome = try AgentLoop(configuration: configuration).run(task: task, plan: plan)
      let trace = args.string("trace-out").map { URL(fileURLWithPath: $0) }
        ?? store.url.deletingLastPathComponent().appendingPathComponent("traces/episode-\(outcome.episodeId).html")
      try store.exportHTML(episode: outcome.episodeId, to: trace)
      if json {
        try Output.json(["episode": outcome.episodeId, "status": outcome.status.rawValue, "steps": outcome.steps,
                         "reason": outcome.reason, "trace": trace.path])
      } else {
        Output.out("episode \(outcome.episodeId): \(outcome.status.rawValue) after \(outcome.steps) step(s): \(outcome.reason)")
        Output.out("trace: \(trace.path)")
      }
      return outcome.status == .succeeded ? .success : .failure
    })

  // MARK: - Helpers

  static func storeURL(_ args: ParsedArguments) -> URL {
    args.string("store").map { URL(fileURLWithPath: $0) } ?? EpisodeStore.defaultURL()
  }

  static func agentSettings(_ args: ParsedArguments) throws -> AgentSettings {
    var s = AgentSettings()
    s.maxSteps = try args.int("max-steps", range: 1...10_000) ?? s.maxSteps
    s.dryRun = args.flag("dry-run")
    s.constrainedDecoding = args.flag("constrained")
    let budget = try args.int("think-budget", range: 0...1_000_000) ?? 256
    s.thinkBudget = budget == 0 ? nil : budget
    if let allow = args.string("allow") {
      let names = allow.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
      let known = Set(SafetyPolicy.actionNames)
      if let bad = names.first(where: { !known.contains($0) }) {
        throw UsageError("--allow: '\(bad)' is not an action (\(known.sorted().joined(separator: ", ")))")
      }
      s.allowedActions = names
    }
    s.deniedKeyCombinations += args.strings("deny-keys").map { $0.split(separator: "+").map(String.init) }
    s.deniedTextPatterns += args.strings("deny-text")
    if let bad = SafetyPolicy.invalidPattern(in: s.deniedTextPatterns) { throw UsageError("--deny-text: \(bad)") }
    s.failSafe = !args.flag("no-fail-safe")
    s.settleSeconds = Double(try args.int("settle", range: 0...600_000) ?? 500) / 1000
    s.stepTimeoutSeconds = try args.double("step-timeout", range: 0.001...1e6) ?? s.stepTimeoutSeconds
    s.episodeTimeoutSeconds = try args.double("episode-timeout", range: 0.001...1e7) ?? s.episodeTimeoutSeconds
    s.historyLength = try args.int("history", range: 0...1000) ?? s.historyLength
    return s
  }

  /// One step as the terminal shows it.
  private static func printStep(_ r: StepReport) {
    Output.out("step \(r.index + 1)")
    if let thought = r.reasoning, !thought.isEmpty { Output.out("  reasoning: \(thought)") }
    if let action = r.action {
      Output.out("  action: \(JSONActionGrammar.serialize(action))")
    } else {
      Output.out("  output: \(r.rawOutput)")
    }
    if !r.points.isEmpty { Output.out("  point: " + r.points.map(\.description).joined(separator: " -> ")) }
    if let changed = r.screenChanged { Output.out("  screen changed: \(changed ? "yes" : "no")\(r.executed ? "" : " (no input sent)")") }
    if let error = r.error { Output.out("  error: \(error)") }
  }

  /// `--confirm`: asks on the terminal (standard error and standard input).
  private static func askBeforeAction(_ action: AgentAction, _ points: [ScreenPoint]) -> Bool {
    let at = points.isEmpty ? "" : " at " + points.map(\.description).joined(separator: " -> ")
    Output.writeError(Data("run \(JSONActionGrammar.serialize(action))\(at)? [y/N] ".utf8))
    guard let answer = readLine() else { return false }
    return ["y", "yes"].contains(answer.trimmingCharacters(in: .whitespaces).lowercased())
  }
}

/// Ctrl-C during `run`: the first stops the episode after the current step (recorded as
/// `stopped`, trace written); a second quits at once (the store marks the episode
/// `interrupted` when next opened).
enum InterruptRequest {
  static let flag = Atomic<Bool>(false)

  static func install() -> any DispatchSourceSignal {
    signal(SIGINT, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
    source.setEventHandler {
      if flag.exchange(true, ordering: .relaxed) { exit(130) }
      Output.log("stopping after this step (Ctrl-C again to quit now)")
    }
    source.resume()
    return source
  }
}
