import Foundation

// MARK: - Loading a Qwen-VL GGUF pair as llama.cpp's converter writes it
//
// The language-model file (`general.architecture` qwen2vl or qwen3vl) holds the decoder, the
// vocabulary and the chat template; the mmproj file (`clip`, `clip.projector_type`
// qwen2vl_merger / qwen2.5vl_merger / qwen3vl_merger) holds the tower and its merger. The keys
// read are those of llama.cpp's converter (conversion/qwenvl.py, qwen3vl.py; gguf-py
// constants.py). What a pair does not store, and what is taken instead:
// - the processor's pixel budget (min/max pixels): `LoadOptions`, else the family's published
//   preprocessor_config.json values (`SmartResize.publishedBudget`);
// - Qwen2.5-VL's attention window (112 px in every published model);
// - the tower's rotary base (10000 in every family), temporal patch (2: the two frame tensors);
// - the image token ids: read from the vocabulary by their text.

/// What the caller may add to a model path.
public struct LoadOptions: Sendable, Equatable {
  /// The mmproj GGUF that goes with a language-model GGUF.
  public var mmproj: String?
  /// The processor's pixel budget (Qwen-VL families); nil: the checkpoint's or the published one.
  public var minPixels: Int?
  public var maxPixels: Int?
  /// GGUF models: decode (and prefill) with float32 activations instead of rounding them to int8
  /// blocks as llama.cpp does (`WeightStorage.stored` instead of `.storedInt8Decode`): slower, and
  /// free of that rounding noise.
  public var floatDecode: Bool
  /// How generation's KV cache stores its rows (binary16 by default, as llama.cpp).
  public var kvCache: KVCache.Precision
  /// Told of the tensors read while the model is built (checkpoint folders and GGUF pairs;
  /// a single llama GGUF is read without it). Not part of `==`.
  public var progress: LoadProgress?
  public init(mmproj: String? = nil, minPixels: Int? = nil, maxPixels: Int? = nil, floatDecode: Bool = false,
              kvCache: KVCache.Precision = .f16, progress: LoadProgress? = nil) {
    self.mmproj = mmproj; self.minPixels = minPixels; self.maxPixels = maxPixels; self.floatDecode = floatDecode
    self.kvCache = kvCache; self.progress = progress
  }

  public static func == (a: LoadOptions, b: LoadOptions) -> Bool {
    (a.mmproj, a.minPixels, a.maxPixels, a.floatDecode, a.kvCache)
      == (b.mmproj, b.minPixels, b.maxPixels, b.floatDecode, b.kvCache)
  }

  /// The storage of a GGUF file's quantized matrices under these options.
  var ggufStorage: WeightStorage { floatDecode ? .stored : .storedInt8Decode }
}

extension SmartResize {
  /// min_pixels / max_pixels of the published preprocessor_config.json of each family
  /// (Qwen2-VL-2B/7B-Instruct and Qwen2.5-VL-3B/7B-Instruct: 3136 and 12845056; Qwen3-VL-2B/4B/8B-
  /// Instruct: size.shortest_edge 65536, size.longest_edge 16777216).
  public static func publishedBudget(_ family: QwenVisionVariant) -> (min: Int, max: Int) {
    family == .qwen3VL ? (65_536, 16_777_216) : (3_136, 12_845_056)
  }

  /// Applies `options`' budget; returns where the budget came from, for the log.
  mutating func apply(_ options: LoadOptions, otherwise source: String) throws(EngineError) -> String {
    guard options.minPixels != nil || options.maxPixels != nil else { return source }
    if let v = options.minPixels { minPixels = v }
    if let v = options.maxPixels { maxPixels = v }
    try validate()
    return "--min-pixels/--max-pixels"
  }
}

extension ModelLoader {
  /// GGUF language-model architectures that need an mmproj file.
  static let qwenVLGGUFArchitectures: Set<String> = ["qwen2vl", "qwen3vl"]

  /// The projector types this build reads, and the family each means.
  static let projectorFamilies: [String: QwenVisionVariant] = [
    "qwen2vl_merger": .qwen2VL, "qwen2.5vl_merger": .qwen2_5VL, "qwen3vl_merger": .qwen3VL,
  ]

  /// Loads `model` + `mmproj`, checking that they belong together.
  /// - Throws: errors naming both files and the field that disagrees or is missing.
  static func loadQwenVLGGUF(model modelURL: URL, mmproj mmprojURL: URL, options: LoadOptions,
                             threads: Int) throws(EngineError) -> LoadedModel {
    let lm = try GGUFFile(url: modelURL)
    let mm = try GGUFFile(url: mmprojURL)
    let pair = "\(lm.path) + \(mm.path)"
    let arch = lm.string("general.architecture") ?? "(none)"
    guard qwenVLGGUFArchitectures.contains(arch) else {
      throw .malformedWeights(file: pair, reason: "the language model's general.architecture is '\(arch)', not qwen2vl or qwen3vl")
    }
    guard mm.string("general.architecture") == "clip", mm.bool("clip.has_vision_encoder") != false else {
      throw .malformedWeights(file: pair, reason: "\(mm.path) is not an mmproj file (general.architecture '\(mm.string("general.architecture") ?? "(none)")', a vision encoder expected)")
    }
    let projector = mm.string("clip.projector_type") ?? mm.string("clip.vision.projector_type") ?? "(none)"
    guard let family = projectorFamilies[projector] else {
      throw .malformedWeights(file: pair, reason: "clip.projector_type '\(projector)' is not one of \(projectorFamilies.keys.sorted())")
    }
    guard (family == .qwen3VL) == (arch == "qwen3vl") else {
      throw .malformedWeights(file: pair, reason: "the projector \(projector) does not go with a \(arch) language model")
    }
    let config = try qwenVLConfig(lm: lm, mm: mm, family: family, pair: pair)
    let tokenizer = try Tokenizer.gguf(lm)
    func id(_ text: String) throws(EngineError) -> Int {
      guard let id = tokenizer.tokenId(for: text) else {
        throw .malformedWeights(file: lm.path, reason: "the vocabulary has no \(text) token (a Qwen-VL vocabulary has)")
      }
      return id
    }
    var full = config
    full.imageTokenId = try id("<|image_pad|>")
    full.visionStartTokenId = try id("<|vision_start|>")
    full.visionEndTokenId = try id("<|vision_end|>")
    let names = QwenVLGGUFNames(family: family, deepstackBlocks: config.vision.deepstackBlocks)
    let weights = try GGUFPairWeights(model: lm, mmproj: mm, names: names, layers: config.text.numHiddenLayers,
                                      depth: config.vision.depth)
    let network: QwenVLModel
    do throws(EngineError) {
      network = try QwenVLModel(config: full, weights: options.observed(weights), threads: threads, int8Decode: !options.floatDecode)
    } catch {
      switch error {
      case let .badTensorShape(name, expected, actual):
        throw .malformedWeights(file: pair, reason: "tensor \(name) has shape \(actual), the metadata implies \(expected)")
      case let .missingTensor(name):
        throw .malformedWeights(file: pair, reason: "no tensor for \(name) (llama.cpp's name: \(names.placement(of: name)?.placement.names.joined(separator: ", ") ?? "none"))")
      case let .badConfig(m): throw .malformedWeights(file: pair, reason: m)
      default: throw error
      }
    }
    var resize = SmartResize(patchSize: config.vision.patchSize, mergeSize: config.vision.mergeSize,
                             temporalPatchSize: config.vision.temporalPatchSize)
    let published = SmartResize.publishedBudget(family)
    resize.minPixels = published.min; resize.maxPixels = published.max
    if let mean = mm.floatArray("clip.vision.image_mean"), let std = mm.floatArray("clip.vision.image_std") {
      resize.mean = mean; resize.std = std
    }
    try resize.validate()
    let source = try resize.apply(options, otherwise: "the published \(family.rawValue) defaults (a GGUF pair does not store it)")
    var eos = Set<Int>()
    for key in ["tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id"] {
      if let e = lm.int(key), e >= 0, e < config.text.vocabSize { eos.insert(e) }
    }
    if let imEnd = tokenizer.tokenId(for: "<|im_end|>") { eos.insert(imEnd) }
    guard !eos.isEmpty else { throw .malformedWeights(file: lm.path, reason: "no end-of-sequence token (tokenizer.ggml.eos_token_id)") }
    var template = ChatTemplate.chatML(system: nil)
    if let jinja = lm.string("tokenizer.chat_template") {
      guard let recognised = ChatTemplate.recognise(jinja: jinja) else {
        throw .malformedWeights(file: lm.path, reason: "tokenizer.chat_template is not ChatML, the only form this build renders")
      }
      template = recognised
    }
    let ids = ImageTokenIds(imageStart: full.visionStartTokenId, imageEnd: full.visionEndTokenId, tileNewline: -1,
                            imagePad: full.imageTokenId)
    var notes = ["pixel budget \(resize.minPixels)...\(resize.maxPixels) from \(source)"]
    if family == .qwen2_5VL { notes.append("attention window \(config.vision.windowSize) px (not stored in GGUF; every published Qwen2.5-VL uses 112)") }
    return LoadedModel(
      family: family.rawValue, path: lm.path, network: network, tokenizer: tokenizer, template: template,
      thinkingMarkers: .thinkTags, eosIds: eos, vision: VisionInput(layout: .nativeResolution(resize), tokenIds: ids),
      notes: notes, mmprojPath: mm.path)
  }

  /// The checkpoint configuration the pair's metadata describes (image token ids left at
  /// their defaults: the caller reads them from the vocabulary).
  static func qwenVLConfig(lm: GGUFFile, mm: GGUFFile, family: QwenVisionVariant, pair: String) throws(EngineError) -> QwenVLConfig {
    let arch = lm.string("general.architecture") ?? ""
    func need(_ file: GGUFFile, _ key: String) throws(EngineError) -> Int {
      guard let v = file.int(key) else { throw .malformedWeights(file: pair, reason: "\(file.path) has no \(key)") }
      return v
    }
    let hidden = try need(lm, "\(arch).embedding_length")
    let heads = try need(lm, "\(arch).attention.head_count")
    guard let embed = lm.info("token_embd.weight"), embed.shape.count == 2, embed.shape[1] == hidden else {
      throw .malformedWeights(file: pair, reason: "\(lm.path) has no token_embd.weight of width \(arch).embedding_length = \(hidden)")
    }
    let headDim = lm.int("\(arch).attention.key_length") ?? (heads > 0 ? hidden / heads : 0)
    let sections = lm.intArray("\(arch).rope.dimension_sections") ?? []
    guard sections.count >= 3 else {
      throw .malformedWeights(file: pair, reason: "\(lm.path) has no \(arch).rope.dimension_sections (M-RoPE needs three sections)")
    }
    let text = DecoderTextConfig(
      modelType: family == .qwen3VL ? "qwen3" : "qwen2", hiddenSize: hidden,
      intermediateSize: try need(lm, "\(arch).feed_forward_length"),
      numHiddenLayers: try need(lm, "\(arch).block_count"), numAttentionHeads: heads,
      numKeyValueHeads: lm.int("\(arch).attention.head_count_kv") ?? heads, headDim: headDim,
      rmsNormEps: lm.float("\(arch).attention.layer_norm_rms_epsilon") ?? 1e-6,
      ropeTheta: lm.float("\(arch).rope.freq_base") ?? 1_000_000,
      vocabSize: embed.shape[0], maxPositionEmbeddings: lm.int("\(arch).context_length") ?? 32768,
      tieWordEmbeddings: lm.info("output.weight") == nil,
      // Qwen2 decoders always have q/k/v biases; attention_bias adds the output's too (Qwen3).
      attentionBias: family == .qwen3VL && lm.info("blk.0.attn_q.bias") != nil)
    let projection = try need(mm, "clip.vision.projection_dim")
    guard projection == hidden else {
      throw .malformedWeights(file: pair, reason: "clip.vision.projection_dim is \(projection) in \(mm.path), but \(arch).embedding_length is \(hidden) in \(lm.path): the mmproj belongs to another model")
    }
    let depth = try need(mm, "clip.vision.block_count")
    let patch = try need(mm, "clip.vision.patch_size")
    var fullAttention: [Int] = []
    if family == .qwen2_5VL {
      let pattern = try need(mm, "clip.vision.n_wa_pattern")
      guard pattern > 0 else { throw .malformedWeights(file: pair, reason: "clip.vision.n_wa_pattern is \(pattern) in \(mm.path)") }
      // Every n-th block attends over the whole image (the converter's inverse: n = first + 1).
      fullAttention = (0..<depth).filter { ($0 + 1) % pattern == 0 }
    }
    let deepstack = (mm.metadata["clip.vision.is_deepstack_layers"]?.array ?? []).enumerated().compactMap { $0.element.bool == true ? $0.offset : nil }
    var positions = 2304
    if family == .qwen3VL {
      guard let table = mm.info("v.position_embd.weight"), table.shape.count == 2 else {
        throw .malformedWeights(file: pair, reason: "\(mm.path) has no v.position_embd.weight (Qwen3-VL's learnt positions)")
      }
      positions = table.shape[0]
    }
    let activation: Activation = switch family {
    case .qwen2VL: mm.bool("clip.use_silu") == true ? .silu : .quickGELU
    case .qwen2_5VL: mm.bool("clip.use_gelu") == true ? .geluTanh : .silu
    case .qwen3VL: mm.bool("clip.use_silu") == true ? .silu : .geluTanh
    }
    let frames = mm.info("v.patch_embd.weight.1") != nil ? 2 : 1
    let vision = QwenVisionConfig(
      variant: family, depth: depth, width: try need(mm, "clip.vision.embedding_length"),
      heads: try need(mm, "clip.vision.attention.head_count"),
      intermediateSize: try need(mm, "clip.vision.feed_forward_length"), outputSize: projection,
      activation: activation, channels: 3, patchSize: patch,
      mergeSize: mm.int("clip.vision.spatial_merge_size") ?? 2, temporalPatchSize: frames,
      ropeTheta: 10000, windowSize: 112, fullAttentionBlocks: fullAttention,
      positionEmbeddings: positions, deepstackBlocks: deepstack)
    if family == .qwen3VL, let n = lm.int("qwen3vl.n_deepstack_layers"), n != deepstack.count {
      throw .malformedWeights(file: pair, reason: "qwen3vl.n_deepstack_layers is \(n) in \(lm.path), but \(mm.path) marks \(deepstack.count) DeepStack blocks")
    }
    let config = QwenVLConfig(family: family, text: text, mropeSection: Array(sections.prefix(3)), vision: vision,
                              imageTokenId: 0, visionStartTokenId: 0, visionEndTokenId: 0, eosTokenIds: [])
    do throws(EngineError) { try config.validate() } catch {
      if case let .badConfig(m) = error { throw .malformedWeights(file: pair, reason: "\(m)") }
      throw error
    }
    return config
  }
}
