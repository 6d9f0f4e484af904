/// A point in continuous image coordinates: x to the right, y down, in pixels; the pixel (i, j)
/// covers [i, i+1) x [j, j+1).
public struct ImagePoint: Sendable, Hashable, Codable, CustomStringConvertible {
  public var x: Double
  public var y: Double
  public init(x: Double, y: Double) { self.x = x; self.y = y }
  public var description: String { "(\(x), \(y))" }
}
