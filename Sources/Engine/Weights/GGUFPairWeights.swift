// MARK: - A GGUF pair seen under the checkpoint's own tensor names
//
// The model code asks for Hugging Face names (`visual.blocks.0.attn.qkv.weight`); a GGUF pair
// stores them under llama.cpp's names, some split (see `QwenVLGGUFNames`). This source answers
// each name from the pair: a renamed tensor is read in place (quantized blocks stay quantized),
// split rows are joined back row by row (rows of one type are independent, so the bytes are just
// concatenated), and the per-frame patch weights are interleaved back into the Conv3d layout.

/// The tensors of a language-model GGUF and its mmproj GGUF, named as the checkpoint names them
/// (the transformers 4.x layout: `visual.*`, `model.*`, `lm_head.weight`).
public struct GGUFPairWeights: WeightSource {
  public let model: GGUFFile
  public let mmproj: GGUFFile
  private let entries: [String: (file: GGUFPairFile, placement: GGUFPlacement, info: TensorInfo)]
  public let tensorNames: [String]
  public var files: [WeightFileRecord] { model.files + mmproj.files }

  /// Maps every tensor of both files back to its checkpoint name.
  /// - Throws: `malformedWeights` naming the file and tensor when a tensor of the pair has no
  ///   checkpoint name under `names`, or the parts of a split tensor disagree in shape or type.
  public init(model: GGUFFile, mmproj: GGUFFile, names: QwenVLGGUFNames, layers: Int, depth: Int) throws(EngineError) {
    self.model = model; self.mmproj = mmproj
    var entries: [String: (file: GGUFPairFile, placement: GGUFPlacement, info: TensorInfo)] = [:]
    var claimed = Set<String>()
    for name in Self.checkpointNames(names, layers: layers, depth: depth) {
      guard let (which, placement) = names.placement(of: name) else { continue }
      let file = which == .model ? model : mmproj
      let parts = placement.names.compactMap { file.info($0) }
      guard parts.count == placement.names.count, let first = parts.first else { continue }
      guard parts.allSatisfy({ $0.shape == first.shape && $0.dtype == first.dtype }) else {
        throw .malformedWeights(file: file.path, reason: "\(placement.names.joined(separator: ", ")) differ in shape or type (\(parts.map { "\($0.shape) \($0.dtype)" }))")
      }
      let info: TensorInfo
      switch placement {
      case .same: info = TensorInfo(name: name, dtype: first.dtype, shape: first.shape)
      case .splitRows:
        info = TensorInfo(name: name, dtype: first.dtype, shape: [first.shape[0] * parts.count] + first.shape.dropFirst())
      case .splitFrames:
        guard first.shape.count == 4 else {
          throw .malformedWeights(file: file.path, reason: "\(first.name) has shape \(first.shape), a Conv2d weight (out, C, P, P) was expected")
        }
        info = TensorInfo(name: name, dtype: .f32, shape: [first.shape[0], first.shape[1], parts.count, first.shape[2], first.shape[3]])
      }
      entries[name] = (which, placement, info)
      for n in placement.names { claimed.insert((which == .model ? "model:" : "mmproj:") + n) }
    }
    for (label, file) in [("model", model), ("mmproj", mmproj)] {
      for t in file.tensorNames where !claimed.contains(label + ":" + t) {
        throw .malformedWeights(file: file.path, reason: "tensor \(t) has no place in a \(names.family.rawValue) model of \(layers) decoder layers and \(depth) vision blocks (a file of another model?)")
      }
    }
    self.entries = entries
    tensorNames = entries.keys.sorted()
  }

  /// Every name a checkpoint of the family could hold, 4.x layout.
  static func checkpointNames(_ names: QwenVLGGUFNames, layers: Int, depth: Int) -> [String] {
    let layer = ["input_layernorm.weight", "post_attention_layernorm.weight", "self_attn.o_proj.weight",
                 "self_attn.q_norm.weight", "self_attn.k_norm.weight",
                 "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight"]
      + ["q", "k", "v"].flatMap { ["self_attn.\($0)_proj.weight", "self_attn.\($0)_proj.bias"] }
    let block = ["norm1", "norm2", "attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2", "mlp.gate_proj", "mlp.up_proj",
                 "mlp.down_proj", "mlp.linear_fc1", "mlp.linear_fc2"].flatMap { [$0 + ".weight", $0 + ".bias"] }
    let merger = ["merger.ln_q", "merger.mlp.0", "merger.mlp.2", "merger.norm", "merger.linear_fc1", "merger.linear_fc2"]
      .flatMap { ["visual." + $0 + ".weight", "visual." + $0 + ".bias"] }
    let deepstack = names.deepstackBlocks.indices.flatMap { k in
      ["norm", "linear_fc1", "linear_fc2"].flatMap { ["visual.deepstack_merger_list.\(k).\($0).weight", "visual.deepstack_merger_list.\(k).\($0).bias"] }
    }
    return ["model.embed_tokens.weight", "model.norm.weight", "lm_head.weight",
            "visual.patch_embed.proj.weight", "visual.patch_embed.proj.bias", "visual.pos_embed.weight"]
      + (0..<layers).flatMap { i in layer.map { "model.layers.\(i).\($0)" } }
      + (0..<depth).flatMap { i in block.map { "visual.blocks.\(i).\($0)" } }
      + merger + deepstack
  }

  private func file(_ which: GGUFPairFile) -> GGUFFile { which == .model ? model : mmproj }

  public func info(_ name: String) -> TensorInfo? { entries[name]?.info }

  public func floats(_ name: String) throws(EngineError) -> [Float] {
    guard let e = entries[name] else { throw .missingTensor(name) }
    let f = file(e.file)
    switch e.placement {
    case let .same(n): return try f.floats(n)
    case let .splitRows(ns):
      var out: [Float] = []
      out.reserveCapacity(e.info.elementCount)
      for n in ns { out += try f.floats(n) }
      return out
    case let .splitFrames(ns):
      // (out, C, P, P) per frame -> (out, C, T, P, P): each (o, c) holds T frames of P*P.
      let frames = try ns.map { (n) throws(EngineError) in try f.floats(n) }
      let s = e.info.shape, plane = s[3] * s[4], t = ns.count
      var out = [Float](repeating: 0, count: e.info.elementCount)
      for oc in 0..<(s[0] * s[1]) {
        for k in 0..<t {
          let src = oc * plane, dst = (oc * t + k) * plane
          for j in 0..<plane { out[dst + j] = frames[k][src + j] }
        }
      }
      return out
    }
  }

  public func matrix(_ name: String) throws(EngineError) -> QuantizedMatrix {
    guard let e = entries[name] else { throw .missingTensor(name) }
    let f = file(e.file)
    switch e.placement {
    case let .same(n): return try f.matrix(n)
    case let .splitRows(ns):
      var bytes: [UInt8] = []
      for n in ns { bytes += try f.withRawBytes(n) { (raw) throws(EngineError) in [UInt8](raw) } }
      let columns = e.info.shape.last ?? 1
      return try QuantizedMatrix(type: e.info.dtype, rows: e.info.elementCount / max(columns, 1), columns: columns, bytes: bytes)
    case .splitFrames:
      let columns = e.info.shape.dropFirst().reduce(1, *)
      return try QuantizedMatrix(floats: try floats(name), rows: e.info.shape[0], columns: columns)
    }
  }
}
