import Foundation

/// Points predicted elsewhere (another program, another model), keyed by image and instruction.
///
/// The file is JSONL (one object a line) or a JSON list of objects, each with `img_filename`,
/// `instruction`, `x`, `y` in image pixels; `x`/`y` may be null (no point: a miss).
public struct PredictionTable: Sendable {
  public struct Key: Hashable, Sendable {
    public var imageFilename: String, instruction: String
  }
  public struct Point: Sendable, Equatable {
    public var x: Double?, y: Double?
  }

  public let path: String
  public private(set) var points: [Key: Point] = [:]

  public init(path: String, points: [Key: Point]) { self.path = path; self.points = points }

  public func point(for sample: ScreenSpotSample) -> Point? {
    points[Key(imageFilename: sample.imageFilename, instruction: sample.instruction)]
  }

  /// Reads a predictions file. Conflicting duplicates (same image and instruction, other point)
  /// and entries without image, instruction or numeric/null coordinates are errors.
  public static func read(path: String) throws(GroundingError) -> PredictionTable {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
      throw .recordFile(path: path, line: 0, reason: error.localizedDescription)
    }
    return try parse(data, path: path)
  }

  public static func parse(_ data: Data, path: String) throws(GroundingError) -> PredictionTable {
    let trimmed = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard !trimmed.isEmpty else { throw .recordFile(path: path, line: 0, reason: "the file is empty") }
    // (line or list position, object) pairs
    var objects: [(Int, Any)] = []
    if trimmed.hasPrefix("[") {
      guard let list = (try? JSONSerialization.jsonObject(with: Data(trimmed.utf8))) as? [Any] else {
        throw .recordFile(path: path, line: 0, reason: "not a valid JSON list")
      }
      objects = list.enumerated().map { ($0.offset + 1, $0.element) }
    } else {
      for (i, line) in trimmed.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
        guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) else {
          throw .recordFile(path: path, line: i + 1, reason: "not valid JSON")
        }
        objects.append((i + 1, o))
      }
    }
    var table = PredictionTable(path: path, points: [:])
    for (at, element) in objects {
      func bad(_ reason: String) -> GroundingError { .recordFile(path: path, line: at, reason: reason) }
      guard let o = element as? [String: Any] else { throw bad("expected an object") }
      guard let file = o["img_filename"] as? String else { throw bad("missing img_filename") }
      guard let instruction = o["instruction"] as? String else { throw bad("missing instruction") }
      let point = Point(x: try coordinate(o, "x", bad), y: try coordinate(o, "y", bad))
      guard (point.x == nil) == (point.y == nil) else { throw bad("x and y must both be numbers or both null") }
      let key = Key(imageFilename: file, instruction: instruction)
      if let seen = table.points[key], seen != point {
        throw bad("a second, different prediction for (\(file), \"\(instruction)\")")
      }
      table.points[key] = point
    }
    return table
  }

  private static func coordinate(_ o: [String: Any], _ name: String,
                                 _ bad: (String) -> GroundingError) throws(GroundingError) -> Double? {
    guard let v = o[name] else { throw bad("missing \(name) (null for no point)") }
    if v is NSNull { return nil }
    guard let n = v as? NSNumber, !ScreenSpotAnnotations.isBool(n), n.doubleValue.isFinite else {
      throw bad("\(name) must be a number or null")
    }
    return n.doubleValue
  }
}
