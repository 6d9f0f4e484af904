import Engine
import Foundation
import Grounding

/// `gui-agent eval`: grounding benchmarks (ScreenSpot v1, v2, Pro) and joining their results.
extension Commands {
  static let eval = Command(
    name: "eval",
    abstract: "Measure grounding accuracy on ScreenSpot benchmarks.",
    subcommands: [evalScreenspot, evalMerge, evalCompare])

  static let reportOptions: [OptionSpec] = [
    .value("markdown", "FILE", "Also write the report as a Markdown table to FILE."),
    .value("plot", "FILE.png", "Also draw accuracy by source and by text/icon as a bar chart to FILE.png."),
  ]

  static let evalScreenspot = Command(
    name: "screenspot",
    abstract: "Score a model, a baseline or a predictions file on ScreenSpot v1, v2 or Pro.",
    discussion: """
      --data is one annotation file: a JSON list of samples. Its format is detected from its
      fields: ui_type/platform/img_size mean ScreenSpot-Pro (bbox [x1,y1,x2,y2]); data_type/
      data_source mean v1 or v2 (bbox [x,y,w,h]; v2 when the file name contains "v2"). --format
      forces one. Image files are looked up as --images/img_filename. The report breaks accuracy
      down by data_source (v1, v2) or platform (Pro); --group-by names another field (Pro: group,
      application).

      A sample is a hit when the predicted point lies in its box, edges included (x1 <= x <= x2,
      y1 <= y <= y2, as SeeClick's and ScreenSpot-Pro's scripts count). An answer without a point,
      or a sample missing from --predictions, is a miss. A model with a pointer head grounds with
      it; with --min-score S a best region scoring below S is "not found", a miss. A sample that cannot be scored (missing
      image, unreadable PNG, box outside the image, missing or unknown field) is skipped: it is
      named on standard error and counted apart.

      With --out every result is appended to a JSONL file as soon as it exists; running again with
      the same --out continues where the last run stopped (a line cut short is rewritten).
      --shard K/N takes the samples whose index modulo N is K; 'gui-agent eval merge' joins the
      shards' files. --limit N keeps the first N samples of the file, before sharding.

      With --model, the folder is recognised as a known model ('gui-agent models'), which gives
      its coordinate convention and prompt; --model-name, --convention and --prompt-template
      override that choice, and the report's --json says what was used.
      """,
    options: modelOptions + thinkingOptions + reportOptions + [
      .value("data", "ANNOTATIONS.json", "The annotation file (required)."),
      .value("images", "DIR", "The folder the annotations' img_filename are relative to (required)."),
      .value("format", "v1|v2|pro", "The annotation format (default: detected)."),
      .value("group-by", "FIELD", "The field to break accuracy down by (default data_source; Pro: platform)."),
      .value("baseline", "center|random", "Score a baseline instead of a model."),
      .value("seed", "S", "With --baseline random: the seed (default 0)."),
      .value("predictions", "FILE", "Score points from FILE (JSONL or JSON list: img_filename, instruction, x, y)."),
      .value("out", "RESULTS.jsonl", "Append per-sample results here; resumes a run that stopped."),
      .value("shard", "K/N", "Run only samples with index % N == K (0-based)."),
      .value("limit", "N", "Only the first N samples of the file."),
      .value("max-tokens", "N", "With --model: most answer tokens (default: the prompt's own, else 48; a thinking budget adds to it)."),
    ] + groundingOptionSpecs + [
      minScoreOption,
    ],
    run: { args in
      guard let data = args.string("data") else { throw UsageError("missing --data ANNOTATIONS.json") }
      guard let images = args.string("images") else { throw UsageError("missing --images DIR") }
      let format = try args.string("format").map { (f: String) throws(UsageError) -> ScreenSpotFormat in
        guard let v = ScreenSpotFormat(rawValue: f) else { throw UsageError("--format: '\(f)' is not v1, v2 or pro") }
        return v
      }
      let shard: Shard
      do { shard = try args.string("shard").map { try Shard(parsing: $0) } ?? .whole } catch {
        throw UsageError("--shard: \(error.localizedDescription)")
      }
      let limit = try args.int("limit", range: 0...Int.max)
      try checkMethodOptions(args)
      var isFolder: ObjCBool = false
      guard FileManager.default.fileExists(atPath: images, isDirectory: &isFolder), isFolder.boolValue else {
        throw GroundingError.invalidArgument("--images \(images) is not a folder")
      }
      // The annotations before the model: a bad file should not wait for a model load.
      let annotations = try ScreenSpotAnnotations.read(path: data, format: format, groupBy: args.string("group-by"))
      let (method, label) = try evaluationMethod(args)
      if annotations.entries.isEmpty { Output.log("\(data) holds no samples") }
      let evaluator = ScreenSpotEvaluator(imagesDirectory: images, method: method, shard: shard, limit: limit)

      var existing: [EvaluationRecord] = []
      var writer: ResultsFile.Writer? = nil
      if let out = args.string("out") {
        let contents = try ResultsFile.read(path: out)
        if contents.droppedPartialLine { Output.log("\(out): the last line was cut short; it is left out and rewritten") }
        existing = contents.records
        writer = try ResultsFile.Writer(path: out, validLength: contents.validLength)
      }
      // The bar counts this run's samples only (not resumed ones), so its ETA holds.
      var bar: (ProgressBar, resumed: Int)? = nil
      let run = try evaluator.run(annotations, existing: existing) { record, done, total throws(GroundingError) in
        try writer?.append(record)
        if let reason = record.skipped {
          // Over a progress bar: clear its line first, the bar redraws below.
          Output.err((bar != nil && Output.stdoutIsTerminal ? "\r\u{1B}[K" : "") + "gui-agent: skipped \(record.key): \(reason)")
        }
        if bar == nil { bar = (ProgressBar(total: total - done + 1, label: "screenspot \(annotations.format)"), done - 1) }
        bar.map { $0.0.update(done - $0.resumed) }
      }
      bar?.0.finish()
      if run.resumed > 0 { Output.log("\(run.resumed) samples were already in \(args.string("out") ?? "")") }
      if run.unmatched > 0 {
        Output.log("\(run.unmatched) records in \(args.string("out") ?? "") match no sample of this run; left out of the report")
      }
      if case let .predictions(table) = method {
        let missing = run.records.filter { $0.skipped == nil && $0.noCoordinate?.hasPrefix("no prediction") == true }.count
        if missing > 0 { Output.log("\(missing) samples have no prediction in \(table.path); counted as misses") }
      }
      let report = AccuracyReport(records: run.records)
      var extra: [String: Any] = ["format": annotations.format.rawValue, "data": data, "method": label]
      if shard != .whole { extra["shard"] = shard.description }
      if case let .model(grounder, _, _) = method { extra.merge(setupJSON(grounder.setup)) { a, _ in a } }
      try printReport(report, args: args, title: "ScreenSpot \(annotations.format) — \((data as NSString).lastPathComponent), \(label)", extra: extra)
      return .success
    })

  static let evalMerge = Command(
    name: "merge",
    abstract: "Join the results files of several runs (shards) and print one report.",
    discussion: """
      Each file is a --out file of 'gui-agent eval screenspot'. Records of one sample (same index,
      image and instruction) that agree count once; records that disagree are an error (exit 1).
      Files of different annotation files (e.g. ScreenSpot-Pro's per-application files) join too.
      """,
    options: reportOptions,
    positionals: [PositionalSpec(name: "RESULTS.jsonl", help: "Results files to join.", variadic: true)],
    run: { args in
      var lists: [[EvaluationRecord]] = []
      for path in args.positionals {
        guard FileManager.default.fileExists(atPath: path) else { throw GroundingError.recordFile(path: path, line: 0, reason: "no such file") }
        let contents = try ResultsFile.read(path: path)
        if contents.droppedPartialLine { Output.log("\(path): the last line was cut short; it is left out") }
        lists.append(contents.records)
      }
      let merged = try ResultsFile.merge(lists)
      let report = AccuracyReport(records: merged)
      try printReport(report, args: args, title: "ScreenSpot — \(args.positionals.count) results files joined",
                      extra: ["files": args.positionals])
      return .success
    })

  // MARK: - Helpers

  /// Checks that exactly one of --model, --baseline, --predictions is given, with only its options.
  static func checkMethodOptions(_ args: ParsedArguments) throws {
    let given = ["model", "baseline", "predictions"].filter { args.string($0) != nil }
    guard given.count <= 1 else {
      throw UsageError("give only one of " + given.map { "--\($0)" }.joined(separator: ", "))
    }
    if let b = args.string("baseline"), b != "center", b != "random" { throw UsageError("--baseline: '\(b)' is not center or random") }
    if args.string("seed") != nil, args.string("baseline") != "random" { throw UsageError("--seed goes with --baseline random") }
    if args.string("baseline") != nil || args.string("predictions") != nil {
      for name in ["think", "no-think"] where args.flag(name) { throw UsageError("--\(name) goes with --model") }
      for name in ["think-budget", "max-tokens", "prompt-template", "model-name", "convention", "threads", "min-score"]
      where args.string(name) != nil {
        throw UsageError("--\(name) goes with --model")
      }
    }
  }

  /// The method the options name and a label for reports (loads the model for --model).
  static func evaluationMethod(_ args: ParsedArguments) throws -> (EvaluationMethod, String) {
    switch args.string("baseline") {
    case "center": return (.center, "center baseline")
    case "random":
      let seed = try args.int("seed", range: 0...Int.max) ?? 0
      return (.random(seed: UInt64(seed)), "random baseline (seed \(seed))")
    default: break
    }
    if let path = args.string("predictions") {
      return (.predictions(try PredictionTable.read(path: path)), "predictions \((path as NSString).lastPathComponent)")
    }
    let thinking = try thinkingMode(args)
    let givenMaxTokens = try args.int("max-tokens", range: 1...100_000)
    let options = try groundingOptions(args)
    let model = try loadModel(args)
    var grounder = try Grounder(model: model, options: options)
    logSetup(grounder.setup)
    try applyMinimumScore(args, to: &grounder)
    let maxTokens = givenMaxTokens ?? grounder.setup.template.maxTokens ?? 48
    return (.model(grounder, thinking: thinking, maxTokens: maxTokens), "model \((model.path as NSString).lastPathComponent)")
  }

  /// Prints the report (table or --json) and writes --markdown.
  static func printReport(_ report: AccuracyReport, args: ParsedArguments, title: String, extra: [String: Any]) throws {
    if let path = args.string("markdown") {
      do { try Data(report.markdown(title: title).utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
        throw GroundingError.recordFile(path: path, line: 0, reason: "cannot write: \(error.localizedDescription)")
      }
    }
    try writePlot(report, args: args, title: title)
    if args.json {
      try Output.json(report.jsonObject().merging(extra) { a, _ in a })
    } else {
      Output.out(title)
      Output.out(report.table())
    }
  }
}
