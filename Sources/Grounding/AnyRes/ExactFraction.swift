/// A non-negative rational number held exactly, for AnyRes arithmetic that floating point gets
/// wrong (170 * 0.7 is 118.99999 in doubles).
///
/// Parts are 128-bit: every value AnyRes builds (image sides up to 2^30, canvas sides up to
/// 2^26) multiplies out within 2^113, so comparison by cross-multiplication cannot overflow.
public struct ExactFraction: Sendable, Hashable, Comparable, CustomStringConvertible {
  /// Reduced numerator.
  public let numerator: Int128
  /// Reduced denominator, always positive.
  public let denominator: Int128

  /// `numerator / denominator`, reduced; `denominator` must be positive.
  init(_ numerator: Int128, _ denominator: Int128) {
    var a = numerator < 0 ? -numerator : numerator, b = denominator
    while b != 0 { (a, b) = (b, a % b) }
    let g = a == 0 ? 1 : a
    self.numerator = numerator / g
    self.denominator = denominator / g
  }

  init(_ value: Int) { self.init(Int128(value), 1) }

  public static func < (l: ExactFraction, r: ExactFraction) -> Bool {
    l.numerator * r.denominator < r.numerator * l.denominator
  }

  /// The nearest double (for display and continuous coordinate mapping only).
  public var doubleValue: Double { Double(numerator) / Double(denominator) }

  public var description: String { denominator == 1 ? "\(numerator)" : "\(numerator)/\(denominator)" }
}
