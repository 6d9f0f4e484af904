/// A point in continuous image coordinates: x to the right, y down, in pixels; the pixel (i, j)
/// covers [i, i+1) x [j, j+1).
public struct ImagePoint: Sendable, Hashable, Codable, CustomStringConvertible {
  public var x: Double
  public var y: Double
  public init(x: Double, y: Double) { self.x = x; self.y = y }
  public var description: String { "(\(x), \(y))" }
}

/// An integer pixel on the (possibly multi-monitor) X11 screen, or an offset on it.
public struct ScreenPoint: Sendable, Hashable, Codable, CustomStringConvertible {
  public var x: Int
  public var y: Int
  public init(x: Int, y: Int) { self.x = x; self.y = y }
  /// The top-left of the root window; a monitor to the right of a 1920-wide one has origin (1920, 0).
  public static let zero = ScreenPoint(x: 0, y: 0)
  public var description: String { "(\(x), \(y))" }
}
