// MARK: - A bluelm_vl GGUF pair seen under the checkpoint's tensor names
//
// Answers the names of `BlueLMVLTensorNames` from the LM file and the mmproj file (places from
// `BlueLMVLGGUFNames`). A llama q/k projection's rows are put back from llama.cpp's adjacent-pair
// order into rotate-half order; rows are independent, so quantized rows move as bytes.

public struct BlueLMVLGGUFWeights: WeightSource {
  public let model: GGUFFile
  public let mmproj: GGUFFile
  private let places: [String: BlueLMVLGGUFPlace]
  public let tensorNames: [String]
  public var files: [WeightFileRecord] { model.files + mmproj.files }

  /// - Throws: `malformedWeights` naming the file and tensor when a tensor of the pair has no
  ///   place in a bluelm_vl model of `config` (a file of another model).
  public init(model: GGUFFile, mmproj: GGUFFile, config: BlueLMVLConfig) throws(EngineError) {
    self.model = model; self.mmproj = mmproj
    var places: [String: BlueLMVLGGUFPlace] = [:]
    var claimed = Set<String>()
    // Every name the format may hold (biases and q/k norms a config may not use included).
    var names = BlueLMVLTensorNames.expectedTensors(config).map(\.name)
    for i in 0..<config.textConfig.numHiddenLayers {
      let l = BlueLMVLTensorNames.textLayer(i)
      names += [".self_attn.q_proj.bias", ".self_attn.k_proj.bias", ".self_attn.v_proj.bias", ".self_attn.o_proj.bias",
                ".self_attn.q_norm.weight", ".self_attn.k_norm.weight"].map { l + $0 }
    }
    names += BlueLMVLTensorNames.pointerHeadTensors(width: config.textConfig.hiddenSize).map(\.name)
    for name in names {
      guard let p = BlueLMVLGGUFNames.place(name, text: config.textConfig) else { continue }
      let file = p.file == .model ? model : mmproj
      guard file.info(p.name) != nil else { continue }
      places[name] = p
      claimed.insert(p.file.rawValue + ":" + p.name)
    }
    for (label, file) in [(GGUFPairFile.model, model), (.mmproj, mmproj)] {
      for t in file.tensorNames where !claimed.contains(label.rawValue + ":" + t) {
        throw .malformedWeights(file: file.path, reason: "tensor \(t) has no place in a bluelm_vl model of \(config.textConfig.numHiddenLayers) decoder layers and \(config.visionConfig.numHiddenLayers) vision blocks (a file of another model?)")
      }
    }
    self.places = places
    tensorNames = places.keys.sorted()
  }

  private func file(_ p: BlueLMVLGGUFPlace) -> GGUFFile { p.file == .model ? model : mmproj }

  public func info(_ name: String) -> TensorInfo? {
    guard let p = places[name], let i = file(p).info(p.name) else { return nil }
    return TensorInfo(name: name, dtype: i.dtype, shape: i.shape)
  }

  /// Rows of the stored tensor (first dimension) and the checkpoint-order row sources.
  private func order(_ p: BlueLMVLGGUFPlace, name: String) throws(EngineError) -> (rows: Int, order: [Int])? {
    guard let heads = p.permutedHeads, let i = file(p).info(p.name), let rows = i.shape.first else { return nil }
    return (rows, try BlueLMVLGGUFNames.permutedRowOrder(rows: rows, heads: heads, name: name))
  }

  public func floats(_ name: String) throws(EngineError) -> [Float] {
    guard let p = places[name] else { throw .missingTensor(name) }
    let values = try file(p).floats(p.name)
    guard let (rows, order) = try order(p, name: name) else { return values }
    let k = values.count / max(rows, 1)
    var out = [Float](repeating: 0, count: values.count)
    for (r, source) in order.enumerated() {
      out.replaceSubrange((r * k)..<((r + 1) * k), with: values[(source * k)..<((source + 1) * k)])
    }
    return out
  }

  public func matrix(_ name: String) throws(EngineError) -> QuantizedMatrix {
    guard let p = places[name] else { throw .missingTensor(name) }
    let f = file(p)
    guard let (rows, order) = try order(p, name: name), let t = f.tensor(p.name) else { return try f.matrix(p.name) }
    guard let rowBytes = t.type.rowBytes(t.rowLength), rows == t.rowCount else {
      throw .malformedWeights(file: f.path, reason: "\(p.name): \(t.rowCount) rows of \(t.rowLength) \(t.type) values cannot be reordered by head")
    }
    let bytes = try f.withRawBytes(p.name) { (src) throws(EngineError) -> [UInt8] in
      var out = [UInt8](repeating: 0, count: src.count)  // (rows, rowBytes), rows reordered
      for (r, source) in order.enumerated() {
        out.replaceSubrange((r * rowBytes)..<((r + 1) * rowBytes), with: src[(source * rowBytes)..<((source + 1) * rowBytes)])
      }
      return out
    }
    return try QuantizedMatrix(type: t.type, rows: t.rowCount, columns: t.rowLength, bytes: bytes)
  }
}
