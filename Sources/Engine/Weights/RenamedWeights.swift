/// A weight source that answers names through another's: `rename` maps a name the model asks
/// for onto the name stored in `base` (nil: not present). For checkpoints whose decoder is
/// the shared Llama/Qwen2 decoder under other names (`model.language_model.layers.N...`).
public struct RenamedWeights: WeightSource {
  public let base: any WeightSource
  private let rename: @Sendable (String) -> String?
  public let tensorNames: [String]
  public var files: [WeightFileRecord] { base.files }

  /// `names`: the names the model will ask for, for `tensorNames`.
  public init(_ base: any WeightSource, names: [String], rename: @escaping @Sendable (String) -> String?) {
    self.base = base
    self.rename = rename
    tensorNames = names.filter { rename($0).map { base.info($0) != nil } ?? false }.sorted()
  }

  private func stored(_ name: String) throws(EngineError) -> String {
    guard let s = rename(name), base.info(s) != nil else { throw .missingTensor(rename(name) ?? name) }
    return s
  }

  public func info(_ name: String) -> TensorInfo? {
    guard let s = rename(name), let i = base.info(s) else { return nil }
    return TensorInfo(name: name, dtype: i.dtype, shape: i.shape)
  }

  public func floats(_ name: String) throws(EngineError) -> [Float] { try base.floats(try stored(name)) }

  public func matrix(_ name: String) throws(EngineError) -> QuantizedMatrix { try base.matrix(try stored(name)) }
}
