/// Tolerance checks that fail on a value that is not finite. Swift's `max()` steps over a NaN
/// that is not first, so a partly NaN output would pass a plain `diffs.max() ?? 0 <= tol`.

/// The largest |a_i - b_i|; infinity when the counts differ, the arrays are empty, or any value
/// on either side is not finite.
func maxAbsDifference<T: BinaryFloatingPoint>(_ a: [T], _ b: [T]) -> T {
  guard a.count == b.count, !a.isEmpty, a.allSatisfy(\.isFinite), b.allSatisfy(\.isFinite) else { return .infinity }
  return zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
}

/// max |a - b| / max |b|, with maxAbsDifference's rule for non-finite values.
func relativeError(_ a: [Float], _ b: [Float]) -> Float {
  maxAbsDifference(a, b) / max(b.map(abs).max() ?? 0, .leastNormalMagnitude)
}
