/// An integer pixel on the (possibly multi-monitor) X11 screen in root-window coordinates, or an
/// offset on it. Shared by capture/input and grounding, which both speak in screen pixels.
public struct ScreenPoint: Sendable, Hashable, Codable, CustomStringConvertible {
  public var x: Int
  public var y: Int
  public init(x: Int, y: Int) { self.x = x; self.y = y }
  /// The top-left of the root window; a monitor to the right of a 1920-wide one has origin (1920, 0).
  public static let zero = ScreenPoint(x: 0, y: 0)
  public var description: String { "(\(x), \(y))" }
}
