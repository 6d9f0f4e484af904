// GGUF metadata values (gguf.h `enum gguf_type`; the gguf Python package's `GGUFValueType`).

// MARK: - Value types

/// The type tag of a GGUF metadata value, with its on-disk id.
public enum GGUFValueType: UInt32, Sendable, CaseIterable {
  case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
  case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

  /// The fewest bytes a value of this type occupies (a string or array needs at least its count).
  var minimumBytes: Int {
    switch self {
    case .uint8, .int8, .bool: 1
    case .uint16, .int16: 2
    case .uint32, .int32, .float32: 4
    case .uint64, .int64, .float64, .string: 8
    case .array: 4 + 8  // element type, count
    }
  }
}

/// One GGUF metadata value.
public enum GGUFValue: Sendable, Equatable {
  case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
  case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
  /// An array with its element type (every element has that type; arrays may nest).
  case array(GGUFValueType, [GGUFValue])

  // MARK: - Typed access

  /// Any integer type as `Int`, nil for other types or a `uint64` above `Int.max`.
  public var int: Int? {
    switch self {
    case let .uint8(v): Int(v)
    case let .int8(v): Int(v)
    case let .uint16(v): Int(v)
    case let .int16(v): Int(v)
    case let .uint32(v): Int(v)
    case let .int32(v): Int(v)
    case let .uint64(v): Int(exactly: v)
    case let .int64(v): Int(v)
    default: nil
    }
  }

  /// `float32` or `float64` as `Double`.
  public var double: Double? {
    switch self {
    case let .float32(v): Double(v)
    case let .float64(v): v
    default: nil
    }
  }

  public var string: String? {
    if case let .string(s) = self { return s }
    return nil
  }

  public var bool: Bool? {
    if case let .bool(b) = self { return b }
    return nil
  }

  /// The elements of an array value.
  public var array: [GGUFValue]? {
    if case let .array(_, items) = self { return items }
    return nil
  }

  /// A one-line rendering for error messages and dumps (long arrays abbreviated).
  public var summary: String {
    switch self {
    case let .string(s): "\"\(s)\""
    case let .array(t, items):
      "[\(t) x \(items.count)]" + (items.count <= 8 ? " " + items.map(\.summary).joined(separator: ", ") : "")
    default: int.map(String.init) ?? double.map { "\($0)" } ?? bool.map { "\($0)" } ?? "?"
    }
  }
}

// MARK: - Typed getters on a metadata map

/// Typed lookups of GGUF metadata; each returns nil when the key is absent or of another type.
public protocol GGUFMetadataReading {
  var metadata: [String: GGUFValue] { get }
}

extension GGUFMetadataReading {
  public func string(_ key: String) -> String? { metadata[key]?.string }
  /// Any integer type, converted to `Int`.
  public func int(_ key: String) -> Int? { metadata[key]?.int }
  /// `float32` or `float64`, converted to `Float`.
  public func float(_ key: String) -> Float? { metadata[key]?.double.map(Float.init) }
  public func bool(_ key: String) -> Bool? { metadata[key]?.bool }
  /// An array of strings (nil if any element is not a string).
  public func stringArray(_ key: String) -> [String]? {
    guard let items = metadata[key]?.array else { return nil }
    let out = items.compactMap(\.string)
    return out.count == items.count ? out : nil
  }
  /// An array of integers of any integer type (nil if any element is not an integer).
  public func intArray(_ key: String) -> [Int]? {
    guard let items = metadata[key]?.array else { return nil }
    let out = items.compactMap(\.int)
    return out.count == items.count ? out : nil
  }
  /// An array of `float32`/`float64` values as `Float`.
  public func floatArray(_ key: String) -> [Float]? {
    guard let items = metadata[key]?.array else { return nil }
    let out = items.compactMap { $0.double.map(Float.init) }
    return out.count == items.count ? out : nil
  }
}
