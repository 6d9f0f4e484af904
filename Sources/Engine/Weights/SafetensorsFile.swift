import Foundation

// MARK: - One safetensors file

/// A `.safetensors` file, memory-mapped and validated on open.
///
/// Every header entry is checked before any tensor is read (see `SafetensorsHeader`); tensor
/// bytes stay in the mapping until `floats` converts them or `withRawBytes` lends them out.
/// Immutable after `init`, so it is `Sendable`.
public final class SafetensorsFile: WeightSource {
  /// The path as given to `init`.
  public let path: String
  /// The header's `__metadata__` map (empty when absent).
  public let metadata: [String: String]
  /// Every tensor name, sorted.
  public let tensorNames: [String]
  private let entries: [String: SafetensorsTensor]
  private let file: MappedFile
  public var files: [WeightFileRecord] { [WeightFileRecord(path: path, file: file)] }

  /// Opens and validates the file at `path`.
  /// - Throws: `EngineError.malformedWeights` naming the file, the tensor and the problem.
  public convenience init(path: String) throws(EngineError) {
    try self.init(path: path, copyLimit: MappedFile.copyLimit)
  }

  /// Opens the file, read into memory up to `copyLimit` bytes and mapped beyond (`MappedFile`).
  init(path: String, copyLimit: Int) throws(EngineError) {
    file = try MappedFile(path: path, copyLimit: copyLimit)
    let header = try SafetensorsHeader(file: file)
    self.path = path
    metadata = header.metadata
    tensorNames = header.tensors.map(\.name)
    entries = Dictionary(header.tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
  }

  /// Opens and validates the file at `url`.
  public convenience init(url: URL) throws(EngineError) {
    try self.init(path: url.path)
  }

  /// The header entry of `name` (any dtype, including integer ones), nil when absent.
  public func tensor(_ name: String) -> SafetensorsTensor? { entries[name] }

  /// Shape and float type of `name`; nil when absent or when its dtype is not F32, F16 or BF16
  /// (such tensors are still listed in `tensorNames` and described by `tensor(_:)`).
  public func info(_ name: String) -> TensorInfo? {
    guard let t = entries[name], let dtype = t.dtype.tensorDType else { return nil }
    return TensorInfo(name: name, dtype: dtype, shape: t.shape)
  }

  /// The tensor converted exactly to float32 (F32, F16, BF16), row-major in its shape.
  /// - Throws: `missingTensor`, or `malformedWeights` naming the dtype when it is not a float type.
  public func floats(_ name: String) throws(EngineError) -> [Float] {
    guard let t = entries[name] else { throw .missingTensor(name) }
    guard let dtype = t.dtype.tensorDType else {
      throw .malformedWeights(file: path, reason: "tensor '\(name)' has dtype \(t.dtype.rawValue), which cannot be read as floats")
    }
    let count = t.shape.reduce(1, *)  // checked against the byte range in the header
    guard count > 0, let base = file.bytes.baseAddress else { return [] }
    return plainFloats(dtype, from: base + t.byteRange.lowerBound, count: count)
  }

  /// The tensor as a matrix of `shape.last` columns (rows = the other dims' product), read in
  /// place from the mapping by `QuantizedMatrix.multiply` (F32, F16, BF16).
  /// - Throws: `missingTensor`, or `malformedWeights` naming the dtype when it is not a float type.
  public func matrix(_ name: String) throws(EngineError) -> QuantizedMatrix {
    guard let t = entries[name] else { throw .missingTensor(name) }
    guard let dtype = t.dtype.tensorDType else {
      throw .malformedWeights(file: path, reason: "tensor '\(name)' has dtype \(t.dtype.rawValue), which cannot be a float matrix")
    }
    let columns = t.shape.last ?? 1
    return QuantizedMatrix(mapped: file, range: t.byteRange, type: dtype, rows: t.shape.dropLast().reduce(1, *), columns: columns)
  }

  /// Lends the tensor's stored bytes (little-endian, in `tensor(name).dtype`, no conversion,
  /// any alignment) to `body`; the pointer is valid only inside `body`.
  /// - Throws: `missingTensor`, or what `body` throws.
  public func withRawBytes<R>(_ name: String,
                              _ body: (UnsafeRawBufferPointer) throws(EngineError) -> R) throws(EngineError) -> R {
    guard let t = entries[name] else { throw .missingTensor(name) }
    return try file.withBytes(t.byteRange, body)
  }
}
