// MARK: - Tensor names of the bluelm_vl format
//
// The one table of names the model reads (the format's names: transformers' SiglipVisionModel
// under `vision_model.`, the adapter under `multi_modal_projector.`, LlamaForCausalLM /
// Qwen2ForCausalLM under `language_model.`). A loader for another file layout (GGUF's
// `blk.N.attn_q.weight`, ...) maps its names onto these; the model never sees other names.

/// Names (and expected shapes) of every tensor a `bluelm_vl` model reads.
public enum BlueLMVLTensorNames {
  // Vision tower: prefixes of modules; `.weight` / `.bias` are appended by the layer loaders.
  public static let patchEmbedding = "vision_model.embeddings.patch_embedding"
  public static let positionEmbedding = "vision_model.embeddings.position_embedding.weight"
  public static let visionPostNorm = "vision_model.post_layernorm"
  public static func visionLayer(_ i: Int) -> String { "vision_model.encoder.layers.\(i)" }
  enum VisionLayer {
    static let norm1 = ".layer_norm1", norm2 = ".layer_norm2"
    static let q = ".self_attn.q_proj", k = ".self_attn.k_proj", v = ".self_attn.v_proj"
    static let out = ".self_attn.out_proj", fc1 = ".mlp.fc1", fc2 = ".mlp.fc2"
  }

  // Adapter.
  public static let projector1 = "multi_modal_projector.linear_1"
  public static let projector2 = "multi_modal_projector.linear_2"

  // Decoder LM.
  public static let embedTokens = "language_model.model.embed_tokens.weight"
  public static let finalNorm = "language_model.model.norm.weight"
  public static let lmHead = "language_model.lm_head.weight"
  public static func textLayer(_ i: Int) -> String { "language_model.model.layers.\(i)" }
  enum TextLayer {
    static let inputNorm = ".input_layernorm.weight", postNorm = ".post_attention_layernorm.weight"
    static let q = ".self_attn.q_proj", k = ".self_attn.k_proj", v = ".self_attn.v_proj"
    static let o = ".self_attn.o_proj"
    static let gate = ".mlp.gate_proj", up = ".mlp.up_proj", down = ".mlp.down_proj"
    /// Qwen3's per-head RMSNorms of queries and keys (before RoPE).
    static let qNorm = ".self_attn.q_norm.weight", kNorm = ".self_attn.k_norm.weight"
  }

  // Optional pointer head (GUI-Actor's `multi_patch_pointer_head.*`), d = the decoder's width.
  public static let pointerHead = "multi_patch_pointer_head"
  public static let pointerInProjWeight = pointerHead + ".self_attention.in_proj_weight"
  public static let pointerInProjBias = pointerHead + ".self_attention.in_proj_bias"
  public static let pointerOutProj = pointerHead + ".self_attention.out_proj"
  public static let pointerNorm = pointerHead + ".layer_norm"
  public static let pointerProjectionEnc = pointerHead + ".projection_enc"
  public static let pointerProjectionDec = pointerHead + ".projection_dec"

  /// The pointer head's tensors for decoder width `d`, with their PyTorch shapes.
  public static func pointerHeadTensors(width d: Int) -> [(name: String, shape: [Int])] {
    var list: [(String, [Int])] = [(pointerInProjWeight, [3 * d, d]), (pointerInProjBias, [3 * d]),
                                   (pointerOutProj + ".weight", [d, d]), (pointerOutProj + ".bias", [d]),
                                   (pointerNorm + ".weight", [d]), (pointerNorm + ".bias", [d])]
    for projection in [pointerProjectionEnc, pointerProjectionDec] {
      for layer in [".0", ".2"] { list += [(projection + layer + ".weight", [d, d]), (projection + layer + ".bias", [d])] }
    }
    return list
  }

  /// Every tensor the model reads for `config`, with its PyTorch shape, in load order.
  public static func expectedTensors(_ config: BlueLMVLConfig) -> [(name: String, shape: [Int])] {
    let v = config.visionConfig, t = config.textConfig
    let dv = v.hiddenSize, p = v.patchSize, g = config.patchGrid
    var list: [(String, [Int])] = []
    func linear(_ prefix: String, _ inF: Int, _ outF: Int, bias: Bool) {
      list.append((prefix + ".weight", [outF, inF]))
      if bias { list.append((prefix + ".bias", [outF])) }
    }
    func layerNorm(_ prefix: String, _ d: Int) {
      list.append((prefix + ".weight", [d])); list.append((prefix + ".bias", [d]))
    }
    list.append((patchEmbedding + ".weight", [dv, v.numChannels, p, p]))
    list.append((patchEmbedding + ".bias", [dv]))
    list.append((positionEmbedding, [g * g, dv]))
    for i in 0..<v.numHiddenLayers {
      let l = visionLayer(i)
      layerNorm(l + VisionLayer.norm1, dv)
      for proj in [VisionLayer.q, VisionLayer.k, VisionLayer.v, VisionLayer.out] {
        linear(l + proj, dv, dv, bias: true)
      }
      layerNorm(l + VisionLayer.norm2, dv)
      linear(l + VisionLayer.fc1, dv, v.intermediateSize, bias: true)
      linear(l + VisionLayer.fc2, v.intermediateSize, dv, bias: true)
    }
    layerNorm(visionPostNorm, dv)
    linear(projector1, 4 * dv, t.hiddenSize, bias: true)
    linear(projector2, t.hiddenSize, t.hiddenSize, bias: true)
    let d = t.hiddenSize, qDim = t.numAttentionHeads * t.headDim, kvDim = t.numKeyValueHeads * t.headDim
    list.append((embedTokens, [t.vocabSize, d]))
    for i in 0..<t.numHiddenLayers {
      let l = textLayer(i)
      list.append((l + TextLayer.inputNorm, [d]))
      linear(l + TextLayer.q, d, qDim, bias: t.hasQKVBias)
      linear(l + TextLayer.k, d, kvDim, bias: t.hasQKVBias)
      linear(l + TextLayer.v, d, kvDim, bias: t.hasQKVBias)
      linear(l + TextLayer.o, qDim, d, bias: t.hasOutputBias)
      list.append((l + TextLayer.postNorm, [d]))
      linear(l + TextLayer.gate, d, t.intermediateSize, bias: false)
      linear(l + TextLayer.up, d, t.intermediateSize, bias: false)
      linear(l + TextLayer.down, t.intermediateSize, d, bias: false)
    }
    list.append((finalNorm, [d]))
    if !t.tieWordEmbeddings { list.append((lmHead, [t.vocabSize, d])) }
    if config.pointerTokenIds != nil { list += pointerHeadTensors(width: d) }
    return list
  }
}
