import Engine
import Foundation

/// The first line of a finished results file, `{"results_header": {...}}`: which shard the file
/// is, what it covers, and with what setup, so that `eval merge` can check that the files it
/// joins make one whole run.
public struct ResultsHeader: Codable, Equatable, Sendable {
  /// The annotation file the records score.
  public struct Dataset: Codable, Equatable, Sendable {
    /// The file's name (not its folder: nodes of a cluster may mount it at different paths).
    public var file: String
    public var format: String
    /// Entries in the file (all of them, before --limit and sharding).
    public var samples: Int
    /// SHA-256 of the file's bytes, hex.
    public var sha256: String

    public init(file: String, format: String, samples: Int, sha256: String) {
      self.file = file; self.format = format; self.samples = samples; self.sha256 = sha256
    }

    /// What makes two files the same dataset: the bytes and the format they were read as (v1
    /// and v2 files can be byte for byte the same and still be reported apart).
    public var identity: String { "\(format) \(sha256)" }

    /// Describes the annotation file at `path` as read into `annotations`.
    public static func describing(path: String, annotations: ScreenSpotAnnotations) throws(GroundingError) -> Dataset {
      let bytes: [UInt8]
      do { bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
        throw .annotationFile(path: path, reason: error.localizedDescription)
      }
      var hash = SHA256()
      hash.update(bytes)
      return Dataset(file: (path as NSString).lastPathComponent, format: annotations.format.rawValue,
                     samples: annotations.entries.count, sha256: SHA256.hexString(hash.finish()))
    }
  }

  public var shardIndex: Int
  public var shardCount: Int
  public var dataset: Dataset
  /// --limit of the run (samples taken from the file's start before sharding); nil: all.
  public var limit: Int?
  /// Records the file holds.
  public var records: Int
  /// What produced the records (method, model, prompt, convention, token limits): files of
  /// different setups never join.
  public var setup: [String: String]

  public init(shard: Shard, dataset: Dataset, limit: Int?, records: Int, setup: [String: String]) {
    shardIndex = shard.index; shardCount = shard.count
    self.dataset = dataset; self.limit = limit; self.records = records; self.setup = setup
  }

  public var shard: Shard { get throws(GroundingError) { try Shard(index: shardIndex, count: shardCount) } }

  enum CodingKeys: String, CodingKey {
    case shardIndex = "shard_index", shardCount = "shard_count", dataset, limit, records, setup
  }

  /// The line's wrapper: a record never has this key, so a header is told from a record by it.
  struct Line: Codable {
    var resultsHeader: ResultsHeader
    enum CodingKeys: String, CodingKey { case resultsHeader = "results_header" }
  }
}

// MARK: - Writing a finished file

extension ResultsFile {
  /// Writes `header` and `records` as the file `path`, atomically: into a temporary file in the
  /// same folder, synced, then renamed over `path`, so that `path` is either absent, the old
  /// file, or this one complete; never a part (the folder may be shared storage that other
  /// nodes read while this one writes).
  public static func writeFinished(path: String, header: ResultsHeader, records: [EvaluationRecord]) throws(GroundingError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    var data = Data()
    do {
      data.append(try encoder.encode(ResultsHeader.Line(resultsHeader: header)))
      data.append(0x0A)
      for r in records {
        data.append(try encoder.encode(r))
        data.append(0x0A)
      }
    } catch { throw .recordFile(path: path, line: 0, reason: "cannot encode: \(error.localizedDescription)") }
    try AtomicFile.write(data, to: path)
  }
}

/// Temporary file, fsync, rename, fsync of the folder (so the rename itself survives a crash).
public enum AtomicFile {
  /// Replaces `path` with `data` atomically; the temporary file is removed when anything fails.
  public static func write(_ data: Data, to path: String) throws(GroundingError) {
    let url = URL(fileURLWithPath: path)
    let folder = url.deletingLastPathComponent().path
    let temp = (folder as NSString).appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
    func fail(_ what: String, _ code: Int32 = errno) -> GroundingError {
      unlink(temp)
      return .recordFile(path: path, line: 0, reason: "\(what): \(String(cString: strerror(code)))")
    }
    let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw .recordFile(path: path, line: 0, reason: "cannot create \(temp): \(String(cString: strerror(errno)))") }
    let written = data.withUnsafeBytes { buffer -> Int in
      guard let base = buffer.baseAddress else { return 0 }
      var done = 0
      while done < buffer.count {
        let n = Glibc.write(fd, base + done, buffer.count - done)
        if n < 0 { if errno == EINTR { continue }; return -1 }
        done += n
      }
      return done
    }
    if written != data.count { let e = errno; close(fd); throw fail("cannot write \(temp)", e) }
    if fsync(fd) != 0 { let e = errno; close(fd); throw fail("cannot sync \(temp)", e) }
    close(fd)
    guard rename(temp, path) == 0 else { throw fail("cannot rename \(temp) to \(path)") }
    let dir = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if dir >= 0 { fsync(dir); close(dir) }
  }
}
