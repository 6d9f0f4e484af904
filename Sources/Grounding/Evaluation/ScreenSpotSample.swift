import Foundation

/// A target box in image pixels, `[x1, y1, x2, y2]`, edges inclusive.
public struct EvaluationBox: Sendable, Equatable, Codable {
  public var x1: Double, y1: Double, x2: Double, y2: Double
  public init(x1: Double, y1: Double, x2: Double, y2: Double) {
    self.x1 = x1; self.y1 = y1; self.x2 = x2; self.y2 = y2
  }

  /// Whether the point lies inside or on the edge of the box (SeeClick's and ScreenSpot-Pro's
  /// `x1 <= x <= x2 and y1 <= y <= y2`).
  public func contains(x: Double, y: Double) -> Bool {
    x1 <= x && x <= x2 && y1 <= y && y <= y2
  }

  /// Whether the box lies within a `width` x `height` image (its far edges may touch `width` and
  /// `height`: a `[x, y, w, h]` box ending at the image's right edge has `x + w == width`).
  public func isInside(width: Int, height: Int) -> Bool {
    0 <= x1 && x1 <= x2 && x2 <= Double(width) && 0 <= y1 && y1 <= y2 && y2 <= Double(height)
  }

  public var array: [Double] { [x1, y1, x2, y2] }

  public init(from decoder: Decoder) throws {
    var c = try decoder.unkeyedContainer()
    x1 = try c.decode(Double.self); y1 = try c.decode(Double.self)
    x2 = try c.decode(Double.self); y2 = try c.decode(Double.self)
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.unkeyedContainer()
    try c.encode(contentsOf: array)
  }
}

/// What identifies one sample across runs, shards and resumes: its position in the annotation
/// file together with its image and instruction (so a results file from another annotation file
/// does not pass for this one's).
public struct SampleKey: Sendable, Hashable, Comparable, CustomStringConvertible {
  public var index: Int
  public var imageFilename: String
  public var instruction: String
  public init(index: Int, imageFilename: String, instruction: String) {
    self.index = index; self.imageFilename = imageFilename; self.instruction = instruction
  }

  public static func < (a: SampleKey, b: SampleKey) -> Bool {
    (a.index, a.imageFilename, a.instruction) < (b.index, b.imageFilename, b.instruction)
  }

  public var description: String { "sample \(index) (\(imageFilename), \"\(instruction)\")" }
}

/// One usable benchmark sample: find `instruction` on the image, the answer must fall in `box`.
public struct ScreenSpotSample: Sendable, Equatable {
  public var index: Int
  public var imageFilename: String
  public var instruction: String
  public var box: EvaluationBox
  /// "text" or "icon".
  public var uiType: String
  /// `data_source` (v1, v2) or `platform` (Pro).
  public var source: String
  /// Pro's `img_size` (width, height), checked against the image.
  public var declaredSize: [Int]?

  public init(index: Int, imageFilename: String, instruction: String, box: EvaluationBox,
              uiType: String, source: String, declaredSize: [Int]? = nil) {
    self.index = index; self.imageFilename = imageFilename; self.instruction = instruction
    self.box = box; self.uiType = uiType; self.source = source; self.declaredSize = declaredSize
  }

  public var key: SampleKey { SampleKey(index: index, imageFilename: imageFilename, instruction: instruction) }
}

/// An annotation entry: a usable sample, or one that is skipped and why.
public enum ScreenSpotEntry: Sendable, Equatable {
  case sample(ScreenSpotSample)
  /// `key` holds whatever of the identity could be read (empty strings for missing fields).
  case invalid(key: SampleKey, uiType: String, source: String, reason: String)

  public var key: SampleKey {
    switch self {
    case let .sample(s): s.key
    case let .invalid(key, _, _, _): key
    }
  }
}
