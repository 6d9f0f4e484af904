import Engine
import Foundation
import Imaging
import ScreenCapture

// MARK: - JSON values

/// Any JSON value, kept as written so a plan can be rewritten before it is decoded.
public enum JSONValue: Sendable, Equatable, Codable {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  public init(from decoder: any Decoder) throws {
    let c = try decoder.singleValueContainer()
    if c.decodeNil() {
      self = .null
    } else if let b = try? c.decode(Bool.self) {
      self = .bool(b)
    } else if let n = try? c.decode(Double.self) {
      self = .number(n)
    } else if let s = try? c.decode(String.self) {
      self = .string(s)
    } else if let a = try? c.decode([JSONValue].self) {
      self = .array(a)
    } else {
      self = .object(try c.decode([String: JSONValue].self))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    switch self {
    case .null: try c.encodeNil()
    case let .bool(b): try c.encode(b)
    case let .number(n): try c.encode(n)
    case let .string(s): try c.encode(s)
    case let .array(a): try c.encode(a)
    case let .object(o): try c.encode(o)
    }
  }
}

// MARK: - Named targets

/// Resolves `@name` references in scenario plans against the applications' own geometry.
///
/// - `@widget`: the center of a widget in the geometry file an app wrote (`--geometry-out`),
///   `{"widgets": {"submit": {"x": 252, "y": 187, "width": 80, "height": 31}, ...}}`, root
///   coordinates in pixels.
/// - `@window:NAME`: the center of the viewable window named NAME.
/// - Either may end in an offset from that center, X-geometry style: `@window:xedit+0+60`.
public enum ScenarioTargets {
  /// A parsed reference: what to look up and the offset to add to its center.
  public struct Reference: Equatable, Sendable {
    public var name: String
    public var dx = 0, dy = 0

    /// Parses `@name`, `@name+dx-dy`; nil when `text` does not start with `@` or names nothing.
    public init?(_ text: String) {
      guard text.hasPrefix("@") else { return nil }
      var body = Substring(text.dropFirst())
      // A trailing pair of signed integers is an offset; names like "scenario-xterm" are not.
      if let match = body.firstMatch(of: /([+-]\d+)([+-]\d+)$/), let x = Int(match.1), let y = Int(match.2) {
        dx = x
        dy = y
        body = body[..<match.range.lowerBound]
      }
      guard !body.isEmpty else { return nil }
      name = String(body)
    }

    /// The window title when this is `@window:NAME`.
    public var windowName: String? { name.hasPrefix("window:") ? String(name.dropFirst("window:".count)) : nil }
  }

  /// Returns `plan` as JSON bytes with every `"point": "@ref"` replaced by `[x, y]` from `locate`.
  public static func resolve(_ plan: JSONValue, with locate: (Reference) throws -> (Int, Int)) throws -> Data {
    func walk(_ v: JSONValue, key: String?) throws -> JSONValue {
      switch v {
      case let .object(o):
        return .object(try o.reduce(into: [:]) { $0[$1.key] = try walk($1.value, key: $1.key) })
      case let .array(a):
        return .array(try a.map { try walk($0, key: nil) })
      case let .string(s) where key == "point":
        guard let ref = Reference(s) else {
          throw AgentError.invalidArgument("point '\(s)' is neither [x, y] nor a reference like \"@submit\"")
        }
        let (x, y) = try locate(ref)
        let (px, xOverflow) = x.addingReportingOverflow(ref.dx), (py, yOverflow) = y.addingReportingOverflow(ref.dy)
        guard !xOverflow, !yOverflow else {
          throw AgentError.invalidArgument("point '\(s)': offset (\(ref.dx), \(ref.dy)) from (\(x), \(y)) is out of range")
        }
        return .array([.number(Double(px)), .number(Double(py))])
      default:
        return v
      }
    }
    return try JSONEncoder().encode(walk(plan, key: nil))
  }
}

// MARK: - Geometry files

/// The geometry file of a scenario's applications, and the display's windows.
public struct ScenarioGeometry: Sendable {
  public let file: URL
  public let display: X11Display

  public init(file: URL, display: X11Display) {
    self.file = file
    self.display = display
  }

  /// The widgets of the geometry file as rectangles in root coordinates.
  /// - Throws: `AgentError.invalidArgument` naming the file when it is missing or malformed.
  public func widgets() throws -> [String: PixelRect] {
    struct File: Decodable {
      struct Box: Decodable { var x, y, width, height: Int }
      var widgets: [String: Box]
    }
    let decoded: File
    do { decoded = try JSONDecoder().decode(File.self, from: try Data(contentsOf: file)) } catch {
      throw AgentError.invalidArgument("geometry file \(file.path) is missing or not a geometry file: \(error.localizedDescription)")
    }
    return decoded.widgets.mapValues { PixelRect(x: $0.x, y: $0.y, width: $0.width, height: $0.height) }
  }

  /// The center of the referenced widget or window (without the reference's offset).
  /// - Throws: `AgentError.invalidArgument` naming the reference and what exists instead.
  public func center(of ref: ScenarioTargets.Reference) throws -> (Int, Int) {
    let rect = try rect(of: ref)
    return (rect.x + rect.width / 2, rect.y + rect.height / 2)
  }

  /// The referenced widget's or window's rectangle in screen pixels.
  /// - Throws: `AgentError.invalidArgument` naming the reference and what exists instead.
  public func rect(of ref: ScenarioTargets.Reference) throws -> PixelRect {
    if let title = ref.windowName {
      guard let w = try display.findWindows(named: title).first(where: { $0.isViewable }) else {
        throw AgentError.invalidArgument("no viewable window named '\(title)' on \(display.name)")
      }
      return w.rect
    }
    let all = try widgets()
    guard let r = all[ref.name] else {
      throw AgentError.invalidArgument("no widget '\(ref.name)' in \(file.lastPathComponent) (it has: \(all.keys.sorted().joined(separator: ", ")))")
    }
    return r
  }
}

/// Locates `{"element": "@name"}` targets when the step runs, from the geometry file as it is
/// then: for widgets whose place is known only once an earlier step has happened.
public final class GeometryLocator: ElementLocator {
  public let geometry: ScenarioGeometry
  public var name: String { "scenario geometry" }

  public init(geometry: ScenarioGeometry) { self.geometry = geometry }

  public func locate(_ description: String, in screenshot: RGBImage) throws -> Located {
    let start = ContinuousClock.now
    guard let ref = ScenarioTargets.Reference(description) else {
      return .notFound("element '\(description)' is not a reference like \"@submit\"")
    }
    do {
      let rect = try geometry.rect(of: ref)
      let (x, y) = (rect.x + rect.width / 2, rect.y + rect.height / 2)
      let (px, xOverflow) = x.addingReportingOverflow(ref.dx), (py, yOverflow) = y.addingReportingOverflow(ref.dy)
      guard !xOverflow, !yOverflow else {
        return .notFound("element '\(description)': offset (\(ref.dx), \(ref.dy)) from (\(x), \(y)) is out of range")
      }
      return Located(point: ScreenPoint(x: px, y: py), box: rect, milliseconds: (ContinuousClock.now - start).milliseconds)
    } catch {
      return .notFound(error.localizedDescription)
    }
  }
}

/// A scenario's locator: `@name` references from the applications' geometry, every other
/// description from a grounding model, so one plan can mix widgets it knows and elements the
/// model must find on the screen.
public final class ScenarioLocator: ElementLocator {
  public let geometry: GeometryLocator
  public let described: (any ElementLocator)?
  public var name: String { described.map { "scenario geometry + \($0.name)" } ?? geometry.name }

  public init(geometry: GeometryLocator, described: (any ElementLocator)?) {
    self.geometry = geometry
    self.described = described
  }

  public func locate(_ description: String, in screenshot: RGBImage) throws -> Located {
    if description.hasPrefix("@") { return try geometry.locate(description, in: screenshot) }
    guard let described else {
      return .notFound("element '\(description)' needs a grounding model (scenario run --model DIR)")
    }
    return try described.locate(description, in: screenshot)
  }
}

extension Scenario {
  /// The plan's element descriptions that are not `@name` references: what a grounding model
  /// has to find (`{"element": "the Submit button"}`).
  public var describedElements: [String] {
    func walk(_ v: JSONValue) -> [String] {
      switch v {
      case let .object(o):
        var found: [String] = []
        if case let .string(s)? = o["element"], !s.hasPrefix("@") { found.append(s) }
        return found + o.keys.sorted().flatMap { walk(o[$0] ?? .null) }
      case let .array(a): return a.flatMap(walk)
      default: return []
      }
    }
    return walk(plan)
  }
}
