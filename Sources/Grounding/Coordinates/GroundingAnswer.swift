import Foundation
/// What a model's grounding answer names: a point, a box (whose center is the click point), or
/// nothing usable, with the reason.
public enum GroundingAnswer: Sendable, Equatable {
  case point(x: Double, y: Double)
  case box(x1: Double, y1: Double, x2: Double, y2: Double)
  case noCoordinate(NoCoordinateReason)

  /// The click point: the point itself or the box's center; nil when there is no coordinate.
  public var clickPoint: (x: Double, y: Double)? {
    switch self {
    case let .point(x, y): (x, y)
    case let .box(x1, y1, x2, y2): ((x1 + x2) / 2, (y1 + y2) / 2)
    case .noCoordinate: nil
    }
  }
}

/// Why an answer yields no coordinate.
public enum NoCoordinateReason: Sendable, Equatable, CustomStringConvertible {
  /// The answer is empty or only whitespace.
  case empty
  /// No group of 2 or 4 numbers in any accepted spelling.
  case noCoordinateFound
  /// A coordinate was found but a value lies outside the convention's range (e.g. negative).
  case outOfRange(value: Double, allowed: ClosedRange<Double>)
  /// A number too large to represent (it overflows a double).
  case notFinite(String)
  /// The pointer head's best region scores below the minimum the caller asked for: "not found".
  case belowMinimumScore(score: Double, minimum: Double)
  /// OCR grounding: no run of words on the screen spells any label of the instruction.
  case noTextMatch(labels: [String])

  public var description: String {
    switch self {
    case .empty: "the answer is empty"
    case .noCoordinateFound: "the answer holds no point (x,y) or box (x1,y1,x2,y2)"
    case let .outOfRange(v, r): "coordinate \(v) is outside [\(r.lowerBound), \(r.upperBound)]"
    case let .notFinite(s): "coordinate \(s) is not a finite number"
    case let .belowMinimumScore(score, minimum):
      "not found: the pointer's best region scores \(String(format: "%.4f", score)), below the minimum \(minimum)"
    case let .noTextMatch(labels):
      "not found: no text on the screen reads " + labels.map { "'\($0)'" }.joined(separator: " or ")
    }
  }
}
