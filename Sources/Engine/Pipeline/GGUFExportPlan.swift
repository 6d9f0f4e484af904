// MARK: - The tensors of an exported pair: names, shapes, types and sources
//
// Every checkpoint tensor is placed by `QwenVLGGUFNames` (fused qkv split into row thirds, the
// Conv3d patch weight into one Conv2d per frame), in the checkpoint's sorted name order as the
// converter walks it. The tensors a llama.cpp model of the family needs are checked first, so a
// checkpoint missing one fails before anything is written, naming the tensor.

struct GGUFExportPlan {
  var model: [GGUFExportItem] = []
  var projector: [GGUFExportItem] = []
  var skipped: [String] = []

  init(checkpoint: SafetensorsCheckpoint, config: QwenVLConfig, modelType: GGUFModelType,
       projectorType: GGUFProjectorType) throws(EngineError) {
    let names = QwenVLGGUFNames(family: config.family, deepstackBlocks: config.vision.deepstackBlocks)
    var byCanonical: [String: String] = [:]
    for n in checkpoint.tensorNames { byCanonical[QwenVLGGUFNames.canonical(n)] = n }
    for required in Self.requiredTensors(config, tied: config.text.tieWordEmbeddings) where byCanonical[required] == nil {
      throw .missingTensor("\(required) (or its model.language_model. / model.visual. spelling)")
    }
    let layers = config.text.numHiddenLayers
    // llama-quantize treats token_embd as the output matrix when the file has no output.weight.
    let tied = byCanonical["lm_head.weight"] == nil
    for name in checkpoint.tensorNames {
      guard let (file, placement) = names.placement(of: name) else { skipped.append(name); continue }
      guard let info = checkpoint.info(name) else {
        let dtype = checkpoint.tensor(name)?.dtype.rawValue ?? "?"
        throw .malformedWeights(file: checkpoint.shard(for: name)?.path ?? name, reason: "tensor '\(name)' has dtype \(dtype); only F32, F16 and BF16 can be exported")
      }
      let shape = info.shape
      var parts: [(String, [Int], GGUFExportSource.Layout)] = []
      switch placement {
      case let .same(g):
        parts = [(g, shape, .contiguous(offset: 0))]
      case let .splitRows(gs):
        guard let rows = shape.first, rows % gs.count == 0 else {
          throw .badTensorShape(name: name, expected: [gs.count * ((shape.first ?? 0) / gs.count)] + shape.dropFirst(), actual: shape)
        }
        let part = [rows / gs.count] + shape.dropFirst()
        let count = part.reduce(1, *)
        parts = gs.enumerated().map { k, g in (g, part, .contiguous(offset: k * count)) }
      case let .splitFrames(gs):
        // (O, C, T, P, P) -> T tensors (O, C, P, P); the converter supports T = 2 only.
        guard shape.count == 5, shape[2] == gs.count else {
          throw .badTensorShape(name: name, expected: [shape.first ?? 0, config.vision.channels, gs.count, config.vision.patchSize, config.vision.patchSize], actual: shape)
        }
        let frame = [shape[0], shape[1], shape[3], shape[4]]
        parts = gs.enumerated().map { t, g in (g, frame, .frame(t, frames: gs.count, plane: shape[3] * shape[4])) }
      }
      for (g, s, layout) in parts {
        let choice = file == .model
          ? GGUFTypePolicy.model(g, shape: s, type: modelType, layers: layers, tied: tied)
          : GGUFTypePolicy.mmproj(g, shape: s, type: projectorType)
        let item = GGUFExportItem(spec: GGUFTensorSpec(name: g, type: choice.type, shape: s),
                                  source: GGUFExportSource(name: name, dtype: info.dtype, layout: layout), fallback: choice.fallback)
        if file == .model { model.append(item) } else { projector.append(item) }
      }
    }
    if GGUFTypePolicy.viaLlamaQuantize(modelType) {
      model.sort { GGUFTypePolicy.quantizeOrder($0.spec.name, $1.spec.name) }
    }
  }

  /// The checkpoint tensors (transformers 4.x names) llama.cpp's qwen2vl / qwen3vl model and clip
  /// projector need for `config`.
  static func requiredTensors(_ config: QwenVLConfig, tied: Bool) -> [String] {
    let family = config.family
    var out = ["model.embed_tokens.weight", "model.norm.weight"] + (tied ? [] : ["lm_head.weight"])
    for i in 0..<config.text.numHiddenLayers {
      let p = "model.layers.\(i)."
      out += ["input_layernorm", "post_attention_layernorm", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
              "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"].map { p + $0 + ".weight" }
      out += family == .qwen3VL ? [p + "self_attn.q_norm.weight", p + "self_attn.k_norm.weight"]
        : ["q", "k", "v"].map { p + "self_attn.\($0)_proj.bias" }
    }
    let v = "visual."
    out.append(v + "patch_embed.proj.weight")
    if family == .qwen3VL { out += [v + "patch_embed.proj.bias", v + "pos_embed.weight"] }
    let layerNorm = family != .qwen2_5VL  // Qwen2.5-VL's tower uses RMSNorm (no bias)
    let mlp: [String] = switch family {
    case .qwen2VL: ["mlp.fc1", "mlp.fc2"]
    case .qwen2_5VL: ["mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]
    case .qwen3VL: ["mlp.linear_fc1", "mlp.linear_fc2"]
    }
    for i in 0..<config.vision.depth {
      let b = v + "blocks.\(i)."
      out += ["norm1.weight", "norm2.weight"].map { b + $0 } + (layerNorm ? ["norm1.bias", "norm2.bias"].map { b + $0 } : [])
      out += (["attn.qkv", "attn.proj"] + mlp).flatMap { [b + $0 + ".weight", b + $0 + ".bias"] }
    }
    if family == .qwen3VL {
      out += ["merger.norm", "merger.linear_fc1", "merger.linear_fc2"].flatMap { [v + $0 + ".weight", v + $0 + ".bias"] }
      for k in config.vision.deepstackBlocks.indices {
        out += ["norm", "linear_fc1", "linear_fc2"].flatMap { [v + "deepstack_merger_list.\(k).\($0).weight", v + "deepstack_merger_list.\(k).\($0).bias"] }
      }
    } else {
      out += [v + "merger.ln_q.weight"] + (layerNorm ? [v + "merger.ln_q.bias"] : [])
      out += ["merger.mlp.0", "merger.mlp.2"].flatMap { [v + $0 + ".weight", v + $0 + ".bias"] }
    }
    return out
  }
}
