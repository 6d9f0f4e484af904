import Foundation

/// One results file as `eval merge` reads it.
public struct ResultsShardFile: Sendable {
  public var path: String
  public var header: ResultsHeader?
  public var records: [EvaluationRecord]

  public init(path: String, header: ResultsHeader?, records: [EvaluationRecord]) {
    self.path = path; self.header = header; self.records = records
  }
}

/// Checks that results files make whole runs before they are joined: one setup; one annotation
/// file (unless `joinDatasets`); per annotation file one shard count, each shard exactly once,
/// none missing; each file complete and holding only its shard's samples.
public enum ShardSet {
  /// The records of all files in sample order, the order of the unsharded run.
  /// - Throws: `GroundingError.shardSet` naming the shard and files at fault.
  public static func merge(_ files: [ResultsShardFile], joinDatasets: Bool = false) throws(GroundingError) -> [EvaluationRecord] {
    let headed = files.filter { $0.header != nil }
    // Files written before headers existed join as they always did: agreeing records count once.
    guard !headed.isEmpty else { return try ResultsFile.merge(files.map(\.records)) }
    if let bare = files.first(where: { $0.header == nil }) {
      throw .shardSet("\(bare.path) has no results header (a run that has not finished, or an older version's "
                      + "file): it cannot be checked against \(headed[0].path)")
    }
    var checked: [(file: ResultsShardFile, header: ResultsHeader)] = []
    for file in files {
      guard let h = file.header else { continue }
      try checkContents(file, h)
      checked.append((file, h))
    }
    let first = checked[0]
    for (file, h) in checked.dropFirst() {
      if h.setup != first.header.setup {
        let keys = Set(h.setup.keys).union(first.header.setup.keys).sorted()
        let key = keys.first { h.setup[$0] != first.header.setup[$0] } ?? "?"
        throw .shardSet("\(file.path) and \(first.file.path) come from different setups (\(key): "
                        + "'\(h.setup[key] ?? "none")' vs '\(first.header.setup[key] ?? "none")')")
      }
      if h.dataset.identity != first.header.dataset.identity, !joinDatasets {
        throw .shardSet("\(file.path) and \(first.file.path) score different annotation files "
                        + "(\(h.dataset.file) as \(h.dataset.format), \(h.dataset.samples) samples, sha256 \(h.dataset.sha256.prefix(12)) vs "
                        + "\(first.header.dataset.file) as \(first.header.dataset.format), \(first.header.dataset.samples) samples, "
                        + "sha256 \(first.header.dataset.sha256.prefix(12))); --join-datasets joins such files")
      }
    }
    var datasets: [String] = []
    for (_, h) in checked where !datasets.contains(h.dataset.identity) { datasets.append(h.dataset.identity) }
    for digest in datasets { try checkCoverage(checked.filter { $0.header.dataset.identity == digest }) }
    return try ResultsFile.merge(files.map(\.records))
  }

  /// A file holds as many records as its header says, each of its own shard.
  static func checkContents(_ file: ResultsShardFile, _ h: ResultsHeader) throws(GroundingError) {
    let shard = try h.shard
    guard file.records.count == h.records else {
      throw .shardSet("\(file.path) (shard \(shard)) is incomplete: \(file.records.count) records, its header says \(h.records)")
    }
    if let stray = file.records.first(where: { !shard.contains($0.index) }) {
      throw .shardSet("\(file.path) says it is shard \(shard) but holds sample \(stray.index)")
    }
  }

  /// The files of one annotation file: one count and limit, every shard exactly once.
  static func checkCoverage(_ files: [(file: ResultsShardFile, header: ResultsHeader)]) throws(GroundingError) {
    let first = files[0]
    let count = first.header.shardCount
    var owner: [Int: String] = [:]
    for (file, h) in files {
      guard h.shardCount == count else {
        throw .shardSet("\(file.path) is shard \(h.shardIndex)/\(h.shardCount) but \(first.file.path) is "
                        + "shard \(first.header.shardIndex)/\(count): the files come from different splits")
      }
      guard h.limit == first.header.limit else {
        throw .shardSet("\(file.path) ran with --limit \(h.limit.map(String.init) ?? "none") but \(first.file.path) "
                        + "with --limit \(first.header.limit.map(String.init) ?? "none")")
      }
      if let other = owner[h.shardIndex] {
        throw .shardSet("shard \(h.shardIndex)/\(count) of \(h.dataset.file) is given twice: \(other) and \(file.path)")
      }
      owner[h.shardIndex] = file.path
    }
    let missing = (0..<count).filter { owner[$0] == nil }
    guard missing.isEmpty else {
      let names = missing.map { "\($0)/\(count)" }.joined(separator: ", ")
      throw .shardSet("shard\(missing.count == 1 ? "" : "s") \(names) of \(first.header.dataset.file) "
                      + "\(missing.count == 1 ? "is" : "are") missing (given: "
                      + owner.keys.sorted().map { "\($0)/\(count) \(owner[$0] ?? "")" }.joined(separator: ", ") + ")")
    }
  }
}
