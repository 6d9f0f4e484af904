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

      With --out every result is appended to RESULTS.jsonl.partial as soon as it exists; running
      again with the same --out continues where the last run stopped (a line cut short is
      rewritten). At the end RESULTS.jsonl is written whole (a header line saying the shard, the
      annotation file's sample count and SHA-256, and the setup; then one line per sample) into a
      temporary file that is synced and renamed, so it is never seen half written.
      --shard K/N takes the samples whose index modulo N is K; --shard auto takes K and N from a
      Slurm job array, auto/N K from a Kubernetes Indexed Job; 'gui-agent eval merge' joins the
      shards' files. --limit N keeps the first N samples of the file, before sharding.

      With --model, the folder is recognised as a known model ('gui-agent models'), which gives
      its coordinate convention and prompt; --model-name, --convention and --prompt-template
      override that choice, and the report's --json says what was used.

      --grounder ocr scores Tesseract word matching (no model); --grounder hybrid, OCR matches
      chosen among by the model, which grounds alone where no text matches (docs/screen-parsing.md).
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
      .value("shard", "K/N|auto[/N]", shardOptionHelp),
      .value("limit", "N", "Only the first N samples of the file."),
      .value("max-tokens", "N", "With --model: most answer tokens (default: the prompt's own, else 48; a thinking budget adds to it)."),
    ] + groundingOptionSpecs + [
      minScoreOption,
    ] + grounderOptionSpecs,
    run: { args in
      guard let data = args.string("data") else { throw UsageError("missing --data ANNOTATIONS.json") }
      guard let images = args.string("images") else { throw UsageError("missing --images DIR") }
      let format = try args.string("format").map { (f: String) throws(UsageError) -> ScreenSpotFormat in
        guard let v = ScreenSpotFormat(rawValue: f) else { throw UsageError("--format: '\(f)' is not v1, v2 or pro") }
        return v
      }
      let shard = try shardOption(args)
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

      let output = try args.string("out").map { try ResultsOutput(path: $0) }
      let dataset = try ResultsHeader.Dataset.describing(path: data, annotations: annotations)
      try output?.checkResumable(shard: shard, dataset: dataset)
      let writer = output?.writer
      // The bar counts this run's samples only (not resumed ones), so its ETA holds.
      var bar: (ProgressBar, resumed: Int)? = nil
      let run = try evaluator.run(annotations, existing: output?.existing ?? []) { record, done, total throws(GroundingError) in
        try writer?.append(record)
        if let reason = record.skipped {
          // Over a progress bar: clear its line first, the bar redraws below.
          Output.err((bar != nil && Output.stdoutIsTerminal ? "\r\u{1B}[K" : "") + "gui-agent: skipped \(record.key): \(reason)")
        }
        if bar == nil { bar = (ProgressBar(total: total - done + 1, label: "screenspot \(annotations.format)"), done - 1) }
        bar.map { $0.0.update(done - $0.resumed) }
      }
      bar?.0.finish()
      if let output {
        let header = ResultsHeader(shard: shard, dataset: dataset, limit: limit, records: run.records.count,
                                   setup: evaluationSetup(method, label: label))
        try output.finish(header: header, records: run.records)
      }
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
      if case let .screenText(g) = method {
        extra["grounder"] = g.mode.rawValue
        extra["ocr"] = g.parser.name
        if let m = g.model { extra.merge(setupJSON(m.setup)) { a, _ in a } }
      }
      try printReport(report, args: args, title: "ScreenSpot \(annotations.format) — \((data as NSString).lastPathComponent), \(label)", extra: extra)
      return .success
    })

  static let evalMerge = Command(
    name: "merge",
    abstract: "Join the results files of several runs (shards) and print one report.",
    discussion: """
      Each file is a --out file of 'gui-agent eval screenspot'. Their headers must make whole runs:
      one setup, one annotation file (same SHA-256), one shard count, every shard exactly once;
      otherwise nothing is joined and the error names the shard and files (exit 1). Records of one
      sample that disagree are an error too. --join-datasets joins files of different annotation
      files (e.g. ScreenSpot-Pro's per-application files), each still complete. --out writes the
      joined records, in the order of an unsharded run, as one results file.
      """,
    options: reportOptions + [
      .flag("join-datasets", "Join files of different annotation files (each one's shards still complete)."),
      .value("out", "MERGED.jsonl", "Also write the joined records as one results file (written atomically)."),
    ],
    positionals: [PositionalSpec(name: "RESULTS.jsonl", help: "Results files to join.", variadic: true)],
    run: { args in
      let merged = try mergeResults(args)
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
      for name in ["think-budget", "max-tokens", "prompt-template", "model-name", "convention", "threads", "min-score", "grounder", "ocr-scale", "ocr-language"]
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
    let mode = try grounderMode(args)
    if mode != .model {
      for name in ["think", "no-think"] where args.flag(name) { throw UsageError("--\(name) goes with --grounder model") }
      if mode == .ocr, args.string("model") != nil { throw UsageError("--grounder ocr uses no model: drop --model, or use --grounder hybrid") }
      let g = try ocrGrounder(args, mode: mode)
      let label = mode == .ocr ? "OCR (\(g.parser.name))"
        : "hybrid: OCR + model \(((g.model?.pipeline.model.path ?? "") as NSString).lastPathComponent)"
      return (.screenText(g), label)
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
