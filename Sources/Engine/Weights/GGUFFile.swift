import Foundation

// MARK: - One GGUF file

/// A GGUF (v2/v3) file, memory-mapped and validated on open (see `GGUFHeader`).
///
/// Shapes: GGUF lists dims fastest-varying first (`ne[0]` = row length). `info(name).shape` and
/// `GGUFTensor.shape` give them in PyTorch order, `[ne[n-1], ..., ne[0]]`, so a Linear weight is
/// `[out, in]` as in safetensors; `GGUFTensor.dims` keeps ggml's order.
/// `floats` dequantizes to float32; `matrix` keeps a quantized weight as blocks for `QuantizedMatrix`.
/// Immutable after `init`, so it is `Sendable`.
public final class GGUFFile: WeightSource, GGUFMetadataReading {
  /// The path as given to `init`.
  public let path: String
  /// The format version (2 or 3).
  public let version: UInt32
  /// Every metadata key/value.
  public let metadata: [String: GGUFValue]
  /// Metadata keys in file order.
  public let metadataKeys: [String]
  /// `general.alignment` (default 32).
  public let alignment: Int
  /// Every tensor name, sorted.
  public let tensorNames: [String]
  /// Tensors in file order.
  public let tensors: [GGUFTensor]
  private let byName: [String: GGUFTensor]
  private let file: MappedFile
  public var files: [WeightFileRecord] { [WeightFileRecord(path: path, file: file)] }

  /// Opens and validates the file at `path`.
  /// - Throws: `EngineError.malformedWeights` naming the file and the bad value.
  public init(path: String) throws(EngineError) {
    file = try MappedFile(path: path)
    let header = try GGUFHeader(file: file)
    self.path = path
    version = header.version
    metadata = header.metadata
    metadataKeys = header.metadataKeys
    alignment = header.alignment
    tensors = header.tensors
    tensorNames = header.tensors.map(\.name).sorted()
    byName = Dictionary(header.tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
  }

  public convenience init(url: URL) throws(EngineError) {
    try self.init(path: url.path)
  }

  /// The tensor record of `name` (ggml dims, type, byte range), nil when absent.
  public func tensor(_ name: String) -> GGUFTensor? { byName[name] }

  /// Name, type and PyTorch-order shape (`[ne[n-1], ..., ne[0]]`) of `name`.
  public func info(_ name: String) -> TensorInfo? {
    byName[name].map { TensorInfo(name: $0.name, dtype: $0.type, shape: $0.shape) }
  }

  /// The tensor dequantized to float32, row-major in `info(name).shape`.
  public func floats(_ name: String) throws(EngineError) -> [Float] {
    guard let t = byName[name] else { throw .missingTensor(name) }
    let count = t.elementCount
    guard count > 0, let base = file.bytes.baseAddress else { return [] }
    return [Float](unsafeUninitializedCapacity: count) { buf, n in
      if let dst = buf.baseAddress { dequantize(t.type, from: base + t.byteRange.lowerBound, count: count, into: dst) }
      n = count
    }
  }

  /// Lends the tensor's stored bytes (ggml blocks, rows of `tensor(name).rowLength` elements)
  /// to `body`; the pointer is valid only inside `body`.
  public func withRawBytes<R>(_ name: String,
                              _ body: (UnsafeRawBufferPointer) throws(EngineError) -> R) throws(EngineError) -> R {
    guard let t = byName[name] else { throw .missingTensor(name) }
    return try file.withBytes(t.byteRange, body)
  }

  /// The tensor as a matrix of `rowCount` rows of `rowLength` elements, kept in its stored type
  /// (the mapping stays alive as long as the matrix).
  /// - Throws: `missingTensor`.
  public func matrix(_ name: String) throws(EngineError) -> QuantizedMatrix {
    guard let t = byName[name] else { throw .missingTensor(name) }
    return QuantizedMatrix(mapped: file, range: t.byteRange, type: t.type, rows: t.rowCount, columns: t.rowLength)
  }
}
