import Foundation

// Pieces the episode exports share: writing files with errors that name them, JSON lines,
// screenshot file names, and a PNG's size.
enum ExportSupport {
  // MARK: - Files

  static func makeFolder(_ url: URL) throws {
    do {
      try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    } catch {
      throw AgentError.export(path: url.path, message: error.localizedDescription)
    }
  }

  static func write(_ data: Data, to url: URL) throws {
    do {
      try data.write(to: url, options: .atomic)
    } catch {
      throw AgentError.export(path: url.path, message: error.localizedDescription)
    }
  }

  /// `step-003-before.png`: zero-padded so that file listings sort in step order.
  static func screenshotName(index: Int, moment: ScreenshotMoment) -> String {
    let digits = String(index)
    return "step-" + String(repeating: "0", count: max(0, 3 - digits.count)) + digits + "-\(moment.rawValue).png"
  }

  // MARK: - JSON

  /// One value as a compact JSON line (sorted keys, so that exports diff cleanly).
  static func jsonLine(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    do {
      return String(decoding: try encoder.encode(value), as: UTF8.self)
    } catch {
      throw AgentError.invalidArgument("cannot encode \(type(of: value)) as JSON: \(error)")
    }
  }

  /// Stored JSON text as a value that can sit inside another document (settings, actions).
  static func embedded(_ text: String?) -> JSONFragment? {
    guard let text else { return nil }
    return try? JSONDecoder().decode(JSONFragment.self, from: Data(text.utf8))
  }

  // MARK: - PNG

  /// Width and height from a PNG's IHDR chunk (bytes 16..<24, big-endian); nil if not a PNG.
  static func pngSize(_ data: Data) -> (width: Int, height: Int)? {
    let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    let bytes = [UInt8](data.prefix(24))
    guard bytes.count == 24, Array(bytes[0..<8]) == signature, bytes[12..<16].elementsEqual("IHDR".utf8) else { return nil }
    func be32(_ i: Int) -> Int { bytes[i..<(i + 4)].reduce(0) { $0 << 8 | Int($1) } }
    let (w, h) = (be32(16), be32(20))
    return w > 0 && h > 0 ? (w, h) : nil
  }
}

/// Any JSON value, so that stored JSON text (settings, actions) nests inside an export as
/// structure rather than as an escaped string.
enum JSONFragment: Codable, Equatable {
  case null
  case bool(Bool)
  case integer(Int64)
  case number(Double)
  case string(String)
  case array([JSONFragment])
  case object([String: JSONFragment])

  init(from decoder: any Decoder) throws {
    let c = try decoder.singleValueContainer()
    if c.decodeNil() { self = .null }
    else if let b = try? c.decode(Bool.self) { self = .bool(b) }
    else if let i = try? c.decode(Int64.self) { self = .integer(i) }
    else if let d = try? c.decode(Double.self) { self = .number(d) }
    else if let s = try? c.decode(String.self) { self = .string(s) }
    else if let a = try? c.decode([JSONFragment].self) { self = .array(a) }
    else { self = .object(try c.decode([String: JSONFragment].self)) }
  }

  func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    switch self {
    case .null: try c.encodeNil()
    case let .bool(b): try c.encode(b)
    case let .integer(i): try c.encode(i)
    case let .number(d): try c.encode(d)
    case let .string(s): try c.encode(s)
    case let .array(a): try c.encode(a)
    case let .object(o): try c.encode(o)
    }
  }
}
