// A strict parser of GGUF v2/v3 headers (little-endian).
// Layout (ggml/src/gguf.cpp, docs/gguf.md in ggml): magic "GGUF", u32 version, u64 tensor count,
// u64 kv count; kv pairs (string key, u32 type, value); tensor infos (string name, u32 n_dims,
// u64 ne[n_dims], u32 ggml_type, u64 offset); padding to `general.alignment`; the data section.
// Strings are u64 length + UTF-8 bytes. Like gguf.cpp, every count and offset is checked before
// use, and errors name the bad value.

// MARK: - Parsed tensor

/// One tensor of a GGUF file, validated.
public struct GGUFTensor: Sendable, Equatable {
  public let name: String
  public let type: TensorDType
  /// ggml's `ne`: fastest-varying dimension first (`dims[0]` is the row length).
  public let dims: [Int]
  /// Absolute byte range in the file.
  public let byteRange: Range<Int>

  /// PyTorch-order shape: `dims` reversed (`[ne[n-1], ..., ne[0]]`, so `[out, in]` for a matrix).
  public var shape: [Int] { dims.reversed() }
  public var elementCount: Int { dims.reduce(1, *) }
  /// Elements per row (`ne[0]`; 1 for a scalar).
  public var rowLength: Int { dims.first ?? 1 }
  /// Number of rows (product of `ne[1...]`).
  public var rowCount: Int { dims.dropFirst().reduce(1, *) }
}

/// A validated GGUF header.
struct GGUFHeader {
  static let defaultAlignment = 32
  static let maxDims = 4
  /// Arrays nested deeper than this are rejected (guards the recursion).
  static let maxArrayDepth = 8

  var version: UInt32 = 0
  var metadataKeys: [String] = []
  var metadata: [String: GGUFValue] = [:]
  var alignment = defaultAlignment
  var dataStart = 0
  var tensors: [GGUFTensor] = []
}

// MARK: - Cursor

/// Bounds-checked little-endian reads from a mapped file.
private struct Cursor {
  let file: MappedFile
  var pos: Int

  var remaining: Int { file.count - pos }

  func bad(_ reason: String) -> EngineError { .malformedWeights(file: file.path, reason: reason) }

  mutating func int<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws(EngineError) -> T {
    let n = MemoryLayout<T>.size
    guard remaining >= n else {
      throw bad("\(what()) at offset \(pos) runs past the end of the file (\(file.count) bytes)")
    }
    defer { pos += n }
    return file.load(T.self, at: pos)
  }

  /// A GGUF string: u64 length, then bytes. `strict` rejects invalid UTF-8 (names, keys);
  /// otherwise invalid sequences become U+FFFD (values, such as vocabulary pieces).
  mutating func string(_ what: @autoclosure () -> String, strict: Bool) throws(EngineError) -> String {
    let start = pos
    let length = try int(UInt64.self, "length of \(what())")
    guard length <= UInt64(remaining) else {
      throw bad("\(what()): string length \(length) at offset \(start) runs past the end of the file (\(remaining) bytes left)")
    }
    let bytes = file.bytes[pos..<pos + Int(length)]
    pos += Int(length)
    if strict {
      guard let s = String(validating: bytes, as: UTF8.self) else { throw bad("\(what()) at offset \(start) is not valid UTF-8") }
      return s
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}

// MARK: - Parsing

extension GGUFHeader {
  init(file: MappedFile) throws(EngineError) {
    var c = Cursor(file: file, pos: 0)
    let magic = try c.int(UInt32.self, "magic")
    guard magic == 0x4655_4747 else {  // "GGUF" read little-endian
      let text = String(decoding: file.bytes[0..<4].map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: ".") }, as: UTF8.self)
      throw c.bad("bad magic '\(text)' (0x\(String(magic, radix: 16))), expected 'GGUF'")
    }
    version = try c.int(UInt32.self, "version")
    if version == 1 {
      throw c.bad("GGUF version 1 is not supported (only versions 2 and 3)")
    }
    if version & 0xFFFF == 0, version != 0 {
      throw c.bad("version field 0x\(String(version, radix: 16)) looks big-endian; big-endian GGUF is not supported")
    }
    guard version == 2 || version == 3 else {
      throw c.bad("unsupported GGUF version \(version) (only versions 2 and 3)")
    }
    let tensorCount = try c.int(UInt64.self, "tensor count")
    let kvCount = try c.int(UInt64.self, "kv count")
    // Each kv needs >= 13 bytes (key length, type, 1-byte value); each tensor info >= 24 (name
    // length, n_dims, type, offset). Reject impossible counts before allocating anything.
    let minKV = UInt64(8 + 4 + 1), minTensor = UInt64(8 + 4 + 4 + 8)
    let room = UInt64(c.remaining)
    guard kvCount <= room / minKV else {
      throw c.bad("kv count \(kvCount) is impossible in a file of \(file.count) bytes")
    }
    guard tensorCount <= room / minTensor, kvCount * minKV + tensorCount * minTensor <= room else {
      throw c.bad("tensor count \(tensorCount) is impossible in a file of \(file.count) bytes (with \(kvCount) kv pairs)")
    }

    try readMetadata(&c, count: Int(kvCount))
    let infos = try readTensorInfos(&c, count: Int(tensorCount))
    // The data section starts at the next multiple of the alignment.
    let (padded, overflow) = c.pos.addingReportingOverflow(alignment - 1)
    guard !overflow else { throw c.bad("data section start overflows") }
    dataStart = padded / alignment * alignment
    tensors = try Self.placeTensors(infos, dataStart: dataStart, file: file, bad: c.bad)
  }

  private mutating func readMetadata(_ c: inout Cursor, count: Int) throws(EngineError) {
    for i in 0..<count {
      let key = try c.string("key of kv pair \(i)", strict: true)
      guard metadata[key] == nil else { throw c.bad("duplicate key '\(key)'") }
      let typeID = try c.int(UInt32.self, "value type of key '\(key)'")
      guard let type = GGUFValueType(rawValue: typeID) else {
        throw c.bad("key '\(key)': unknown value type \(typeID)")
      }
      metadata[key] = try Self.value(&c, type, key: key, depth: 0)
      metadataKeys.append(key)
    }
    if let a = metadata["general.alignment"] {
      // gguf.cpp requires a u32 power of two.
      guard case let .uint32(v) = a, v > 0, v & (v - 1) == 0 else {
        throw c.bad("general.alignment \(a.summary) is not a u32 power of two")
      }
      alignment = Int(v)
    }
  }

  private static func value(_ c: inout Cursor, _ type: GGUFValueType, key: String, depth: Int) throws(EngineError) -> GGUFValue {
    switch type {
    case .uint8: return .uint8(try c.int(UInt8.self, "value of '\(key)'"))
    case .int8: return .int8(try c.int(Int8.self, "value of '\(key)'"))
    case .uint16: return .uint16(try c.int(UInt16.self, "value of '\(key)'"))
    case .int16: return .int16(try c.int(Int16.self, "value of '\(key)'"))
    case .uint32: return .uint32(try c.int(UInt32.self, "value of '\(key)'"))
    case .int32: return .int32(try c.int(Int32.self, "value of '\(key)'"))
    case .uint64: return .uint64(try c.int(UInt64.self, "value of '\(key)'"))
    case .int64: return .int64(try c.int(Int64.self, "value of '\(key)'"))
    case .float32: return .float32(Float(bitPattern: try c.int(UInt32.self, "value of '\(key)'")))
    case .float64: return .float64(Double(bitPattern: try c.int(UInt64.self, "value of '\(key)'")))
    case .bool:
      let b = try c.int(UInt8.self, "value of '\(key)'")
      guard b <= 1 else { throw c.bad("key '\(key)': bool value \(b) is neither 0 nor 1") }
      return .bool(b == 1)
    case .string: return .string(try c.string("value of '\(key)'", strict: false))
    case .array:
      guard depth < maxArrayDepth else { throw c.bad("key '\(key)': arrays nested deeper than \(maxArrayDepth)") }
      let typeID = try c.int(UInt32.self, "array element type of '\(key)'")
      guard let elementType = GGUFValueType(rawValue: typeID) else {
        throw c.bad("key '\(key)': unknown array element type \(typeID)")
      }
      let start = c.pos
      let count = try c.int(UInt64.self, "array length of '\(key)'")
      guard count <= UInt64(c.remaining / elementType.minimumBytes) else {
        throw c.bad("key '\(key)': array of \(count) \(elementType) elements at offset \(start) runs past the end of the file (\(c.remaining) bytes left)")
      }
      var items: [GGUFValue] = []
      items.reserveCapacity(min(Int(count), 1 << 16))  // the count is bounded, not yet proven
      for _ in 0..<Int(count) { items.append(try value(&c, elementType, key: key, depth: depth + 1)) }
      return .array(elementType, items)
    }
  }

  /// Tensor infos with offsets relative to the data section (checked against the file later).
  private func readTensorInfos(_ c: inout Cursor, count: Int) throws(EngineError) -> [(GGUFTensor, offset: Int, bytes: Int)] {
    var out: [(GGUFTensor, offset: Int, bytes: Int)] = []
    var seen = Set<String>()
    for i in 0..<count {
      let name = try c.string("name of tensor \(i)", strict: true)
      guard seen.insert(name).inserted else { throw c.bad("duplicate tensor name '\(name)'") }
      let nDims = try c.int(UInt32.self, "n_dims of tensor '\(name)'")
      guard nDims <= UInt32(Self.maxDims) else { throw c.bad("tensor '\(name)': n_dims \(nDims) exceeds \(Self.maxDims)") }
      var dims: [Int] = []
      var elements = 1
      for d in 0..<Int(nDims) {
        let n = try c.int(UInt64.self, "ne[\(d)] of tensor '\(name)'")
        guard let v = Int(exactly: n), v >= 0 else { throw c.bad("tensor '\(name)': ne[\(d)] = \(n) is out of range") }
        let (p, overflow) = elements.multipliedReportingOverflow(by: v)
        guard !overflow else { throw c.bad("tensor '\(name)': element count of ne \(dims + [v]) overflows") }
        dims.append(v)
        elements = p
      }
      let typeID = try c.int(UInt32.self, "type of tensor '\(name)'")
      guard let type = TensorDType(ggmlTypeID: typeID) else {
        if let known = TensorDType.ggmlTypeName(typeID) {
          throw c.bad("tensor '\(name)': tensor type \(known) (id \(typeID)) is not supported")
        }
        throw c.bad("tensor '\(name)': unknown tensor type id \(typeID)")
      }
      let rowLength = dims.first ?? 1
      guard let rowBytes = type.rowBytes(rowLength) else {
        if rowLength % type.blockSize == 0 { throw c.bad("tensor '\(name)': row length ne[0] = \(rowLength): byte size overflows") }
        throw c.bad("tensor '\(name)': row length ne[0] = \(rowLength) is not a multiple of the \(type) block size \(type.blockSize)")
      }
      let rows = dims.dropFirst().reduce(1, *)  // <= elements, no overflow
      let (bytes, overflow) = rowBytes.multipliedReportingOverflow(by: rows)
      guard !overflow else { throw c.bad("tensor '\(name)': byte size overflows") }
      let offset = try c.int(UInt64.self, "offset of tensor '\(name)'")
      guard offset % UInt64(alignment) == 0 else {
        throw c.bad("tensor '\(name)': offset \(offset) is not a multiple of the alignment \(alignment)")
      }
      guard let off = Int(exactly: offset) else { throw c.bad("tensor '\(name)': offset \(offset) is out of range") }
      out.append((GGUFTensor(name: name, type: type, dims: dims, byteRange: 0..<0), off, bytes))
    }
    return out
  }

  /// Places every tensor in the data section: inside the file, no two sharing bytes.
  private static func placeTensors(_ infos: [(GGUFTensor, offset: Int, bytes: Int)], dataStart: Int, file: MappedFile,
                                   bad: (String) -> EngineError) throws(EngineError) -> [GGUFTensor] {
    var placed: [GGUFTensor] = []
    for (t, offset, bytes) in infos {
      let (begin, o1) = dataStart.addingReportingOverflow(offset)
      let (end, o2) = begin.addingReportingOverflow(bytes)
      guard !o1, !o2, end <= file.count else {
        throw bad("tensor '\(t.name)': data at offset \(offset) (\(bytes) bytes from data section start \(dataStart)) runs past the end of the file (\(file.count) bytes)")
      }
      placed.append(GGUFTensor(name: t.name, type: t.type, dims: t.dims, byteRange: begin..<end))
    }
    let ranged = placed.filter { !$0.byteRange.isEmpty }.sorted { $0.byteRange.lowerBound < $1.byteRange.lowerBound }
    for (a, b) in zip(ranged, ranged.dropFirst()) where a.byteRange.upperBound > b.byteRange.lowerBound {
      throw bad("tensors '\(a.name)' and '\(b.name)' overlap (file bytes \(a.byteRange) and \(b.byteRange))")
    }
    return placed
  }
}
