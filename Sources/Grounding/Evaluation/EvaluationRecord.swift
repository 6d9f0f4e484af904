import Foundation

/// The outcome of one sample, one line of a results JSONL file.
///
/// A skipped sample (missing image, bad box, …) is recorded too, with `skipped` holding the
/// reason, so shards and resumed runs count it; it is neither a hit nor a miss.
public struct EvaluationRecord: Sendable, Equatable, Codable {
  public var index: Int
  public var imageFilename: String
  public var instruction: String
  /// The predicted point in image pixels; nil when there is none.
  public var x: Double?
  public var y: Double?
  public var hit: Bool
  /// The target box `[x1, y1, x2, y2]`; nil for a sample whose box could not be read.
  public var box: EvaluationBox?
  /// The model's answer text (nil for baselines and external predictions).
  public var answer: String?
  /// Why there is no point, when there is none.
  public var noCoordinate: String?
  public var source: String
  public var uiType: String
  /// Seconds spent on the sample (reading the image and predicting).
  public var seconds: Double
  /// Why the sample was skipped; nil for a scored sample.
  public var skipped: String?

  public init(index: Int, imageFilename: String, instruction: String, x: Double? = nil, y: Double? = nil,
              hit: Bool = false, box: EvaluationBox? = nil, answer: String? = nil, noCoordinate: String? = nil,
              source: String, uiType: String, seconds: Double = 0, skipped: String? = nil) {
    self.index = index; self.imageFilename = imageFilename; self.instruction = instruction
    self.x = x; self.y = y; self.hit = hit; self.box = box; self.answer = answer
    self.noCoordinate = noCoordinate; self.source = source; self.uiType = uiType
    self.seconds = seconds; self.skipped = skipped
  }

  public var key: SampleKey { SampleKey(index: index, imageFilename: imageFilename, instruction: instruction) }

  /// Whether two records of one sample say the same thing (timing and answer text aside).
  public func agrees(with other: EvaluationRecord) -> Bool {
    x == other.x && y == other.y && hit == other.hit && skipped == other.skipped
  }

  /// A short account for messages: "hit at (10, 20)", "skipped: …", "no point".
  public var outcome: String {
    if let skipped { return "skipped (\(skipped))" }
    guard let x, let y else { return "no point (\(noCoordinate ?? "none"))" }
    return "\(hit ? "hit" : "miss") at (\(x.formatted6), \(y.formatted6))"
  }

  // MARK: - Codable (snake_case, nulls written out)

  enum CodingKeys: String, CodingKey {
    case index, imageFilename = "img_filename", instruction, x, y, hit, box, answer
    case noCoordinate = "no_coordinate", source, uiType = "ui_type", seconds, skipped
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(index, forKey: .index)
    try c.encode(imageFilename, forKey: .imageFilename)
    try c.encode(instruction, forKey: .instruction)
    // Optional values go through `encode`, not `encodeIfPresent`, so a missing point is `null`.
    try c.encode(x, forKey: .x)
    try c.encode(y, forKey: .y)
    try c.encode(hit, forKey: .hit)
    try c.encode(box, forKey: .box)
    try c.encode(answer, forKey: .answer)
    try c.encode(noCoordinate, forKey: .noCoordinate)
    try c.encode(source, forKey: .source)
    try c.encode(uiType, forKey: .uiType)
    try c.encode(seconds, forKey: .seconds)
    try c.encode(skipped, forKey: .skipped)
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    index = try c.decode(Int.self, forKey: .index)
    imageFilename = try c.decode(String.self, forKey: .imageFilename)
    instruction = try c.decode(String.self, forKey: .instruction)
    x = try c.decodeIfPresent(Double.self, forKey: .x)
    y = try c.decodeIfPresent(Double.self, forKey: .y)
    hit = try c.decode(Bool.self, forKey: .hit)
    box = try c.decodeIfPresent(EvaluationBox.self, forKey: .box)
    answer = try c.decodeIfPresent(String.self, forKey: .answer)
    noCoordinate = try c.decodeIfPresent(String.self, forKey: .noCoordinate)
    source = try c.decode(String.self, forKey: .source)
    uiType = try c.decode(String.self, forKey: .uiType)
    seconds = try c.decodeIfPresent(Double.self, forKey: .seconds) ?? 0
    skipped = try c.decodeIfPresent(String.self, forKey: .skipped)
  }
}

extension Double {
  /// Up to six decimals without trailing zeros: 12 -> "12", 0.5 -> "0.5".
  var formatted6: String {
    var s = String(format: "%.6f", self)
    while s.hasSuffix("0") { s.removeLast() }
    if s.hasSuffix(".") { s.removeLast() }
    return s
  }
}
