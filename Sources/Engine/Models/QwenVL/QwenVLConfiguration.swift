import Foundation

// MARK: - config.json of Qwen2-VL and Qwen2.5-VL checkpoints
//
// Two layouts are published: the one transformers 4.x wrote (the text model's fields at the top
// level, `rope_scaling: {type: mrope, mrope_section}`), and the nested one of later versions
// (`text_config`, `rope_parameters: {rope_theta, mrope_section}`). Both are read here; a field is
// looked up in `text_config` first, then at the top level.

/// The family: Qwen2-VL (LayerNorm, fc1/fc2 MLP, full attention), Qwen2.5-VL (RMSNorm, gated
/// MLP, window attention except in `fullAttentionBlocks`) or Qwen3-VL (patch 16 with a learnt
/// position table, LayerNorm, linear_fc1/fc2 MLP, DeepStack features, a Qwen3 decoder with q/k
/// norms and interleaved M-RoPE).
public enum QwenVisionVariant: String, Sendable, Equatable {
  case qwen2VL = "qwen2_vl"
  case qwen2_5VL = "qwen2_5_vl"
  case qwen3VL = "qwen3_vl"
}

/// `vision_config` of a Qwen2-VL / Qwen2.5-VL checkpoint.
public struct QwenVisionConfig: Sendable, Equatable {
  public var variant: QwenVisionVariant
  public var depth: Int
  /// Width of the blocks (`embed_dim` in Qwen2-VL, `hidden_size` in Qwen2.5-VL).
  public var width: Int
  public var heads: Int
  /// Inner width of the MLP (`embed_dim * mlp_ratio` in Qwen2-VL, `intermediate_size` in 2.5).
  public var intermediateSize: Int
  /// Width of the merger's output: the decoder's hidden size.
  public var outputSize: Int
  public var activation: Activation
  public var channels: Int
  public var patchSize: Int
  public var mergeSize: Int
  public var temporalPatchSize: Int
  public var ropeTheta: Float
  /// Qwen2.5-VL: the window side in pixels, and the blocks that attend over the whole image.
  public var windowSize: Int
  public var fullAttentionBlocks: [Int]
  /// Qwen3-VL: the learnt position table's size (a square grid, resampled to each image), and
  /// the blocks whose output feeds a DeepStack merger (its features go into decoder layer k).
  public var positionEmbeddings: Int
  public var deepstackBlocks: [Int]

  public var headDim: Int { width / heads }
  /// Values in one flattened patch: channels x temporal x patch x patch.
  public var patchValues: Int { channels * temporalPatchSize * patchSize * patchSize }
}

/// The activations the vision MLPs name (`hidden_act`).
public enum Activation: String, Sendable, Equatable {
  case quickGELU = "quick_gelu"
  case gelu = "gelu"
  case geluTanh = "gelu_pytorch_tanh"
  case silu = "silu"
}

/// A Qwen2-VL / Qwen2.5-VL checkpoint's configuration.
public struct QwenVLConfig: Sendable, Equatable {
  public var family: QwenVisionVariant
  public var text: DecoderTextConfig
  /// Sections of the rotary half-dimension taken by the temporal, height and width positions.
  public var mropeSection: [Int]
  public var vision: QwenVisionConfig
  public var imageTokenId: Int
  public var visionStartTokenId: Int
  public var visionEndTokenId: Int
  /// `eos_token_id` of config.json (one id or a list), empty when absent.
  public var eosTokenIds: [Int]
  /// GUI-Actor checkpoints: `pointer_start_token_id`, `pointer_pad_token_id`,
  /// `pointer_end_token_id` (a pointer head `multi_patch_pointer_head.*` goes with them).
  public var pointerTokenIds: PointerTokenIds? = nil

  /// Reads config.json's bytes.
  public static func decode(_ data: Data) throws(EngineError) -> QwenVLConfig {
    let top = try JSONFields(data: data, context: "config.json")
    let type = try top.string("model_type")
    guard let family = QwenVisionVariant(rawValue: type) else {
      throw .badConfig("model_type '\(type)' is not qwen2_vl, qwen2_5_vl or qwen3_vl")
    }
    let text = top.object("text_config")
    let fields = JSONLookup(text, top)
    let rope = text?.object("rope_parameters") ?? top.object("rope_parameters")
      ?? text?.object("rope_scaling") ?? top.object("rope_scaling")
    let theta = try JSONLookup(rope, text, top).double("rope_theta") ?? 1_000_000
    let decoder = DecoderTextConfig(
      modelType: family == .qwen3VL ? "qwen3" : "qwen2", hiddenSize: try fields.requiredInt("hidden_size"),
      intermediateSize: try fields.requiredInt("intermediate_size"),
      numHiddenLayers: try fields.requiredInt("num_hidden_layers"),
      numAttentionHeads: try fields.requiredInt("num_attention_heads"),
      numKeyValueHeads: try fields.int("num_key_value_heads"),
      headDim: try fields.int("head_dim"),
      rmsNormEps: Float(try fields.double("rms_norm_eps") ?? 1e-6),
      ropeTheta: Float(theta),
      vocabSize: try fields.requiredInt("vocab_size"),
      maxPositionEmbeddings: try fields.int("max_position_embeddings") ?? 32768,
      tieWordEmbeddings: try JSONLookup(top, text).bool("tie_word_embeddings") ?? false,
      attentionBias: try fields.bool("attention_bias") ?? false)
    let section = try JSONLookup(rope).intArray("mrope_section") ?? (family == .qwen3VL ? [24, 20, 20] : [16, 24, 24])
    guard let v = top.object("vision_config") else { throw .missingConfigField("vision_config") }
    let vision = try Self.vision(v, family: family)
    let eos = try JSONLookup(top, text).intOrList("eos_token_id") ?? []
    let config = QwenVLConfig(
      family: family, text: decoder, mropeSection: section, vision: vision,
      imageTokenId: try top.optionalInt("image_token_id") ?? 151655,
      visionStartTokenId: try top.optionalInt("vision_start_token_id") ?? 151652,
      visionEndTokenId: try top.optionalInt("vision_end_token_id") ?? 151653,
      eosTokenIds: eos)
    let pointer = [try top.optionalInt("pointer_start_token_id"), try top.optionalInt("pointer_pad_token_id"),
                   try top.optionalInt("pointer_end_token_id")]
    var withPointer = config
    if pointer.allSatisfy({ $0 != nil }), let start = pointer[0], let pad = pointer[1], let end = pointer[2] {
      withPointer.pointerTokenIds = PointerTokenIds(start: start, pad: pad, end: end)
    } else if pointer.contains(where: { $0 != nil }) {
      throw .badConfig("config.json names some but not all of pointer_start_token_id, pointer_pad_token_id, pointer_end_token_id")
    }
    try withPointer.validate()
    return withPointer
  }

  static func vision(_ v: JSONFields, family: QwenVisionVariant) throws(EngineError) -> QwenVisionConfig {
    let variant: QwenVisionVariant = family
    let width: Int, inner: Int, out: Int
    switch variant {
    case .qwen2VL:
      width = try v.optionalInt("embed_dim") ?? 1280
      let ratio = try v.optionalDouble("mlp_ratio") ?? 4
      guard ratio > 0, ratio <= 64, width > 0, width <= maxDimension else {
        throw .badConfig("vision_config: embed_dim \(width) and mlp_ratio \(ratio) must be positive and at most \(maxDimension) and 64")
      }
      inner = Int(Double(width) * ratio)
      out = try v.int("hidden_size")
    case .qwen2_5VL, .qwen3VL:
      width = try v.int("hidden_size")
      inner = try v.int("intermediate_size")
      out = try v.int("out_hidden_size")
    }
    let defaultAct = [QwenVisionVariant.qwen2VL: "quick_gelu", .qwen2_5VL: "silu", .qwen3VL: "gelu_pytorch_tanh"][variant] ?? "silu"
    let actName = try v.optionalString("hidden_act") ?? defaultAct
    guard let act = Activation(rawValue: actName) else {
      throw .badConfig("vision_config.hidden_act '\(actName)' is not one of quick_gelu, gelu, gelu_pytorch_tanh, silu")
    }
    let f = JSONLookup(v)
    return QwenVisionConfig(
      variant: variant, depth: try v.int("depth"), width: width,
      heads: try f.int("num_heads", "num_attention_heads") ?? 16,
      intermediateSize: inner, outputSize: out, activation: act,
      channels: try f.int("in_channels", "in_chans") ?? 3,
      patchSize: try f.int("patch_size") ?? (variant == .qwen3VL ? 16 : 14),
      mergeSize: try f.int("spatial_merge_size") ?? 2,
      temporalPatchSize: try f.int("temporal_patch_size") ?? 2,
      ropeTheta: Float(try JSONLookup(v.object("rope_parameters")).double("rope_theta") ?? 10000),
      windowSize: try f.int("window_size") ?? 112,
      fullAttentionBlocks: try f.intArray("fullatt_block_indexes") ?? [7, 15, 23, 31],
      positionEmbeddings: try f.int("num_position_embeddings") ?? 2304,
      deepstackBlocks: try f.intArray("deepstack_visual_indexes") ?? [])
  }

  /// The largest size any one dimension may have (products are bounded too).
  static let maxDimension = 1 << 20

  /// Checks the sizes that the model's arithmetic relies on.
  public func validate() throws(EngineError) {
    let t = text, v = vision
    for (name, value) in [("hidden_size", t.hiddenSize), ("num_hidden_layers", t.numHiddenLayers),
                          ("num_attention_heads", t.numAttentionHeads), ("num_key_value_heads", t.numKeyValueHeads),
                          ("head_dim", t.headDim), ("vocab_size", t.vocabSize), ("intermediate_size", t.intermediateSize),
                          ("max_position_embeddings", t.maxPositionEmbeddings),
                          ("vision_config.depth", v.depth), ("vision_config.heads", v.heads),
                          ("vision_config.patch_size", v.patchSize), ("vision_config.spatial_merge_size", v.mergeSize),
                          ("vision_config.temporal_patch_size", v.temporalPatchSize), ("vision_config width", v.width),
                          ("vision_config.intermediate_size", v.intermediateSize), ("vision_config output width", v.outputSize),
                          ("vision_config.in_channels", v.channels), ("vision_config.window_size", v.windowSize),
                          ("vision_config.num_position_embeddings", v.positionEmbeddings)]
    where value <= 0 || value > Self.maxDimension {
      throw .badConfig("\(name) is \(value), expected a positive size of at most \(Self.maxDimension)")
    }
    // Products the loader forms: heads x head_dim, the patch's values, the merged width.
    for (name, a, b) in [("num_attention_heads x head_dim", t.numAttentionHeads, t.headDim),
                         ("num_key_value_heads x head_dim", t.numKeyValueHeads, t.headDim),
                         ("vocab_size x hidden_size", t.vocabSize, t.hiddenSize),
                         ("patch values", v.channels * v.temporalPatchSize, v.patchSize * v.patchSize),
                         ("merged width", v.mergeSize * v.mergeSize, v.width)] where a * b > 1 << 34 {
      throw .badConfig("\(name) = \(a) x \(b) is too large")
    }
    guard t.numAttentionHeads % t.numKeyValueHeads == 0 else {
      throw .badConfig("num_attention_heads \(t.numAttentionHeads) is not a multiple of num_key_value_heads \(t.numKeyValueHeads)")
    }
    guard t.headDim % 2 == 0, mropeSection.count == 3, mropeSection.allSatisfy({ $0 >= 0 && $0 <= t.headDim }),
          mropeSection.reduce(0, +) == t.headDim / 2 else {
      throw .badConfig("mrope_section \(mropeSection) must be three sizes summing to head_dim / 2 = \(t.headDim / 2)")
    }
    guard v.width % v.heads == 0, v.headDim % 4 == 0 else {
      throw .badConfig("vision width \(v.width) over \(v.heads) heads must give a head size divisible by 4")
    }
    guard v.outputSize == t.hiddenSize else {
      throw .badConfig("the vision merger writes \(v.outputSize) wide features, the decoder is \(t.hiddenSize) wide")
    }
    if v.variant == .qwen3VL {
      let side = Int(Double(v.positionEmbeddings).squareRoot())
      guard v.positionEmbeddings > 0, side * side == v.positionEmbeddings else {
        throw .badConfig("vision_config.num_position_embeddings \(v.positionEmbeddings) is not a square grid")
      }
      guard v.deepstackBlocks.allSatisfy({ (0..<v.depth).contains($0) }), v.deepstackBlocks.count <= t.numHiddenLayers else {
        throw .badConfig("vision_config.deepstack_visual_indexes \(v.deepstackBlocks) must name blocks below depth \(v.depth), at most one per decoder layer")
      }
    }
    if v.variant == .qwen2_5VL {
      guard v.windowSize > 0, v.windowSize % (v.patchSize * v.mergeSize) == 0 else {
        throw .badConfig("vision_config.window_size \(v.windowSize) is not a multiple of patch x merge = \(v.patchSize * v.mergeSize)")
      }
    }
    for id in [imageTokenId, visionStartTokenId, visionEndTokenId] + eosTokenIds where id < 0 {
      throw .badConfig("token id \(id) is negative")
    }
  }
}
