import Foundation

/// Results JSONL files: one ``EvaluationRecord`` per line, appended as samples finish.
public enum ResultsFile {
  /// What an existing results file holds.
  public struct Contents: Sendable {
    public var records: [EvaluationRecord]
    /// Bytes of the file up to the end of the last complete record.
    public var validLength: Int
    /// Whether a last line was cut short (a crash mid-write) and left out.
    public var droppedPartialLine: Bool
    /// The first line of a finished file (``ResultsHeader``); nil in a file still being appended to.
    public var header: ResultsHeader? = nil
  }

  /// Reads a results file; a file that does not exist reads as empty.
  ///
  /// The last line is dropped when it lacks its newline or does not decode (a write cut short);
  /// a bad line anywhere else is an error, since the writer never leaves one there.
  public static func read(path: String) throws(GroundingError) -> Contents {
    guard FileManager.default.fileExists(atPath: path) else {
      return Contents(records: [], validLength: 0, droppedPartialLine: false)
    }
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
      throw .recordFile(path: path, line: 0, reason: error.localizedDescription)
    }
    let bytes = [UInt8](data)
    var records: [EvaluationRecord] = []
    var start = 0, line = 0, valid = 0, dropped = false
    var header: ResultsHeader? = nil
    let decoder = JSONDecoder()
    while start < bytes.count {
      line += 1
      let newline = bytes[start...].firstIndex(of: 0x0A)
      let end = newline ?? bytes.count
      let text = Data(bytes[start..<end])
      let isLast = newline == nil || newline == bytes.count - 1
      let blank = text.allSatisfy { $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }
      if line == 1, newline != nil, let h = try? decoder.decode(ResultsHeader.Line.self, from: text) {
        header = h.resultsHeader
      } else if !blank {
        do {
          guard newline != nil else { throw CutShort() }
          records.append(try decoder.decode(EvaluationRecord.self, from: text))
        } catch {
          guard isLast else {
            throw .recordFile(path: path, line: line, reason: "not a result record (\(describe(error)))")
          }
          dropped = true
          break
        }
      }
      start = end + 1
      valid = min(start, bytes.count)
    }
    return Contents(records: records, validLength: valid, droppedPartialLine: dropped, header: header)
  }

  private struct CutShort: Error {}

  static func describe(_ error: Error) -> String {
    switch error {
    case is CutShort: "the line has no end"
    case let DecodingError.keyNotFound(key, _): "missing field \(key.stringValue)"
    case let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx):
      "bad value at \(ctx.codingPath.map(\.stringValue).joined(separator: "."))"
    default: "invalid JSON"
    }
  }

  // MARK: - Appending

  /// Appends records to a results file, one write per record so that an interrupted run loses
  /// at most the record being written.
  public final class Writer {
    private let handle: FileHandle
    private let path: String
    private let encoder: JSONEncoder

    /// Opens `path` for appending after its first `validLength` bytes (the rest, a line cut
    /// short, is cut off); creates the file when it does not exist.
    public init(path: String, validLength: Int) throws(GroundingError) {
      self.path = path
      let fm = FileManager.default
      if !fm.fileExists(atPath: path), !fm.createFile(atPath: path, contents: nil) {
        throw .recordFile(path: path, line: 0, reason: "cannot create the file")
      }
      do {
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(validLength))
        try handle.seekToEnd()
      } catch { throw .recordFile(path: path, line: 0, reason: error.localizedDescription) }
      encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    }

    public func append(_ record: EvaluationRecord) throws(GroundingError) {
      do {
        try handle.write(contentsOf: try encoder.encode(record) + Data("\n".utf8))
      } catch { throw .recordFile(path: path, line: 0, reason: "cannot append: \(error.localizedDescription)") }
    }

    deinit { try? handle.close() }
  }

  // MARK: - Joining

  /// Joins records from several runs (shards, resumed runs, files of one benchmark): one record
  /// per sample key, in key order. Duplicates that agree are dropped; ones that disagree throw.
  public static func merge(_ lists: [[EvaluationRecord]]) throws(GroundingError) -> [EvaluationRecord] {
    var byKey: [SampleKey: EvaluationRecord] = [:]
    for list in lists {
      for r in list {
        if let seen = byKey[r.key] {
          guard seen.agrees(with: r) else {
            throw .conflictingRecords(sample: r.key.description, first: seen.outcome, second: r.outcome)
          }
        } else {
          byKey[r.key] = r
        }
      }
    }
    return byKey.values.sorted { $0.key < $1.key }
  }
}
