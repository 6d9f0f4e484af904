import Foundation

// MARK: - A bluelm_vl folder -> a GGUF pair
//
// LM file: the decoder as llama.cpp's `llama` / `qwen2` architecture (text_config.model_type),
// the keys of convert_hf_to_gguf.py's TextModel, llama q/k rows permuted as LlamaModel.permute
// does, and the vocabulary as tokenizer.ggml.* (gpt2 model; pre-tokenizer "gpt-2", llama.cpp's
// name for GPT-2's regex: bluelm_vl's tokenizer.json is a plain ByteLevel one). mmproj file: `clip` with projector type `bluelm_vl`
// (ours), SigLIP keys as the converter writes them for a SigLIP tower, and config.json as it is
// in `bluelm_vl.config_json` (AnyRes, tokens, chat, prompt template, thinking markers: the loader
// decodes it with BlueLMVLConfig.decode). Types: `GGUFTypePolicy`, as for Qwen-VL pairs.

enum BlueLMVLGGUFExport {
  static func export(_ folder: URL, configData: Data, options: GGUFExportOptions, log: (String) -> Void,
                     progress: (Int, Int) -> Void) throws(EngineError) -> GGUFExportSummary {
    let started = Date()
    let config = try BlueLMVLConfig.decode(configData)
    let top = try JSONFields(data: configData, context: "\(folder.path)/config.json")
    let checkpoint = try SafetensorsCheckpoint(directory: folder)
    let t = config.textConfig, v = config.visionConfig
    guard let json = String(data: configData, encoding: .utf8) else {
      throw .badConfig("\(folder.path)/config.json is not UTF-8")
    }

    // Plan: every tensor the model reads, in its load order, placed and typed.
    var model: [GGUFExportItem] = [], projector: [GGUFExportItem] = []
    var permuted: [String: Int] = [:]  // GGUF name -> heads
    let tied = checkpoint.info(BlueLMVLTensorNames.lmHead) == nil
    for (name, shape) in BlueLMVLTensorNames.expectedTensors(config) {
      guard let info = checkpoint.info(name) else {
        if checkpoint.tensor(name) != nil {
          throw .malformedWeights(file: checkpoint.shard(for: name)?.path ?? name, reason: "tensor '\(name)' has dtype \(checkpoint.tensor(name)?.dtype.rawValue ?? "?"); only F32, F16 and BF16 can be exported")
        }
        throw .missingTensor("\(name) in \(folder.path)")
      }
      guard info.shape == shape else { throw .badTensorShape(name: name, expected: shape, actual: info.shape) }
      guard let place = BlueLMVLGGUFNames.place(name, text: t) else {
        throw .badConfig("\(name) has no GGUF name (a bluelm_vl tensor this exporter does not know)")
      }
      let choice = place.file == .model
        ? GGUFTypePolicy.model(place.name, shape: shape, type: options.modelType, layers: t.numHiddenLayers, tied: tied)
        : GGUFTypePolicy.mmproj(place.name, shape: shape, type: options.projectorType)
      let item = GGUFExportItem(spec: GGUFTensorSpec(name: place.name, type: choice.type, shape: shape),
                                source: GGUFExportSource(name: name, dtype: info.dtype, layout: .contiguous(offset: 0)),
                                fallback: choice.fallback)
      if let heads = place.permutedHeads { permuted[place.name] = heads }
      if place.file == .model { model.append(item) } else { projector.append(item) }
    }
    if GGUFTypePolicy.viaLlamaQuantize(options.modelType) {
      model.sort { GGUFTypePolicy.quantizeOrder($0.spec.name, $1.spec.name) }
    }
    var summary = GGUFExportSummary()
    let known = Set((model + projector).map(\.source.name))
    summary.skipped = checkpoint.tensorNames.filter { !known.contains($0) }
    if !summary.skipped.isEmpty { log("skipping \(summary.skipped.count) checkpoint tensor(s) a bluelm_vl model does not read: \(summary.skipped.prefix(4).joined(separator: ", "))") }
    summary.fallbacks = (model + projector).compactMap(\.fallback)
    for f in summary.fallbacks { log("fallback: \(f)") }

    // Metadata.
    func u32(_ x: Int) -> GGUFValue { .uint32(UInt32(truncatingIfNeeded: x)) }
    func parameters(_ items: [GGUFExportItem]) -> Int { items.reduce(0) { $0 + $1.spec.shape.reduce(1, *) } }
    let a = t.modelType, name = folder.standardizedFileURL.lastPathComponent
    var modelKV: [(String, GGUFValue)] = [
      ("general.architecture", .string(a)), ("general.type", .string("model")), ("general.name", .string(name)),
      ("general.size_label", .string(GGUFExportMetadata.sizeLabel(parameters(model)))),
      ("\(a).block_count", u32(t.numHiddenLayers)), ("\(a).context_length", u32(t.maxPositionEmbeddings)),
      ("\(a).embedding_length", u32(t.hiddenSize)), ("\(a).feed_forward_length", u32(t.intermediateSize)),
      ("\(a).attention.head_count", u32(t.numAttentionHeads)), ("\(a).attention.head_count_kv", u32(t.numKeyValueHeads)),
      ("\(a).rope.freq_base", .float32(t.ropeTheta)), ("\(a).attention.layer_norm_rms_epsilon", .float32(t.rmsNormEps)),
      ("\(a).attention.key_length", u32(t.headDim)), ("\(a).attention.value_length", u32(t.headDim)),
      ("\(a).rope.dimension_count", u32(t.headDim)), ("\(a).vocab_size", u32(t.vocabSize)),
      ("general.file_type", .uint32(options.modelType.fileType)), ("general.quantization_version", .uint32(2)),
    ]
    var vocab = try GGUFExportVocab(folder: folder, config: top, vocabSize: t.vocabSize).metadata
    vocab = vocab.map { $0.0 == "tokenizer.ggml.pre" ? ($0.0, .string("gpt-2")) : $0 }
    // A merge-free (byte-level only) vocabulary still needs the key: llama.cpp's gpt2 loader
    // refuses a file without it, as does `Tokenizer.gguf`.
    if !vocab.contains(where: { $0.0 == "tokenizer.ggml.merges" }), let i = vocab.firstIndex(where: { $0.0 == "tokenizer.ggml.token_type" }) {
      vocab.insert(("tokenizer.ggml.merges", .array(.string, [])), at: i + 1)
    }
    if !vocab.contains(where: { $0.0 == "tokenizer.ggml.eos_token_id" }), let eos = try eosId(folder, text: config.tokens.eos) {
      vocab.append(("tokenizer.ggml.eos_token_id", u32(eos)))
    }
    modelKV += vocab
    let mean = config.anyres.imageMean, std = config.anyres.imageStd
    let projectorKV: [(String, GGUFValue)] = [
      ("general.architecture", .string("clip")), ("general.type", .string("mmproj")), ("general.name", .string(name)),
      ("general.file_type", .uint32(options.projectorType.fileType)), ("general.quantization_version", .uint32(2)),
      ("clip.has_vision_encoder", .bool(true)), ("clip.projector_type", .string(ModelLoader.blueLMVLProjectorType)),
      ("clip.vision.image_size", u32(v.imageSize)), ("clip.vision.patch_size", u32(v.patchSize)),
      ("clip.vision.embedding_length", u32(v.hiddenSize)), ("clip.vision.feed_forward_length", u32(v.intermediateSize)),
      ("clip.vision.block_count", u32(v.numHiddenLayers)), ("clip.vision.attention.head_count", u32(v.numAttentionHeads)),
      ("clip.vision.attention.layer_norm_epsilon", .float32(v.layerNormEps)),
      ("clip.vision.projection_dim", u32(t.hiddenSize)),
      ("clip.vision.image_mean", .array(.float32, mean.map { .float32(Float($0)) })),
      ("clip.vision.image_std", .array(.float32, std.map { .float32(Float($0)) })),
      ("clip.use_gelu", .bool(true)),
      ("bluelm_vl.config_json", .string(json)),
    ]

    summary.files = try GGUFExport.writePair(
      model: (modelKV, model), projector: (projectorKV, projector), from: checkpoint, options: options,
      progress: progress
    ) { (item, raw, write) throws(EngineError) in
      guard let heads = permuted[item.spec.name] else { return false }
      let rows = item.spec.shape.first ?? 1
      let order = try BlueLMVLGGUFNames.permutedRowOrder(rows: rows, heads: heads, name: item.source.name)
      let rowBytes = raw.count / max(rows, 1)
      // GGUF row order[r] <- checkpoint row r (LlamaModel.permute).
      let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: raw.count, alignment: 64)
      defer { bytes.deallocate() }
      for (r, target) in order.enumerated() {
        UnsafeMutableRawBufferPointer(rebasing: bytes[(target * rowBytes)..<((target + 1) * rowBytes)])
          .copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[(r * rowBytes)..<((r + 1) * rowBytes)]))
      }
      try write(UnsafeRawBufferPointer(bytes))
      return true
    }
    summary.seconds = Date().timeIntervalSince(started)
    return summary
  }

  /// The id of `text` among tokenizer.json's added tokens (bluelm_vl's EOS lives there).
  private static func eosId(_ folder: URL, text: String) throws(EngineError) -> Int? {
    let tokenizer = try GGUFExportVocab.object(folder.appendingPathComponent("tokenizer.json"), required: true)
    guard case let .array(items)? = tokenizer?.value("added_tokens") else { return nil }
    for item in items {
      guard case let .object(m) = item else { continue }
      let f = JSONFields(members: m, context: "added_tokens")
      if f.value("content")?.stringValue == text { return f.value("id")?.intValue }
    }
    return nil
  }
}
