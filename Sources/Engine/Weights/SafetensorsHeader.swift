// Parsing and validation of a safetensors header.
// Format (huggingface/safetensors, docs "Format"): u64 little-endian N, then N bytes of a JSON
// object {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}},
// then the data section; offsets are relative to the data section's start (8 + N).

// MARK: - Types

/// Element types a safetensors header may name (the format's fixed-size types).
public enum SafetensorsDType: String, Sendable, CaseIterable {
  case BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64

  /// Bytes per element.
  public var byteSize: Int {
    switch self {
    case .BOOL, .U8, .I8, .F8_E5M2, .F8_E4M3: 1
    case .I16, .U16, .F16, .BF16: 2
    case .I32, .U32, .F32: 4
    case .F64, .I64, .U64: 8
    }
  }

  /// The engine's float type for this dtype, nil for the types the engine does not compute with.
  public var tensorDType: TensorDType? {
    switch self {
    case .F32: .f32
    case .F16: .f16
    case .BF16: .bf16
    default: nil
    }
  }
}

/// One tensor entry of a safetensors header, validated.
public struct SafetensorsTensor: Sendable, Equatable {
  public let name: String
  public let dtype: SafetensorsDType
  /// Row-major shape (PyTorch order).
  public let shape: [Int]
  /// Absolute byte range inside the file.
  public let byteRange: Range<Int>
}

/// A validated header: metadata and tensors (sorted by name).
struct SafetensorsHeader {
  /// Largest header accepted; real headers are a few MB at most.
  static let maxHeaderBytes = 100_000_000

  let metadata: [String: String]
  let tensors: [SafetensorsTensor]
}

// MARK: - Parsing

extension SafetensorsHeader {
  /// Reads and checks the header of `file`: length bound, JSON syntax, every entry's dtype, shape
  /// and offsets, ranges inside the data section, no duplicate names, no overlapping tensors.
  init(file: MappedFile) throws(EngineError) {
    let path = file.path
    func bad(_ reason: String) -> EngineError { .malformedWeights(file: path, reason: reason) }

    guard file.count >= 8 else {
      throw bad("file is \(file.count) bytes, too short for the 8-byte header length (truncated file)")
    }
    let headerLength = file.load(UInt64.self, at: 0)
    guard headerLength <= UInt64(Self.maxHeaderBytes) else {
      throw bad("header length \(headerLength) exceeds the limit of \(Self.maxHeaderBytes) bytes")
    }
    guard headerLength <= UInt64(file.count - 8) else {
      throw bad("header length \(headerLength) is larger than the \(file.count - 8) bytes after it (truncated file)")
    }
    let dataStart = 8 + Int(headerLength)
    let dataSize = file.count - dataStart

    let json: StrictJSON
    do {
      json = try StrictJSONParser.parse(Array(file.bytes[8..<dataStart]))
    } catch {
      throw bad("header is not valid JSON: \(error.message)")
    }
    guard case let .object(members) = json else {
      throw bad("header is a JSON \(json.kindName), expected an object")
    }
    if let dup = StrictJSON.firstDuplicateKey(members) {
      throw bad("duplicate tensor name '\(dup)' in header")
    }

    var metadata: [String: String] = [:]
    var tensors: [SafetensorsTensor] = []
    for (name, entry) in members {
      if name == "__metadata__" {
        metadata = try Self.metadata(entry, bad: bad)
      } else {
        tensors.append(try Self.tensor(name, entry, dataStart: dataStart, dataSize: dataSize, bad: bad))
      }
    }
    try Self.checkNoOverlap(tensors, bad: bad)
    self.metadata = metadata
    self.tensors = tensors.sorted { $0.name < $1.name }
  }

  private static func metadata(_ v: StrictJSON, bad: (String) -> EngineError) throws(EngineError) -> [String: String] {
    guard case let .object(members) = v else { throw bad("__metadata__ is a \(v.kindName), expected an object of strings") }
    if let dup = StrictJSON.firstDuplicateKey(members) { throw bad("duplicate key '\(dup)' in __metadata__") }
    var out: [String: String] = [:]
    for (k, value) in members {
      guard let s = value.stringValue else { throw bad("__metadata__ key '\(k)' is a \(value.kindName), expected a string") }
      out[k] = s
    }
    return out
  }

  private static func tensor(_ name: String, _ v: StrictJSON, dataStart: Int, dataSize: Int,
                             bad: (String) -> EngineError) throws(EngineError) -> SafetensorsTensor {
    guard case let .object(fields) = v else { throw bad("tensor '\(name)': entry is a \(v.kindName), expected an object") }
    if let dup = StrictJSON.firstDuplicateKey(fields) { throw bad("tensor '\(name)': duplicate field '\(dup)'") }
    func field(_ key: String) throws(EngineError) -> StrictJSON {
      guard let f = fields.first(where: { $0.key == key }) else { throw bad("tensor '\(name)': field '\(key)' is missing") }
      return f.value
    }

    let dtypeValue = try field("dtype")
    guard let dtypeName = dtypeValue.stringValue else { throw bad("tensor '\(name)': dtype is a \(dtypeValue.kindName), expected a string") }
    guard let dtype = SafetensorsDType(rawValue: dtypeName) else { throw bad("tensor '\(name)': unknown dtype '\(dtypeName)'") }

    let shapeValue = try field("shape")
    guard case let .array(dims) = shapeValue else { throw bad("tensor '\(name)': shape is a \(shapeValue.kindName), expected an array") }
    var shape: [Int] = []
    var elements = 1
    for d in dims {
      guard let n = d.intValue, n >= 0 else { throw bad("tensor '\(name)': shape \(Self.describe(dims)) has an invalid dimension") }
      shape.append(n)
      let (p, overflow) = elements.multipliedReportingOverflow(by: n)
      guard !overflow else { throw bad("tensor '\(name)': shape \(shape) element count overflows") }
      elements = p
    }
    let (byteCount, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
    guard !overflow else { throw bad("tensor '\(name)': shape \(shape) byte size overflows") }

    let offsetsValue = try field("data_offsets")
    guard case let .array(offs) = offsetsValue, offs.count == 2, let begin = offs[0].intValue, let end = offs[1].intValue else {
      throw bad("tensor '\(name)': data_offsets must be [begin, end] integers, got \(Self.describe(offsetsValue))")
    }
    guard begin >= 0, begin <= end else { throw bad("tensor '\(name)': data_offsets [\(begin), \(end)] is not a valid range") }
    guard end - begin == byteCount else {
      throw bad("tensor '\(name)': data_offsets [\(begin), \(end)] hold \(end - begin) bytes, but shape \(shape) of \(dtype.rawValue) needs \(byteCount)")
    }
    guard end <= dataSize else {
      throw bad("tensor '\(name)': data_offsets end \(end) is past the data section of \(dataSize) bytes (truncated file)")
    }
    return SafetensorsTensor(name: name, dtype: dtype, shape: shape, byteRange: (dataStart + begin)..<(dataStart + end))
  }

  /// Tensors may leave gaps but must not share bytes.
  private static func checkNoOverlap(_ tensors: [SafetensorsTensor], bad: (String) -> EngineError) throws(EngineError) {
    let ranged = tensors.filter { !$0.byteRange.isEmpty }.sorted { $0.byteRange.lowerBound < $1.byteRange.lowerBound }
    for (a, b) in zip(ranged, ranged.dropFirst()) where a.byteRange.upperBound > b.byteRange.lowerBound {
      throw bad("tensors '\(a.name)' and '\(b.name)' overlap (file bytes \(a.byteRange) and \(b.byteRange))")
    }
  }

  /// A compact rendering of a JSON value for error messages.
  private static func describe(_ v: StrictJSON) -> String {
    switch v {
    case let .array(items): describe(items)
    case let .number(t): t
    case let .string(s): "\"\(s)\""
    case let .bool(b): "\(b)"
    default: v.kindName
    }
  }

  private static func describe(_ items: [StrictJSON]) -> String {
    "[" + items.map { describe($0) }.joined(separator: ", ") + "]"
  }
}
