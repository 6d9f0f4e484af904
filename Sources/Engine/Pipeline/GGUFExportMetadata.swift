import Foundation

// MARK: - Metadata of an exported GGUF pair, key for key as llama.cpp's converter writes it
//
// Language model: `TextModel.set_gguf_parameters` (conversion/base.py; config.json's text fields
// with text_config's winning, as the converter merges them), `Qwen3VLTextModel` adding
// n_deepstack_layers, then the tokenizer (GGUFExportVocab). mmproj: `MmprojModel.set_gguf_parameters`
// and `Qwen2VLVisionModel` / `Qwen3VLVisionModel` (conversion/qwenvl.py, qwen3vl.py). Descriptive
// general.* keys: general.name (the folder's name, where the converter title-cases a guess from
// the folder and model card) and general.size_label (gguf-py's rounding of the file's parameter
// count); the converter's other guesses (basename, finetune, license, ...) are not written.

struct GGUFExportMetadata {
  let family: QwenVisionVariant
  let config: QwenVLConfig
  /// config.json, its text_config and vision_config.
  let top: JSONFields
  let text: JSONFields?
  let vision: JSONFields?
  let name: String

  init(folder: URL, configData: Data) throws(EngineError) {
    config = try QwenVLConfig.decode(configData)
    family = config.family
    top = try JSONFields(data: configData, context: "config.json")
    text = top.object("text_config")
    vision = top.object("vision_config")
    name = folder.standardizedFileURL.lastPathComponent
  }

  /// llama.cpp's architecture name of the language model.
  var architecture: String { family == .qwen3VL ? "qwen3vl" : "qwen2vl" }

  private static func u32(_ v: Int) -> GGUFValue { .uint32(UInt32(truncatingIfNeeded: v)) }

  /// gguf-py's `size_label` for a file of `parameters` values ("101K", "1.5B"): the count in
  /// K/M/B/T with at least two significant digits.
  static func sizeLabel(_ parameters: Int) -> String {
    let p = Double(parameters)
    let (scaled, suffix) = p > 1e12 ? (p * 1e-12, "T") : p > 1e9 ? (p * 1e-9, "B") : p > 1e6 ? (p * 1e-6, "M") : (p * 1e-3, "K")
    let rounded = scaled.rounded(.toNearestOrEven)
    let digits = rounded < 1 ? 0 : String(Int(rounded)).count
    return String(format: "%.*f", max(2 - digits, 0), scaled) + suffix
  }

  // MARK: - Language model

  func model(fileType: UInt32, parameters: Int) throws(EngineError) -> [(String, GGUFValue)] {
    let a = architecture
    let hp = JSONLookup(text, top)  // the converter's {**config, **text_config}
    var kv: [(String, GGUFValue)] = [("general.architecture", .string(a)), ("general.type", .string("model")),
                                     ("general.name", .string(name)), ("general.size_label", .string(Self.sizeLabel(parameters)))]
    kv.append(("\(a).block_count", Self.u32(config.text.numHiddenLayers)))
    if let n = try hp.int("max_position_embeddings", "n_ctx", "n_positions", "max_length", "max_sequence_length", "model_max_length") {
      kv.append(("\(a).context_length", Self.u32(n)))
    }
    kv.append(("\(a).embedding_length", Self.u32(config.text.hiddenSize)))
    kv.append(("\(a).feed_forward_length", Self.u32(config.text.intermediateSize)))
    kv.append(("\(a).attention.head_count", Self.u32(config.text.numAttentionHeads)))
    if let kvHeads = try hp.int("num_key_value_heads", "n_kv_heads") { kv.append(("\(a).attention.head_count_kv", Self.u32(kvHeads))) }
    let rope = text?.object("rope_parameters") ?? top.object("rope_parameters") ?? text?.object("rope_scaling") ?? top.object("rope_scaling")
    if let r = rope {
      var ropeType = try r.optionalString("rope_type")
      if ropeType == nil { ropeType = try r.optionalString("type") }
      if let factor = try r.optionalDouble("factor"), ropeType == "linear" || ropeType == "yarn" {
        kv.append(("\(a).rope.scaling.type", .string(ropeType ?? "")))
        kv.append(("\(a).rope.scaling.factor", .float32(Float(factor))))
        if ropeType == "yarn", let orig = try r.optionalInt("original_max_position_embeddings") {
          kv.append(("\(a).rope.scaling.original_context_length", Self.u32(orig)))
        }
      }
      if let sections = try r.optionalIntArray("mrope_section") {
        kv.append(("\(a).rope.dimension_sections", .array(.int32, (sections + [0, 0, 0, 0]).prefix(4).map { .int32(Int32(truncatingIfNeeded: $0)) })))
      }
    }
    var theta = try JSONLookup(rope).double("rope_theta")
    if theta == nil { theta = try hp.double("global_rope_theta", "rope_global_theta", "rope_theta_global", "rope_theta", "rotary_emb_base") }
    if let theta { kv.append(("\(a).rope.freq_base", .float32(Float(theta)))) }
    if let eps = try hp.double("rms_norm_eps", "norm_eps") { kv.append(("\(a).attention.layer_norm_rms_epsilon", .float32(Float(eps)))) }
    if let eps = try hp.double("layer_norm_eps", "layer_norm_epsilon", "norm_epsilon") {
      kv.append(("\(a).attention.layer_norm_epsilon", .float32(Float(eps))))
    }
    if let headDim = try hp.int("head_dim") {
      kv.append(("\(a).attention.key_length", Self.u32(headDim)))
      kv.append(("\(a).attention.value_length", Self.u32(headDim)))
    }
    kv.append(("general.file_type", .uint32(fileType)))
    if family == .qwen3VL { kv.append(("\(a).n_deepstack_layers", Self.u32(config.vision.deepstackBlocks.count))) }
    kv.append(("general.quantization_version", .uint32(2)))
    return kv
  }

  // MARK: - mmproj

  func projector(fileType: UInt32, parameters: Int, folder: URL) throws(EngineError) -> [(String, GGUFValue)] {
    let v = config.vision
    let raw = JSONLookup(vision)
    var kv: [(String, GGUFValue)] = [("general.architecture", .string("clip")), ("general.type", .string("mmproj")),
                                     ("general.name", .string(name)), ("general.size_label", .string(Self.sizeLabel(parameters))),
                                     ("general.file_type", .uint32(fileType)),
                                     ("clip.has_vision_encoder", .bool(true)),
                                     ("clip.vision.projection_dim", Self.u32(config.text.hiddenSize))]
    let imageSize: Int
    if let s = try raw.int("image_size") {
      imageSize = s
    } else if family == .qwen3VL {
      imageSize = Int(Double(v.positionEmbeddings).squareRoot() * Double(v.patchSize))
    } else {
      imageSize = 560
    }
    kv.append(("clip.vision.image_size", Self.u32(imageSize)))
    kv.append(("clip.vision.patch_size", Self.u32(v.patchSize)))
    kv.append(("clip.vision.embedding_length", Self.u32(v.width)))
    // Qwen2-VL: the converter renames vision hidden_size (the merger's output width) to
    // intermediate_size, so feed_forward_length is that width, not embed_dim x mlp_ratio.
    let feedForward = family == .qwen2VL ? (try raw.int("hidden_size") ?? v.outputSize) : v.intermediateSize
    kv.append(("clip.vision.feed_forward_length", Self.u32(feedForward)))
    kv.append(("clip.vision.block_count", Self.u32(v.depth)))
    kv.append(("clip.vision.attention.head_count", Self.u32(v.heads)))
    let (mean, std) = try Self.normalization(folder)
    kv.append(("clip.vision.image_mean", .array(.float32, mean.map { .float32(Float($0)) })))
    kv.append(("clip.vision.image_std", .array(.float32, std.map { .float32(Float($0)) })))
    var eps = try top.optionalDouble("rms_norm_eps") ?? 1e-6
    switch family {
    case .qwen2VL:
      kv.append(("clip.projector_type", .string("qwen2vl_merger")))
    case .qwen2_5VL:
      kv.append(("clip.projector_type", .string("qwen2.5vl_merger")))
      kv.append(("clip.use_silu", .bool(true)))
      let full = v.fullAttentionBlocks
      guard let first = full.first, zip(full, full.dropFirst()).allSatisfy({ $1 - $0 == first + 1 }) else {
        throw .badConfig("vision_config.fullatt_block_indexes \(full) is not a regular pattern (every n-th block, as llama.cpp's n_wa_pattern needs)")
      }
      kv.append(("clip.vision.n_wa_pattern", Self.u32(first + 1)))
    case .qwen3VL:
      kv.append(("clip.projector_type", .string("qwen3vl_merger")))
      kv.append(("clip.use_gelu", .bool(true)))
      kv.append(("clip.vision.spatial_merge_size", Self.u32(v.mergeSize)))
      eps = try text?.optionalDouble("rms_norm_eps") ?? 1e-6
    }
    kv.append(("clip.vision.attention.layer_norm_epsilon", .float32(Float(eps))))
    if family == .qwen3VL, v.depth > 0 {
      kv.append(("clip.vision.is_deepstack_layers", .array(.bool, (0..<v.depth).map { .bool(v.deepstackBlocks.contains($0)) })))
    }
    kv.append(("general.quantization_version", .uint32(2)))
    return kv
  }

  /// image_mean and image_std of preprocessor_config.json, processor_config.json's
  /// image_processor overriding (the converter's merge order).
  static func normalization(_ folder: URL) throws(EngineError) -> ([Double], [Double]) {
    var mean: [Double]? = nil, std: [Double]? = nil
    for (file, nested) in [("preprocessor_config.json", "media_proc_cfg"), ("processor_config.json", "image_processor")] {
      guard let o = try GGUFExportVocab.object(folder.appendingPathComponent(file), required: false) else { continue }
      for fields in [o, o.object(nested)].compactMap({ $0 }) {
        if let m = try doubles(fields, "image_mean") { mean = m }
        if let s = try doubles(fields, "image_std") { std = s }
      }
    }
    guard let mean, let std else {
      throw .badConfig("\(folder.appendingPathComponent("preprocessor_config.json").path): image_mean and image_std are needed for the mmproj")
    }
    return (mean, std)
  }

  private static func doubles(_ f: JSONFields, _ key: String) throws(EngineError) -> [Double]? {
    guard let v = f.value(key) else { return nil }
    guard case let .array(items) = v else { throw .badConfig("\(f.context): '\(key)' is not a list of numbers") }
    var out: [Double] = []
    for item in items {
      guard case let .number(t) = item, let d = Double(t) else { throw .badConfig("\(f.context): '\(key)' is not a list of numbers") }
      out.append(d)
    }
    return out
  }
}
