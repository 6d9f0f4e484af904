// A small strict JSON reader for weight-file headers (safetensors header, sharded index).
// Why not JSONSerialization: it silently keeps one of two duplicate keys, and its NSNumber
// bridging turns `true` and `2.0` into integers. Headers come from untrusted files, so this
// reader keeps keys in file order (duplicates are visible), keeps number literals as text and
// bounds nesting depth. Grammar: RFC 8259.

// MARK: - Value

/// One parsed JSON value. Objects keep their members in file order, duplicates included.
enum StrictJSON: Equatable {
  case object([(key: String, value: StrictJSON)])
  case array([StrictJSON])
  case string(String)
  /// The number's literal text, exactly as written.
  case number(String)
  case bool(Bool)
  case null

  static func == (a: StrictJSON, b: StrictJSON) -> Bool {
    switch (a, b) {
    case let (.object(x), .object(y)):
      x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    case let (.array(x), .array(y)): x == y
    case let (.string(x), .string(y)): x == y
    case let (.number(x), .number(y)): x == y
    case let (.bool(x), .bool(y)): x == y
    case (.null, .null): true
    default: false
    }
  }

  /// The value as an integer when it is an integer literal (no fraction, no exponent) that fits.
  var intValue: Int? {
    guard case let .number(text) = self, !text.contains(where: { ".eE".contains($0) }) else { return nil }
    return Int(text)
  }

  var stringValue: String? {
    if case let .string(s) = self { return s }
    return nil
  }

  /// A short name of the value's kind, for error messages.
  var kindName: String {
    switch self {
    case .object: "object"
    case .array: "array"
    case .string: "string"
    case .number: "number"
    case .bool: "bool"
    case .null: "null"
    }
  }

  /// The first key that occurs twice in an object, if any.
  static func firstDuplicateKey(_ members: [(key: String, value: StrictJSON)]) -> String? {
    var seen = Set<String>()
    for m in members where !seen.insert(m.key).inserted { return m.key }
    return nil
  }
}

// MARK: - Parser

/// Parses one JSON document from bytes; trailing whitespace allowed, anything else after it is an error.
/// Errors are plain strings (with the byte offset) that callers wrap in `EngineError`.
struct StrictJSONParser {
  private let bytes: [UInt8]
  private var pos = 0
  private let maxDepth = 64

  static func parse(_ bytes: [UInt8]) throws(StrictJSONError) -> StrictJSON {
    var p = StrictJSONParser(bytes: bytes)
    let v = try p.value(depth: 0)
    p.skipSpace()
    if p.pos != bytes.count { throw p.fail("unexpected data after the JSON value") }
    return v
  }

  private init(bytes: [UInt8]) { self.bytes = bytes }

  private func fail(_ what: String) -> StrictJSONError {
    StrictJSONError(message: "\(what) at byte \(pos)")
  }

  private mutating func skipSpace() {
    while pos < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[pos]) { pos += 1 }
  }

  private mutating func expect(_ literal: String) throws(StrictJSONError) {
    for b in literal.utf8 {
      guard pos < bytes.count, bytes[pos] == b else { throw fail("invalid literal (expected '\(literal)')") }
      pos += 1
    }
  }

  private mutating func value(depth: Int) throws(StrictJSONError) -> StrictJSON {
    guard depth < maxDepth else { throw fail("nesting deeper than \(maxDepth)") }
    skipSpace()
    guard pos < bytes.count else { throw fail("unexpected end of JSON") }
    switch bytes[pos] {
    case UInt8(ascii: "{"): return try object(depth: depth)
    case UInt8(ascii: "["): return try array(depth: depth)
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "t"): try expect("true"); return .bool(true)
    case UInt8(ascii: "f"): try expect("false"); return .bool(false)
    case UInt8(ascii: "n"): try expect("null"); return .null
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
    default: throw fail("unexpected character '\(Character(Unicode.Scalar(bytes[pos])))'")
    }
  }

  private mutating func object(depth: Int) throws(StrictJSONError) -> StrictJSON {
    pos += 1  // {
    var members: [(key: String, value: StrictJSON)] = []
    skipSpace()
    if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(members) }
    while true {
      skipSpace()
      guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw fail("expected an object key") }
      let key = try string()
      skipSpace()
      guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw fail("expected ':' after key '\(key)'") }
      pos += 1
      members.append((key, try value(depth: depth + 1)))
      skipSpace()
      guard pos < bytes.count else { throw fail("unterminated object") }
      if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
      if bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(members) }
      throw fail("expected ',' or '}' in object")
    }
  }

  private mutating func array(depth: Int) throws(StrictJSONError) -> StrictJSON {
    pos += 1  // [
    var items: [StrictJSON] = []
    skipSpace()
    if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
    while true {
      items.append(try value(depth: depth + 1))
      skipSpace()
      guard pos < bytes.count else { throw fail("unterminated array") }
      if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
      if bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
      throw fail("expected ',' or ']' in array")
    }
  }

  /// A number literal per RFC 8259: -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?
  private mutating func number() throws(StrictJSONError) -> String {
    let start = pos
    func digits(_ p: inout Int, _ b: [UInt8]) -> Int {
      let s = p
      while p < b.count, b[p] >= 0x30, b[p] <= 0x39 { p += 1 }
      return p - s
    }
    if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
    guard pos < bytes.count else { throw fail("truncated number") }
    if bytes[pos] == UInt8(ascii: "0") { pos += 1 } else if digits(&pos, bytes) == 0 { throw fail("invalid number") }
    if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
      pos += 1
      if digits(&pos, bytes) == 0 { throw fail("invalid number fraction") }
    }
    if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
      pos += 1
      if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
      if digits(&pos, bytes) == 0 { throw fail("invalid number exponent") }
    }
    return String(decoding: bytes[start..<pos], as: UTF8.self)
  }

  private mutating func hex4() throws(StrictJSONError) -> UInt32 {
    guard pos + 4 <= bytes.count else { throw fail("truncated \\u escape") }
    var v: UInt32 = 0
    for b in bytes[pos..<pos + 4] {
      let d: UInt8
      switch b {
      case 0x30...0x39: d = b - 0x30
      case 0x41...0x46: d = b - 0x41 + 10
      case 0x61...0x66: d = b - 0x61 + 10
      default: throw fail("invalid \\u escape")
      }
      v = v << 4 | UInt32(d)
    }
    pos += 4
    return v
  }

  private mutating func string() throws(StrictJSONError) -> String {
    pos += 1  // opening quote
    var out: [UInt8] = []
    while true {
      guard pos < bytes.count else { throw fail("unterminated string") }
      let b = bytes[pos]
      pos += 1
      switch b {
      case UInt8(ascii: "\""):
        guard let s = String(validating: out, as: UTF8.self) else { throw fail("string is not valid UTF-8") }
        return s
      case 0x00..<0x20:
        throw fail("control character in string")
      case UInt8(ascii: "\\"):
        guard pos < bytes.count else { throw fail("unterminated escape") }
        let e = bytes[pos]
        pos += 1
        switch e {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
          var scalar = try hex4()
          if (0xD800..<0xDC00).contains(scalar) {
            // A high surrogate must be followed by an escaped low surrogate.
            try expect("\\u")
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate in \\u escape") }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
          }
          guard let u = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape (lone surrogate)") }
          out.append(contentsOf: Array(String(Character(u)).utf8))
        default:
          throw fail("invalid escape '\\\(Character(Unicode.Scalar(e)))'")
        }
      default:
        out.append(b)
      }
    }
  }
}

/// Why a JSON document was rejected (with the byte offset).
struct StrictJSONError: Error {
  let message: String
}
