import Foundation
import Testing
@testable import Grounding

// --shard auto from the batch system's variables; finished results files written atomically with
// their header; merge checks that the files make one whole run.
@Suite struct ShardedEvaluationTests {
  // MARK: - Shard from the environment

  @Test func slurmArrayFromZero() throws {
    let env = ["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "0"]
    #expect(try Shard(resolving: "auto", environment: env) == Shard(index: 2, count: 3))
    #expect(try Shard(resolving: "auto/3", environment: env) == Shard(index: 2, count: 3))
    #expect(throws: GroundingError.invalidArgument("shard auto/4: SLURM_ARRAY_TASK_COUNT says 3 tasks")) {
      try Shard(resolving: "auto/4", environment: env)
    }
  }

  @Test func slurmArrayFromOne() throws {
    // --array=1-3: ids 1, 2, 3 are shards 0, 1, 2 of 3.
    for id in 1...3 {
      let env = ["SLURM_ARRAY_TASK_ID": "\(id)", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "1",
                 "SLURM_ARRAY_TASK_MAX": "3"]
      #expect(try Shard(resolving: "auto", environment: env) == Shard(index: id - 1, count: 3))
    }
    // --array=0-6:3: ids 0, 3, 6.
    let stepped = ["SLURM_ARRAY_TASK_ID": "6", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "0",
                   "SLURM_ARRAY_TASK_STEP": "3"]
    #expect(try Shard(resolving: "auto", environment: stepped) == Shard(index: 2, count: 3))
    #expect(throws: GroundingError.self) {
      try Shard(resolving: "auto", environment: ["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "3"])
    }
  }

  @Test func kubernetesIndexedJob() throws {
    let env = ["JOB_COMPLETION_INDEX": "4"]
    #expect(try Shard(resolving: "auto/5", environment: env) == Shard(index: 4, count: 5))
    let noCount = #expect(throws: GroundingError.self) { try Shard(resolving: "auto", environment: env) }
    #expect(noCount?.localizedDescription.contains("auto/N") == true)
    #expect(throws: GroundingError.self) { try Shard(resolving: "auto/4", environment: env) }   // index 4 of 4
  }

  @Test func noBatchSystemNamesTheVariables() throws {
    let error = #expect(throws: GroundingError.self) { try Shard(resolving: "auto", environment: ["PATH": "/bin"]) }
    let message = error?.localizedDescription ?? ""
    for name in ["SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "JOB_COMPLETION_INDEX"] { #expect(message.contains(name)) }
    #expect(try Shard(resolving: "1/4", environment: [:]) == Shard(index: 1, count: 4))
    #expect(throws: GroundingError.self) { try Shard(resolving: "auto", environment: ["SLURM_ARRAY_TASK_ID": "x"]) }
  }

  // MARK: - Finished files

  func header(_ shard: Shard, records: Int, dataset: String = EvalFixture.v1, seed: Int = 7) throws -> ResultsHeader {
    let a = try EvalFixture.annotations(dataset)
    return ResultsHeader(shard: shard, dataset: try .describing(path: try EvalFixture.folder.appendingPathComponent(dataset).path,
                                                                annotations: a),
                         limit: nil, records: records, setup: ["method": "random baseline (seed \(seed))"])
  }

  /// Runs shard `k` of `n` and writes its finished file; returns the file as merge reads it.
  func shardFile(_ k: Int, of n: Int, in dir: ScratchFolder, dataset: String = EvalFixture.v1, seed: Int = 7,
                 name: String? = nil) throws -> ResultsShardFile {
    let shard = try Shard(index: k, count: n)
    let records = try ScreenSpotEvaluator(imagesDirectory: try EvalFixture.folder.path, method: .random(seed: UInt64(seed)),
                                          shard: shard).records(try EvalFixture.annotations(dataset))
    let path = dir.path(name ?? "shard-\(k)-of-\(n).jsonl")
    try ResultsFile.writeFinished(path: path, header: try header(shard, records: records.count, dataset: dataset, seed: seed),
                                  records: records)
    let contents = try ResultsFile.read(path: path)
    return ResultsShardFile(path: path, header: contents.header, records: contents.records)
  }

  @Test func finishedFileIsWholeAndLeavesNoTemporaryFile() throws {
    let dir = try ScratchFolder()
    try dir.write("an older file\n", to: "shard-1-of-3.jsonl")
    let file = try shardFile(1, of: 3, in: dir)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["shard-1-of-3.jsonl"])
    #expect(file.header?.shardIndex == 1 && file.header?.shardCount == 3 && file.header?.records == 5)
    #expect(file.header?.dataset.samples == 15 && file.header?.dataset.sha256.count == 64)
    #expect(file.records.map(\.index) == [1, 4, 7, 10, 13])
    let text = try String(contentsOfFile: file.path, encoding: .utf8)
    #expect(text.hasPrefix(#"{"results_header":"#) && text.hasSuffix("}\n") && text.split(separator: "\n").count == 6)
  }

  @Test func writeIntoAMissingFolderFailsWithoutAFile() throws {
    let dir = try ScratchFolder()
    let path = dir.path("no/such/folder/r.jsonl")
    #expect(throws: GroundingError.self) {
      try ResultsFile.writeFinished(path: path, header: try header(.whole, records: 0), records: [])
    }
    #expect(!FileManager.default.fileExists(atPath: path))
  }

  // MARK: - Merge

  @Test func allShardsMergeToTheUnshardedRecords() throws {
    let dir = try ScratchFolder()
    let whole = try ScreenSpotEvaluator(imagesDirectory: try EvalFixture.folder.path, method: .random(seed: 7))
      .records(try EvalFixture.annotations(EvalFixture.v1))
    let files = try [2, 0, 1].map { try shardFile($0, of: 3, in: dir) }   // any order
    let merged = try ShardSet.merge(files)
    #expect(merged.map(\.key) == whole.map(\.key))
    #expect(merged.map(\.outcome) == whole.map(\.outcome))
  }

  @Test func refusesAShardGivenTwice() throws {
    let dir = try ScratchFolder()
    let files = try (0..<3).map { try shardFile($0, of: 3, in: dir) } + [try shardFile(1, of: 3, in: dir, name: "again.jsonl")]
    let error = #expect(throws: GroundingError.self) { try ShardSet.merge(files) }
    let message = error?.localizedDescription ?? ""
    #expect(message.contains("shard 1/3") && message.contains("given twice") && message.contains("again.jsonl"), "\(message)")
  }

  @Test func refusesAMissingShard() throws {
    let dir = try ScratchFolder()
    let files = try [0, 2].map { try shardFile($0, of: 3, in: dir) }
    let error = #expect(throws: GroundingError.self) { try ShardSet.merge(files) }
    #expect(error?.localizedDescription.contains("shard 1/3 of screenspot_mini.json is missing") == true, "\(String(describing: error))")
  }

  @Test func refusesOtherSplitsDatasetsAndSetups() throws {
    let dir = try ScratchFolder()
    let a = try shardFile(0, of: 2, in: dir)
    let split = try shardFile(1, of: 3, in: dir)
    #expect(throws: GroundingError.self) { try ShardSet.merge([a, split]) }
    let pro = try shardFile(1, of: 2, in: dir, dataset: EvalFixture.pro, name: "pro.jsonl")
    let data = #expect(throws: GroundingError.self) { try ShardSet.merge([a, pro]) }
    #expect(data?.localizedDescription.contains("different annotation files") == true && data?.localizedDescription.contains("pro.jsonl") == true)
    let seed = try shardFile(1, of: 2, in: dir, seed: 8, name: "seed8.jsonl")
    let setup = #expect(throws: GroundingError.self) { try ShardSet.merge([a, seed]) }
    #expect(setup?.localizedDescription.contains("different setups (method:") == true)
    // Joined datasets must each be whole.
    #expect(throws: GroundingError.self) { try ShardSet.merge([a, pro], joinDatasets: true) }
    let rest = try shardFile(1, of: 2, in: dir)
    let proRest = try shardFile(0, of: 2, in: dir, dataset: EvalFixture.pro, name: "pro0.jsonl")
    #expect(try ShardSet.merge([a, rest, pro, proRest], joinDatasets: true).count >= 15)
  }

  @Test func refusesAFileWhoseRecordsDoNotMatchItsHeader() throws {
    let dir = try ScratchFolder()
    var files = try (0..<2).map { try shardFile($0, of: 2, in: dir) }
    files[1].records.removeLast()
    let short = #expect(throws: GroundingError.self) { try ShardSet.merge(files) }
    #expect(short?.localizedDescription.contains("incomplete") == true)
    files[1] = ResultsShardFile(path: "bare.jsonl", header: nil, records: files[0].records)
    let bare = #expect(throws: GroundingError.self) { try ShardSet.merge(files) }
    #expect(bare?.localizedDescription.contains("bare.jsonl has no results header") == true)
  }
}
