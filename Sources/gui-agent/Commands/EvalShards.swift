import Foundation
import Grounding

/// `eval screenspot --out` and `--shard auto`: records are appended to `OUT.partial` as they
/// come (a killed run resumes from it), and the finished file, header first, replaces `OUT`
/// atomically at the end, so that shared storage never shows a half file under the final name.
struct ResultsOutput {
  let path: String
  var partialPath: String { path + ".partial" }
  /// Records of earlier runs: the finished file (a run with a smaller --limit) and the partial one.
  let existing: [EvaluationRecord]
  let writer: ResultsFile.Writer
  /// The header of a finished file already at `path`.
  let finishedHeader: ResultsHeader?

  init(path: String) throws {
    self.path = path
    let finished = try ResultsFile.read(path: path)
    if finished.header == nil, !finished.records.isEmpty {
      Output.log("\(path) has no results header; its records are resumed and the file is rewritten with one")
    }
    let partial = try ResultsFile.read(path: path + ".partial")
    if partial.droppedPartialLine { Output.log("\(path).partial: the last line was cut short; it is left out and rewritten") }
    existing = finished.records + partial.records
    finishedHeader = finished.header
    writer = try ResultsFile.Writer(path: path + ".partial", validLength: partial.validLength)
  }

  /// Refuses to resume a finished file of another shard or annotation file: its records would
  /// not be in this run's file, which replaces it.
  func checkResumable(shard: Shard, dataset: ResultsHeader.Dataset) throws {
    guard let h = finishedHeader else { return }
    if h.shardIndex != shard.index || h.shardCount != shard.count {
      throw UsageError("--out \(path) holds shard \(h.shardIndex)/\(h.shardCount), not \(shard): give each shard its own --out")
    }
    if h.dataset.identity != dataset.identity {
      throw UsageError("--out \(path) holds results of \(h.dataset.file) (\(h.dataset.format)), another annotation file")
    }
  }

  /// Writes the finished file and removes the partial one.
  func finish(header: ResultsHeader, records: [EvaluationRecord]) throws {
    try ResultsFile.writeFinished(path: path, header: header, records: records)
    try? FileManager.default.removeItem(atPath: partialPath)
  }
}

extension Commands {
  /// What made the records, for the results header: files of different setups never join.
  static func evaluationSetup(_ method: EvaluationMethod, label: String) -> [String: String] {
    var setup = ["method": label]
    if case let .model(grounder, thinking, maxTokens) = method {
      for (key, value) in setupJSON(grounder.setup) { setup[key] = (value as? String) ?? "none" }
      setup["thinking"] = String(describing: thinking)
      setup["max_tokens"] = String(maxTokens)
      setup["min_score"] = String(grounder.minimumScore)
    }
    if case let .screenText(g) = method {
      setup["grounder"] = g.mode.rawValue
      setup["ocr"] = g.parser.name
      if let t = g.parser as? TesseractParser { setup["ocr_scale"] = String(t.options.scale) }
      if let m = g.model {
        for (key, value) in setupJSON(m.setup) { setup[key] = (value as? String) ?? "none" }
        setup["min_score"] = String(m.minimumScore)
      }
    }
    return setup
  }

  /// `eval merge`: reads each file with its header; --join-datasets, --out MERGED.jsonl.
  static func mergeResults(_ args: ParsedArguments) throws -> [EvaluationRecord] {
    var files: [ResultsShardFile] = []
    for path in args.positionals {
      guard FileManager.default.fileExists(atPath: path) else { throw GroundingError.recordFile(path: path, line: 0, reason: "no such file") }
      let contents = try ResultsFile.read(path: path)
      if contents.droppedPartialLine { Output.log("\(path): the last line was cut short; it is left out") }
      files.append(ResultsShardFile(path: path, header: contents.header, records: contents.records))
    }
    let merged = try ShardSet.merge(files, joinDatasets: args.flag("join-datasets"))
    if let out = args.string("out") {
      guard let first = files.first?.header else {
        throw UsageError("--out needs files with results headers (written by this version's eval screenspot --out)")
      }
      let joined = Set(files.compactMap { $0.header?.dataset.identity }).count > 1
      var dataset = first.dataset
      if joined { dataset = .init(file: "joined", format: dataset.format, samples: 0, sha256: "joined") }
      let header = ResultsHeader(shard: .whole, dataset: dataset, limit: first.limit, records: merged.count, setup: first.setup)
      try ResultsFile.writeFinished(path: out, header: header, records: merged)
    }
    return merged
  }
}
