import Engine
import Foundation
import Imaging

/// Where predicted points come from.
public enum EvaluationMethod: Sendable {
  /// The image center `(width / 2, height / 2)`: the floor any model must beat.
  case center
  /// A pixel drawn uniformly from the image, from a generator seeded by `seed` and the sample's
  /// index (so a sample gets the same point whatever the shard or resume order).
  case random(seed: UInt64)
  /// Points from an external predictions file; a sample it lacks is a miss.
  case predictions(PredictionTable)
  /// A vision-language model through ``Grounder``.
  case model(Grounder, thinking: ThinkingMode, maxTokens: Int)
  /// Screen text (OCR), with a model to choose among matches in hybrid mode (``OCRGrounder``).
  case screenText(OCRGrounder)
}

extension EvaluationMethod {
  /// Whether predicting needs the image's pixels (else only its size, from the PNG header).
  var readsPixels: Bool {
    switch self {
    case .model, .screenText: true
    case .center, .random, .predictions: false
    }
  }
}

/// Which samples one run takes: those whose index modulo `count` is `index` (0-based).
public struct Shard: Sendable, Equatable, CustomStringConvertible {
  public let index: Int
  public let count: Int
  public static let whole = Shard(uncheckedIndex: 0, count: 1)

  private init(uncheckedIndex: Int, count: Int) { self.index = uncheckedIndex; self.count = count }

  public init(index: Int, count: Int) throws(GroundingError) {
    guard count >= 1, (0..<count).contains(index) else {
      throw .invalidArgument("shard \(index)/\(count): need 0 <= K < N and N >= 1")
    }
    self.init(uncheckedIndex: index, count: count)
  }

  /// Parses "K/N", e.g. "0/4".
  public init(parsing text: String) throws(GroundingError) {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else {
      throw .invalidArgument("shard '\(text)' is not K/N (e.g. 0/4)")
    }
    try self.init(index: k, count: n)
  }

  public func contains(_ sampleIndex: Int) -> Bool { sampleIndex % count == index }
  public var description: String { "\(index)/\(count)" }
}

/// Runs a ScreenSpot benchmark: each selected sample is predicted, scored against its box and
/// handed out as an ``EvaluationRecord``; samples that cannot be scored become skipped records.
public struct ScreenSpotEvaluator: Sendable {
  public var imagesDirectory: String
  public var method: EvaluationMethod
  public var shard: Shard
  /// Only the first `limit` samples of the file (before sharding, so shards of a limited run
  /// still add up to it).
  public var limit: Int?

  public init(imagesDirectory: String, method: EvaluationMethod, shard: Shard = .whole, limit: Int? = nil) {
    self.imagesDirectory = imagesDirectory; self.method = method; self.shard = shard; self.limit = limit
  }

  /// The outcome of ``run(_:existing:onRecord:)``.
  public struct Run: Sendable {
    /// One record per selected sample, in file order (earlier records first, then new ones).
    public var records: [EvaluationRecord]
    /// Selected samples that an earlier run had already done.
    public var resumed: Int
    /// Earlier records that match no selected sample (another file, shard or limit).
    public var unmatched: Int
  }

  /// The entries this run takes: limit first, then shard.
  public func selection(of annotations: ScreenSpotAnnotations) -> [ScreenSpotEntry] {
    let limited = limit.map { Array(annotations.entries.prefix($0)) } ?? annotations.entries
    return limited.filter { shard.contains($0.key.index) }
  }

  /// Evaluates the selected samples of `annotations` that `existing` lacks; `onRecord` sees each
  /// new record as soon as it exists (to append it to a file) together with the count done so far.
  public func run(_ annotations: ScreenSpotAnnotations, existing: [EvaluationRecord] = [],
                  onRecord: (EvaluationRecord, _ done: Int, _ total: Int) throws(GroundingError) -> Void)
  throws(GroundingError) -> Run {
    let selected = selection(of: annotations)
    let wanted = Set(selected.map(\.key))
    let earlier = try ResultsFile.merge([existing.filter { wanted.contains($0.key) }])
    let unmatched = existing.filter { !wanted.contains($0.key) }.count
    var byKey = Dictionary(earlier.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
    var done = byKey.count
    for entry in selected where byKey[entry.key] == nil {
      let record = evaluate(entry)
      done += 1
      try onRecord(record, done, selected.count)
      byKey[entry.key] = record
    }
    return Run(records: selected.compactMap { byKey[$0.key] }, resumed: earlier.count, unmatched: unmatched)
  }

  // MARK: - One sample

  /// Scores one entry; never throws: whatever goes wrong makes a skipped record naming why.
  public func evaluate(_ entry: ScreenSpotEntry) -> EvaluationRecord {
    let clock = ContinuousClock()
    let t0 = clock.now
    switch entry {
    case let .invalid(key, uiType, source, reason):
      return EvaluationRecord(index: key.index, imageFilename: key.imageFilename, instruction: key.instruction,
                              source: source, uiType: uiType, skipped: reason)
    case let .sample(sample):
      var record = EvaluationRecord(index: sample.index, imageFilename: sample.imageFilename,
                                    instruction: sample.instruction, box: sample.box,
                                    source: sample.source, uiType: sample.uiType)
      do {
        let p = try predict(sample)
        record.x = p.x; record.y = p.y; record.answer = p.answer; record.noCoordinate = p.noCoordinate
        if let x = p.x, let y = p.y { record.hit = sample.box.contains(x: x, y: y) }
      } catch {
        record.skipped = error.localizedDescription
      }
      record.seconds = (clock.now - t0).seconds
      return record
    }
  }

  struct Prediction {
    var x: Double?, y: Double?, answer: String?, noCoordinate: String?
  }

  /// Checks the sample against its image, then predicts a point for it.
  func predict(_ sample: ScreenSpotSample) throws(GroundingError) -> Prediction {
    // An annotation file comes from a download: its image names must stay inside the images
    // folder (no absolute path, no '..'), so that evaluating it reads nothing else on the machine.
    let name = sample.imageFilename
    if name.isEmpty || name.hasPrefix("/") || name.split(separator: "/").contains("..") || name.contains("\0") {
      throw .invalidArgument("img_filename '\(name)' leaves the images folder (absolute or with '..')")
    }
    let path = (imagesDirectory as NSString).appendingPathComponent(name)
    guard FileManager.default.fileExists(atPath: path) else { throw .invalidArgument("image not found: \(path)") }
    // The model needs the pixels; the others only the size, read from the PNG header.
    var image: RGBImage? = nil
    let width: Int, height: Int
    if method.readsPixels {
      do { image = try PNG.read(path: path) } catch { throw .invalidArgument("\(path): \(error.localizedDescription)") }
      width = image?.width ?? 0; height = image?.height ?? 0
    } else {
      (width, height) = try PNGSize.read(path: path)
    }
    if let d = sample.declaredSize, d != [width, height] {
      throw .invalidArgument("img_size \(d[0])x\(d[1]) differs from the image's \(width)x\(height) (\(path))")
    }
    guard sample.box.isInside(width: width, height: height) else {
      throw .invalidArgument("box \(sample.box.array.map(\.formatted6)) lies outside the \(width)x\(height) image")
    }
    switch method {
    case .center:
      return Prediction(x: Double(width) / 2, y: Double(height) / 2)
    case let .random(seed):
      var g = SeededGenerator(seed: seed ^ (UInt64(sample.index) &* 0x9E37_79B9_7F4A_7C15))
      let x = (g.nextUnit() * Double(width)).rounded(.down), y = (g.nextUnit() * Double(height)).rounded(.down)
      return Prediction(x: x, y: y)
    case let .predictions(table):
      guard let p = table.point(for: sample) else {
        return Prediction(noCoordinate: "no prediction in \(table.path)")
      }
      return Prediction(x: p.x, y: p.y, noCoordinate: p.x == nil ? "null point in \(table.path)" : nil)
    case let .model(grounder, thinking, maxTokens):
      guard let image else { throw .invalidArgument("image \(path) was not read") }
      let r = try grounder.ground(image: image, instruction: sample.instruction, thinking: thinking, maxTokens: maxTokens)
      // A pointer-head result has no answer text.
      return Prediction(x: r.point.map { Double($0.x) }, y: r.point.map { Double($0.y) },
                        answer: r.method == .pointer ? nil : r.answer,
                        noCoordinate: r.point == nil ? (r.noCoordinate?.description ?? "no coordinate") : nil)
    case let .screenText(grounder):
      guard let image else { throw .invalidArgument("image \(path) was not read") }
      let r = try grounder.ground(image: image, instruction: sample.instruction)
      return Prediction(x: r.point.map { Double($0.x) }, y: r.point.map { Double($0.y) }, answer: r.answer,
                        noCoordinate: r.point == nil ? (r.noCoordinate?.description ?? "no coordinate") : nil)
    }
  }
}
