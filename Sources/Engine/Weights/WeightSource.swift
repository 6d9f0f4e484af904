/// Element types of stored tensors: plain floats and the GGML block quantizations.
public enum TensorDType: String, Sendable, Equatable, CaseIterable {
  case f32, f16, bf16
  case q8_0, q4_0, q4_1, q5_0, q5_1, q4_K, q5_K, q6_K, q8_K
}

/// What a loader knows of one stored tensor before reading it.
public struct TensorInfo: Sendable, Equatable {
  public let name: String
  public let dtype: TensorDType
  /// Row-major shape as the file's framework writes it (PyTorch order: `[out, in]` for a Linear).
  public let shape: [Int]
  public init(name: String, dtype: TensorDType, shape: [Int]) {
    self.name = name; self.dtype = dtype; self.shape = shape
  }
  public var elementCount: Int { shape.reduce(1, *) }
}

/// A set of named tensors from one checkpoint, whatever the file format.
/// One architecture, several loaders: model code asks for names, loaders answer.
public protocol WeightSource: Sendable {
  /// Every tensor name, sorted.
  var tensorNames: [String] { get }
  func info(_ name: String) -> TensorInfo?
  /// The tensor converted to float32, row-major in `info(name).shape`.
  /// Throws `EngineError.missingTensor` when absent.
  func floats(_ name: String) throws(EngineError) -> [Float]
  /// The tensor as a row-major matrix of `shape.last` columns (rows = the other dims' product)
  /// for `QuantizedMatrix.multiply`. File-backed sources keep the stored type (GGUF blocks stay
  /// quantized, f16 stays f16) and read in place; the default converts `floats(name)` to f32.
  func matrix(_ name: String) throws(EngineError) -> QuantizedMatrix
  /// The files the tensors are read from: their paths and, for each, what changed on disk since
  /// it was opened (nil: nothing) and its SHA-256 (see `MappedFile`). Empty for sources in memory.
  var files: [WeightFileRecord] { get }
}

/// One file a `WeightSource` reads from.
public struct WeightFileRecord: Sendable {
  public let path: String
  let file: MappedFile
  /// What changed in the file since it was opened, nil when nothing did.
  public func changedOnDisk() -> String? { file.changedOnDisk() }
  /// The SHA-256 of the bytes in use (a full read of the file: call it once and keep it).
  public func sha256() -> String { file.sha256() }

  /// Throws `malformedWeights` naming the first of `files` that changed on disk since it was
  /// opened: reading a truncated mapping would end the process with SIGBUS.
  public static func checkUnchanged(_ files: [WeightFileRecord]) throws(EngineError) {
    for f in files {
      if let change = f.changedOnDisk() {
        throw .malformedWeights(file: f.path, reason: "\(change); load the model again")
      }
    }
  }
}

extension WeightSource {
  public var files: [WeightFileRecord] { [] }

  /// Throws `malformedWeights` naming the first file that changed on disk since it was opened:
  /// reading a truncated mapping would end the process with SIGBUS.
  public func checkUnchanged() throws(EngineError) { try WeightFileRecord.checkUnchanged(files) }

  public func matrix(_ name: String) throws(EngineError) -> QuantizedMatrix {
    guard let info = info(name) else { throw .missingTensor(name) }
    let columns = info.shape.last ?? 1
    return try QuantizedMatrix(floats: try floats(name), rows: info.shape.dropLast().reduce(1, *), columns: columns)
  }
}
