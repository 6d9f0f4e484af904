import Foundation

// MARK: - Configuration (config.json of a bluelm_vl checkpoint)
//
// CodingKeys mirror config.json (snake_case). Optional fields take the defaults the format
// document gives; a missing required field is reported by its path, e.g.
// `EngineError.missingConfigField("text_config.hidden_size")`. Unknown fields are ignored.

/// The whole `config.json` of a `bluelm_vl` checkpoint.
public struct BlueLMVLConfig: Codable, Sendable, Equatable {
  public var modelType: String
  public var visionConfig: SiglipVisionConfig
  public var textConfig: DecoderTextConfig
  public var projector: ProjectorConfig
  public var anyres: AnyResSettings
  public var tokens: SpecialTokensConfig
  public var chat: ChatConfig
  /// Coordinate convention of grounding answers; "norm1000" is the only one defined.
  public var coordinates: String
  /// The task prompt the model was trained with (optional): `{instruction}` stands for the task
  /// text, and an image placeholder written in it places the image (else the image goes first).
  public var promptTemplate: String?
  /// The ids of `<|pointer_start|>`, `<|pointer_pad|>`, `<|pointer_end|>` when the checkpoint
  /// carries the optional pointer head (top-level `pointer_*_token_id`; all three or none).
  public var pointerStartTokenId: Int?
  public var pointerPadTokenId: Int?
  public var pointerEndTokenId: Int?

  enum CodingKeys: String, CodingKey {
    case modelType = "model_type", visionConfig = "vision_config", textConfig = "text_config"
    case projector, anyres, tokens, chat, coordinates
    case promptTemplate = "prompt_template"
    case pointerStartTokenId = "pointer_start_token_id", pointerPadTokenId = "pointer_pad_token_id"
    case pointerEndTokenId = "pointer_end_token_id"
  }

  /// A configuration built in code (tests, benchmarks); `validate()` checks it.
  public init(visionConfig: SiglipVisionConfig, textConfig: DecoderTextConfig,
              projector: ProjectorConfig = ProjectorConfig(), anyres: AnyResSettings? = nil,
              tokens: SpecialTokensConfig = SpecialTokensConfig(), chat: ChatConfig = ChatConfig(),
              coordinates: String = "norm1000") {
    modelType = "bluelm_vl"
    self.visionConfig = visionConfig; self.textConfig = textConfig; self.projector = projector
    self.anyres = anyres ?? AnyResSettings(tileSize: visionConfig.imageSize)
    self.tokens = tokens; self.chat = chat; self.coordinates = coordinates
  }

  /// The format's full-size dimensions (SigLIP so400m at 378 px; the assumed 2.5B decoder),
  /// optionally with fewer layers so that a benchmark fits a small machine.
  public static func fullSize(visionLayers: Int = 27, textLayers: Int = 30) -> BlueLMVLConfig {
    BlueLMVLConfig(
      visionConfig: SiglipVisionConfig(hiddenSize: 1152, intermediateSize: 4304, numHiddenLayers: visionLayers,
                                       numAttentionHeads: 16, imageSize: 378, patchSize: 14),
      textConfig: DecoderTextConfig(modelType: "llama", hiddenSize: 2560, intermediateSize: 6912,
                                    numHiddenLayers: textLayers, numAttentionHeads: 20, numKeyValueHeads: 4,
                                    headDim: 128, ropeTheta: 1_000_000, vocabSize: 100_096))
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    modelType = try c.decode(String.self, forKey: .modelType)
    visionConfig = try c.decode(SiglipVisionConfig.self, forKey: .visionConfig)
    textConfig = try c.decode(DecoderTextConfig.self, forKey: .textConfig)
    projector = try c.decodeIfPresent(ProjectorConfig.self, forKey: .projector) ?? ProjectorConfig()
    anyres = try c.decodeIfPresent(AnyResSettings.self, forKey: .anyres)
      ?? AnyResSettings(tileSize: visionConfig.imageSize)
    tokens = try c.decodeIfPresent(SpecialTokensConfig.self, forKey: .tokens) ?? SpecialTokensConfig()
    chat = try c.decodeIfPresent(ChatConfig.self, forKey: .chat) ?? ChatConfig()
    coordinates = try c.decodeIfPresent(String.self, forKey: .coordinates) ?? "norm1000"
    promptTemplate = try c.decodeIfPresent(String.self, forKey: .promptTemplate)
    pointerStartTokenId = try c.decodeIfPresent(Int.self, forKey: .pointerStartTokenId)
    pointerPadTokenId = try c.decodeIfPresent(Int.self, forKey: .pointerPadTokenId)
    pointerEndTokenId = try c.decodeIfPresent(Int.self, forKey: .pointerEndTokenId)
  }

  /// The pointer tokens' ids, when config.json names them (checked by `validate()`: all three
  /// or none, each inside the vocabulary).
  public var pointerTokenIds: PointerTokenIds? {
    guard let s = pointerStartTokenId, let p = pointerPadTokenId, let e = pointerEndTokenId else { return nil }
    return PointerTokenIds(start: s, pad: p, end: e)
  }

  /// Decodes and validates config.json's bytes. Errors: `missingConfigField(path)`,
  /// `badConfig(reason)` for malformed JSON, wrong types or inconsistent sizes.
  public static func decode(_ data: Data) throws(EngineError) -> BlueLMVLConfig {
    let config: BlueLMVLConfig
    do {
      config = try JSONDecoder().decode(BlueLMVLConfig.self, from: data)
    } catch let DecodingError.keyNotFound(key, context) {
      throw .missingConfigField((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))
    } catch let DecodingError.typeMismatch(_, context) {
      throw .badConfig("field '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
    } catch let DecodingError.valueNotFound(_, context) {
      throw .missingConfigField(context.codingPath.map(\.stringValue).joined(separator: "."))
    } catch {
      throw .badConfig("not valid JSON: \(error.localizedDescription)")
    }
    try config.validate()
    return config
  }

  /// The largest size, count or id range a config may give (2^20; real ones are below 2^18): a
  /// product of three such values (heads x head_dim, the patch grid squared x width) fits an Int,
  /// so a lying config gets an error, not an overflow trap while its tensors are checked.
  static let maxDimension = 1 << 20

  /// Checks the sizes against each other: positive dimensions no larger than `maxDimension`,
  /// heads dividing widths, the image dividing into patches, a supported decoder type and adapter.
  public func validate() throws(EngineError) {
    let v = visionConfig, t = textConfig
    let positive: [(String, Int)] = [
      ("vision_config.hidden_size", v.hiddenSize), ("vision_config.intermediate_size", v.intermediateSize),
      ("vision_config.num_hidden_layers", v.numHiddenLayers),
      ("vision_config.num_attention_heads", v.numAttentionHeads),
      ("vision_config.image_size", v.imageSize), ("vision_config.patch_size", v.patchSize),
      ("vision_config.num_channels", v.numChannels),
      ("text_config.hidden_size", t.hiddenSize), ("text_config.intermediate_size", t.intermediateSize),
      ("text_config.num_hidden_layers", t.numHiddenLayers),
      ("text_config.num_attention_heads", t.numAttentionHeads),
      ("text_config.num_key_value_heads", t.numKeyValueHeads), ("text_config.head_dim", t.headDim),
      ("text_config.vocab_size", t.vocabSize),
    ]
    for (name, value) in positive where value <= 0 {
      throw .badConfig("'\(name)' must be positive, got \(value)")
    }
    for (name, value) in positive where value > Self.maxDimension {
      throw .badConfig("'\(name)' \(value) is larger than \(Self.maxDimension)")
    }
    guard modelType == "bluelm_vl" else { throw .badConfig("model_type '\(modelType)' is not bluelm_vl") }
    guard v.hiddenSize % v.numAttentionHeads == 0 else {
      throw .badConfig("vision_config.hidden_size \(v.hiddenSize) is not a multiple of num_attention_heads \(v.numAttentionHeads)")
    }
    guard v.imageSize % v.patchSize == 0 else {
      throw .badConfig("vision_config.image_size \(v.imageSize) is not a multiple of patch_size \(v.patchSize)")
    }
    guard ["gelu_pytorch_tanh", "gelu"].contains(v.hiddenAct) else {
      throw .badConfig("vision_config.hidden_act '\(v.hiddenAct)' is not supported")
    }
    guard DecoderTextConfig.supportedTypes.contains(t.modelType) else {
      throw .badConfig("text_config.model_type '\(t.modelType)' is not one of \(DecoderTextConfig.supportedTypes)")
    }
    guard t.numAttentionHeads % t.numKeyValueHeads == 0 else {
      throw .badConfig("text_config.num_attention_heads \(t.numAttentionHeads) is not a multiple of num_key_value_heads \(t.numKeyValueHeads)")
    }
    guard t.headDim % 2 == 0 else { throw .badConfig("text_config.head_dim \(t.headDim) is odd; RoPE needs pairs") }
    guard projector.downsample == 2 else {
      throw .badConfig("projector.downsample \(projector.downsample) is not supported (only 2)")
    }
    guard projector.hiddenAct == "gelu" else {
      throw .badConfig("projector.hidden_act '\(projector.hiddenAct)' is not supported (only gelu)")
    }
    if let template = promptTemplate {
      guard template.contains("{instruction}") else {
        throw .badConfig("prompt_template '\(template)' does not contain {instruction}")
      }
      guard template.components(separatedBy: tokens.imagePad).count <= 2 else {
        throw .badConfig("prompt_template '\(template)' places more than one image")
      }
    }
    try validatePointerIds()
  }

  private func validatePointerIds() throws(EngineError) {
    let named: [(String, Int?)] = [("pointer_start_token_id", pointerStartTokenId),
                                    ("pointer_pad_token_id", pointerPadTokenId),
                                    ("pointer_end_token_id", pointerEndTokenId)]
    let given = named.filter { $0.1 != nil }
    guard !given.isEmpty else { return }
    if given.count < named.count {
      let absent = named.filter { $0.1 == nil }.map(\.0)
      throw .badConfig("\(given.map(\.0).joined(separator: ", ")) given but \(absent.joined(separator: ", ")) missing: the pointer head needs all three")
    }
    let vocab = textConfig.vocabSize
    for case let (name, id?) in named where id < 0 || id >= vocab {
      throw .badConfig("\(name) \(id) is outside the vocabulary 0..<\(vocab) (text_config.vocab_size)")
    }
    if Set(named.compactMap(\.1)).count < 3 {
      throw .badConfig("pointer_start_token_id, pointer_pad_token_id and pointer_end_token_id must differ, got \(named.compactMap(\.1))")
    }
  }

  /// Patches per tile side: g = image_size / patch_size.
  public var patchGrid: Int { visionConfig.imageSize / visionConfig.patchSize }
  /// Adapter tokens per tile side after 2x2 downsampling: h = ceil(g / 2).
  public var tokenGrid: Int { (patchGrid + 1) / 2 }
  /// Adapter tokens one tile contributes: h * h.
  public var tokensPerTile: Int { tokenGrid * tokenGrid }
}

// MARK: - Vision tower

/// The fields of transformers' `SiglipVisionConfig` that the tower uses.
public struct SiglipVisionConfig: Codable, Sendable, Equatable {
  public var hiddenSize: Int
  public var intermediateSize: Int
  public var numHiddenLayers: Int
  public var numAttentionHeads: Int
  public var imageSize: Int
  public var patchSize: Int
  /// Default 1e-6.
  public var layerNormEps: Float
  /// Default "gelu_pytorch_tanh".
  public var hiddenAct: String
  /// Default 3.
  public var numChannels: Int

  enum CodingKeys: String, CodingKey {
    case hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
    case numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads"
    case imageSize = "image_size", patchSize = "patch_size", layerNormEps = "layer_norm_eps"
    case hiddenAct = "hidden_act", numChannels = "num_channels"
  }

  public init(hiddenSize: Int, intermediateSize: Int, numHiddenLayers: Int, numAttentionHeads: Int,
              imageSize: Int, patchSize: Int, layerNormEps: Float = 1e-6,
              hiddenAct: String = "gelu_pytorch_tanh", numChannels: Int = 3) {
    self.hiddenSize = hiddenSize; self.intermediateSize = intermediateSize
    self.numHiddenLayers = numHiddenLayers; self.numAttentionHeads = numAttentionHeads
    self.imageSize = imageSize; self.patchSize = patchSize; self.layerNormEps = layerNormEps
    self.hiddenAct = hiddenAct; self.numChannels = numChannels
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
    intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
    numHiddenLayers = try c.decode(Int.self, forKey: .numHiddenLayers)
    numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
    imageSize = try c.decode(Int.self, forKey: .imageSize)
    patchSize = try c.decode(Int.self, forKey: .patchSize)
    layerNormEps = try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? 1e-6
    hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "gelu_pytorch_tanh"
    numChannels = try c.decodeIfPresent(Int.self, forKey: .numChannels) ?? 3
  }
}

// MARK: - Decoder LM

/// The fields of transformers' `LlamaConfig` / `Qwen2Config` that the decoder uses.
public struct DecoderTextConfig: Codable, Sendable, Equatable {
  static let supportedTypes = ["llama", "qwen2"]  // bluelm_vl's; Qwen3-VL builds "qwen3" itself
  /// "llama" or "qwen2" (qwen2: biases on q/k/v).
  public var modelType: String
  public var hiddenSize: Int
  public var intermediateSize: Int
  public var numHiddenLayers: Int
  public var numAttentionHeads: Int
  /// Default: num_attention_heads (plain multi-head attention).
  public var numKeyValueHeads: Int
  /// Default: hidden_size / num_attention_heads.
  public var headDim: Int
  /// Default 1e-6.
  public var rmsNormEps: Float
  /// Default 10000.
  public var ropeTheta: Float
  public var vocabSize: Int
  /// Default 32768.
  public var maxPositionEmbeddings: Int
  /// Default false: `language_model.lm_head.weight` is present.
  public var tieWordEmbeddings: Bool
  /// Default false; ignored for qwen2, which always has q/k/v biases.
  public var attentionBias: Bool

  enum CodingKeys: String, CodingKey {
    case modelType = "model_type", hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
    case numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads"
    case numKeyValueHeads = "num_key_value_heads", headDim = "head_dim", rmsNormEps = "rms_norm_eps"
    case ropeTheta = "rope_theta", vocabSize = "vocab_size"
    case maxPositionEmbeddings = "max_position_embeddings"
    case tieWordEmbeddings = "tie_word_embeddings", attentionBias = "attention_bias"
  }

  public init(modelType: String, hiddenSize: Int, intermediateSize: Int, numHiddenLayers: Int,
              numAttentionHeads: Int, numKeyValueHeads: Int? = nil, headDim: Int? = nil,
              rmsNormEps: Float = 1e-6, ropeTheta: Float = 10000, vocabSize: Int,
              maxPositionEmbeddings: Int = 32768, tieWordEmbeddings: Bool = false,
              attentionBias: Bool = false) {
    self.modelType = modelType; self.hiddenSize = hiddenSize; self.intermediateSize = intermediateSize
    self.numHiddenLayers = numHiddenLayers; self.numAttentionHeads = numAttentionHeads
    self.numKeyValueHeads = numKeyValueHeads ?? numAttentionHeads
    self.headDim = headDim ?? hiddenSize / max(1, numAttentionHeads)
    self.rmsNormEps = rmsNormEps; self.ropeTheta = ropeTheta; self.vocabSize = vocabSize
    self.maxPositionEmbeddings = maxPositionEmbeddings; self.tieWordEmbeddings = tieWordEmbeddings
    self.attentionBias = attentionBias
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    modelType = try c.decode(String.self, forKey: .modelType)
    hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
    intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
    numHiddenLayers = try c.decode(Int.self, forKey: .numHiddenLayers)
    numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
    vocabSize = try c.decode(Int.self, forKey: .vocabSize)
    numKeyValueHeads = try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads) ?? numAttentionHeads
    headDim = try c.decodeIfPresent(Int.self, forKey: .headDim) ?? hiddenSize / max(1, numAttentionHeads)
    rmsNormEps = try c.decodeIfPresent(Float.self, forKey: .rmsNormEps) ?? 1e-6
    ropeTheta = try c.decodeIfPresent(Float.self, forKey: .ropeTheta) ?? 10000
    maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 32768
    tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false
    attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? false
  }

  /// Whether q/k/v projections carry biases: always for qwen2, per `attention_bias` for llama.
  public var hasQKVBias: Bool { modelType == "qwen2" || attentionBias }
  /// Whether o_proj carries a bias: llama and qwen3 with `attention_bias`.
  public var hasOutputBias: Bool { (modelType == "llama" || modelType == "qwen3") && attentionBias }
}

// MARK: - Adapter, AnyRes, tokens, chat

/// `projector`: 2x2 downsampling then linear_1 -> GELU -> linear_2.
public struct ProjectorConfig: Codable, Sendable, Equatable {
  public var downsample: Int = 2
  public var hiddenAct: String = "gelu"
  enum CodingKeys: String, CodingKey { case downsample, hiddenAct = "hidden_act" }
  public init() {}
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    downsample = try c.decodeIfPresent(Int.self, forKey: .downsample) ?? 2
    hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "gelu"
  }
}

/// `anyres` as config.json writes it. The Grounding module turns it into a validated
/// `AnyResConfig` for its processor; the engine only carries it.
public struct AnyResSettings: Codable, Sendable, Equatable {
  public var tileSize: Int
  public var maxRows: Int = 4
  public var maxCols: Int = 4
  public var maxTiles: Int = 16
  public var thumbnail: Bool = true
  public var imageMean: [Float] = [0.5, 0.5, 0.5]
  public var imageStd: [Float] = [0.5, 0.5, 0.5]
  public var resample: String = "bicubic"

  enum CodingKeys: String, CodingKey {
    case tileSize = "tile_size", maxRows = "max_rows", maxCols = "max_cols", maxTiles = "max_tiles"
    case thumbnail, imageMean = "image_mean", imageStd = "image_std", resample
  }
  public init(tileSize: Int) { self.tileSize = tileSize }
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    tileSize = try c.decode(Int.self, forKey: .tileSize)
    maxRows = try c.decodeIfPresent(Int.self, forKey: .maxRows) ?? 4
    maxCols = try c.decodeIfPresent(Int.self, forKey: .maxCols) ?? 4
    maxTiles = try c.decodeIfPresent(Int.self, forKey: .maxTiles) ?? 16
    thumbnail = try c.decodeIfPresent(Bool.self, forKey: .thumbnail) ?? true
    imageMean = try c.decodeIfPresent([Float].self, forKey: .imageMean) ?? [0.5, 0.5, 0.5]
    imageStd = try c.decodeIfPresent([Float].self, forKey: .imageStd) ?? [0.5, 0.5, 0.5]
    resample = try c.decodeIfPresent(String.self, forKey: .resample) ?? "bicubic"
  }
}

/// `tokens`: the special-token strings (the tokenizer maps them to ids).
public struct SpecialTokensConfig: Codable, Sendable, Equatable {
  public var imageStart = "<|image_start|>"
  public var imageEnd = "<|image_end|>"
  public var tileNewline = "<|tile_newline|>"
  public var imagePad = "<|image_pad|>"
  public var thinkStart = "[|BlueThink|]"
  public var thinkEnd = "[|/BlueThink|]"
  public var eos = "</s>"

  enum CodingKeys: String, CodingKey {
    case imageStart = "image_start", imageEnd = "image_end", tileNewline = "tile_newline"
    case imagePad = "image_pad", thinkStart = "think_start", thinkEnd = "think_end", eos
  }
  public init() {}
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let d = SpecialTokensConfig()
    imageStart = try c.decodeIfPresent(String.self, forKey: .imageStart) ?? d.imageStart
    imageEnd = try c.decodeIfPresent(String.self, forKey: .imageEnd) ?? d.imageEnd
    tileNewline = try c.decodeIfPresent(String.self, forKey: .tileNewline) ?? d.tileNewline
    imagePad = try c.decodeIfPresent(String.self, forKey: .imagePad) ?? d.imagePad
    thinkStart = try c.decodeIfPresent(String.self, forKey: .thinkStart) ?? d.thinkStart
    thinkEnd = try c.decodeIfPresent(String.self, forKey: .thinkEnd) ?? d.thinkEnd
    eos = try c.decodeIfPresent(String.self, forKey: .eos) ?? d.eos
  }
}

/// `chat`: turn templates; `{content}` is replaced by the user's text.
public struct ChatConfig: Codable, Sendable, Equatable {
  public var user = "[|Human|]:{content}"
  public var assistant = "[|AI|]:"
  public init() {}
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    user = try c.decodeIfPresent(String.self, forKey: .user) ?? "[|Human|]:{content}"
    assistant = try c.decodeIfPresent(String.self, forKey: .assistant) ?? "[|AI|]:"
  }
}
