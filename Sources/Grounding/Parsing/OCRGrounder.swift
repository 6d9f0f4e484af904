import Engine
import Foundation
import Imaging

/// Which grounder turns an instruction into a point (`--grounder`).
public enum GrounderMode: String, Sendable, CaseIterable {
  /// The vision-language model alone.
  case model
  /// Screen text alone: the best run of OCR words that spells the instruction's label.
  case ocr
  /// OCR candidates re-ranked by the model; the model alone where no text matches (icons,
  /// descriptions).
  case hybrid
}

/// Grounds instructions on screen text (``GrounderMode/ocr``), with a model to choose among
/// several matches and to take over where no text matches (``GrounderMode/hybrid``).
///
/// The last screenshot's parse is kept, so several instructions on one screen (a benchmark's
/// samples, an agent step's retries) read it once. Calls are serialized: the parser is not
/// thread-safe.
public final class OCRGrounder: @unchecked Sendable {
  public let parser: any ScreenParser
  /// The model of hybrid mode; nil in OCR mode.
  public let model: Grounder?
  private let lock = NSLock()
  private var cached: (image: RGBImage, area: PixelRect, parse: ScreenParse)?

  public init(parser: any ScreenParser, model: Grounder? = nil) {
    self.parser = parser
    self.model = model
  }

  public var mode: GrounderMode { model == nil ? .ocr : .hybrid }

  /// The parse of `image` at `area` (the last one when the pixels are the same) and the seconds
  /// it took now (0 when it came from the cache).
  public func parse(_ image: RGBImage, area: PixelRect) throws -> (ScreenParse, Double) {
    lock.lock()
    defer { lock.unlock() }
    // The image is kept, not a hash of it: a copy of the same screenshot shares its buffer (the
    // comparison is then immediate), and different pixels never pass for the same.
    if let c = cached, c.area == area, c.image.width == image.width, c.image.pixels == image.pixels { return (c.parse, 0) }
    let clock = ContinuousClock()
    let t0 = clock.now
    let p = try parser.parse(image, area: area)
    cached = (image, area, p)
    return (p, (clock.now - t0).seconds)
  }

  /// Grounds `instruction` on `image`, a capture whose top-left lies at `origin` on the screen.
  public func ground(image: RGBImage, instruction: String, origin: ScreenPoint = .zero) throws(GroundingError) -> GroundingResult {
    let area = PixelRect(x: origin.x, y: origin.y, width: image.width, height: image.height)
    let parse: ScreenParse, ocrSeconds: Double
    do { (parse, ocrSeconds) = try self.parse(image, area: area) } catch let e as GroundingError { throw e } catch {
      throw .invalidArgument("screen parsing failed: \(error.localizedDescription)")
    }
    let candidates = Self.closest(TextMatch.candidates(forInstruction: instruction, in: parse))
    var result = GroundingResult(point: nil, box: nil, answer: "", reasoning: "", noCoordinate: nil, grid: nil,
                                 timings: ["ocr": ocrSeconds], method: .ocr)
    let field = FieldBeside.namesField(instruction)
    func take(_ c: TextCandidate) {
      // A field named by its label: the field right of the label, where one is.
      result.point = (field ? FieldBeside.point(rightOf: c.box, in: image, origin: origin) : nil) ?? c.center
      result.box = c.box
      result.answer = "\"\(c.text)\" (\(c.distance) edits from '\(c.label)', confidence \(Int(c.confidence.rounded())))"
    }
    guard let model else {
      if let best = candidates.first { take(best) } else {
        result.noCoordinate = .noTextMatch(labels: InstructionLabel.candidates(instruction))
      }
      return result
    }
    if candidates.count == 1, let only = candidates.first {
      take(only)
      return result
    }
    // Several matches, or none: the model decides.
    if model.method == .pointer, !candidates.isEmpty {
      let pass = try model.pointerPass(image: image, instruction: instruction)
      let masses = candidates.map { Self.pointerMass(pass, in: $0.box, origin: origin) }
      var best = 0
      for i in masses.indices where masses[i] > masses[best] { best = i }
      take(candidates[best])
      result.method = .hybrid
      result.score = masses[best]
      result.timings.merge(["preprocess": pass.prepared.preprocessSeconds, "vision": pass.prepared.visionSeconds,
                            "prefill": pass.scores.prefillSeconds, "pointer": pass.scores.headSeconds]) { a, _ in a }
      return result
    }
    var m = try model.ground(image: image, instruction: instruction, origin: origin)
    m.timings.merge(["ocr": ocrSeconds]) { a, _ in a }
    guard !candidates.isEmpty else { return m }
    // A text answer: the candidate nearest the model's point; without a point, OCR's order.
    var best = 0
    if let p = m.point {
      let d = candidates.map { Self.distance(p, $0.box) }
      for i in d.indices where d[i] < d[best] { best = i }
    }
    take(candidates[best])
    result.method = .hybrid
    result.timings.merge(m.timings) { a, _ in a }
    result.reasoning = m.reasoning
    return result
  }

  /// The matches as close as the best (fewest edits): a model choosing among all matches would
  /// trade an exact "Entry 2" for a fuzzy "Entry" it happens to prefer.
  static func closest(_ matches: [TextCandidate]) -> [TextCandidate] {
    matches.filter { $0.distance == matches.first?.distance }
  }

  /// The pointer head's softmax mass on the tokens whose centres fall in `box` (screen pixels),
  /// the box widened by half a token on each side so that a small word keeps its tokens.
  static func pointerMass(_ pass: PointerPass, in box: PixelRect, origin: ScreenPoint) -> Double {
    let c = pass.canvas
    let sx = Double(pass.imageWidth) / Double(c.resizedWidth), sy = Double(pass.imageHeight) / Double(c.resizedHeight)
    let padX = Double(c.cell) * sx / 2, padY = Double(c.cell) * sy / 2
    let x0 = Double(box.x - origin.x) - padX, x1 = Double(box.x - origin.x + box.width) + padX
    let y0 = Double(box.y - origin.y) - padY, y1 = Double(box.y - origin.y + box.height) + padY
    var mass = 0.0
    for k in 0..<min(c.tokenCount, pass.scores.scores.count) {
      let t = c.position(ofToken: k)
      guard !c.isPadding(t) else { continue }
      let e = c.extent(of: t)
      let cx = Double(e.x0 + e.x1) / 2 * sx, cy = Double(e.y0 + e.y1) / 2 * sy
      if cx >= x0, cx < x1, cy >= y0, cy < y1 { mass += Double(pass.scores.scores[k]) }
    }
    return mass
  }

  /// Pixels from `p` to the nearest point of `box` (0 inside).
  static func distance(_ p: ScreenPoint, _ box: PixelRect) -> Double {
    let dx = max(box.x - p.x, 0, p.x - (box.x + box.width - 1))
    let dy = max(box.y - p.y, 0, p.y - (box.y + box.height - 1))
    return (Double(dx * dx + dy * dy)).squareRoot()
  }
}
