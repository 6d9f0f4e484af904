// Little-endian GGUF encoding of header fields and metadata values, the inverse of
// `GGUFHeader`'s cursor (gguf.h `enum gguf_type`; strings are u64 length + UTF-8 bytes; an array is
// u32 element type, u64 count, then the elements without their own tags).

/// Little-endian GGUF encoding of header fields and metadata values.
struct GGUFEncoder {
  var bytes: [UInt8] = []

  mutating func int<T: FixedWidthInteger>(_ v: T) {
    withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
  }
  mutating func u32(_ v: UInt32) { int(v) }
  mutating func u64(_ v: UInt64) { int(v) }
  mutating func string(_ s: String) {
    u64(UInt64(s.utf8.count))
    bytes.append(contentsOf: s.utf8)
  }

  /// The value's u32 type tag, then the value.
  mutating func typedValue(_ v: GGUFValue, key: String) throws(EngineError) {
    u32(v.valueType.rawValue)
    try value(v, key: key)
  }

  /// The value without its tag (array elements carry none).
  mutating func value(_ v: GGUFValue, key: String) throws(EngineError) {
    switch v {
    case let .uint8(x): int(x)
    case let .int8(x): int(x)
    case let .uint16(x): int(x)
    case let .int16(x): int(x)
    case let .uint32(x): int(x)
    case let .int32(x): int(x)
    case let .uint64(x): int(x)
    case let .int64(x): int(x)
    case let .float32(x): int(x.bitPattern)
    case let .float64(x): int(x.bitPattern)
    case let .bool(x): bytes.append(x ? 1 : 0)
    case let .string(s): string(s)
    case let .array(type, items):
      u32(type.rawValue)
      u64(UInt64(items.count))
      for (i, item) in items.enumerated() {
        guard item.valueType == type else {
          throw .invalidArgument("GGUF metadata '\(key)': element \(i) is a \(item.valueType), the array holds \(type)")
        }
        try value(item, key: key)
      }
    }
  }
}

extension GGUFValue {
  /// The type tag this value is stored with.
  public var valueType: GGUFValueType {
    switch self {
    case .uint8: .uint8
    case .int8: .int8
    case .uint16: .uint16
    case .int16: .int16
    case .uint32: .uint32
    case .int32: .int32
    case .uint64: .uint64
    case .int64: .int64
    case .float32: .float32
    case .float64: .float64
    case .bool: .bool
    case .string: .string
    case .array: .array
    }
  }
}
