import Foundation

// MARK: - Loading a bluelm_vl GGUF pair
//
// The LM file is a plain llama.cpp `llama` / `qwen2` model (decoder + vocabulary); the mmproj
// (`clip`, projector type `bluelm_vl`) holds the tower, the adapter, the pointer head and the
// checkpoint's whole config.json in `bluelm_vl.config_json`, decoded as for a folder. The
// structural keys of both files are checked against that config, so a pair of two models fails
// naming both files.

extension ModelLoader {
  /// Our projector type for bluelm_vl mmproj files (not one of llama.cpp's).
  static let blueLMVLProjectorType = "bluelm_vl"

  /// `clip.projector_type` of the mmproj at `path`, nil when it is not a clip file.
  static func projectorType(_ path: String) throws(EngineError) -> String? {
    let mm = try GGUFFile(url: URL(fileURLWithPath: path))
    guard mm.string("general.architecture") == "clip" else { return nil }
    return mm.string("clip.projector_type") ?? mm.string("clip.vision.projector_type")
  }

  /// Loads `model` + `mmproj` (projector `bluelm_vl`).
  /// - Throws: errors naming both files and the key that disagrees or is missing.
  static func loadBlueLMVLGGUF(model modelURL: URL, mmproj mmprojURL: URL, options: LoadOptions,
                               threads: Int) throws(EngineError) -> LoadedModel {
    let lm = try GGUFFile(url: modelURL)
    let mm = try GGUFFile(url: mmprojURL)
    let pair = "\(lm.path) + \(mm.path)"
    guard options.minPixels == nil, options.maxPixels == nil else {
      throw .invalidArgument("--min-pixels/--max-pixels apply to Qwen-VL models; \(pair) is a bluelm_vl pair (AnyRes tiles)")
    }
    guard let json = mm.string("bluelm_vl.config_json") else {
      throw .malformedWeights(file: pair, reason: "\(mm.path) has no bluelm_vl.config_json (clip.projector_type bluelm_vl needs it)")
    }
    let config: BlueLMVLConfig
    do throws(EngineError) { config = try BlueLMVLConfig.decode(Data(json.utf8)) } catch {
      throw .malformedWeights(file: mm.path, reason: "bluelm_vl.config_json: \(error)")
    }
    let t = config.textConfig, v = config.visionConfig
    let arch = lm.string("general.architecture") ?? "(none)"
    guard arch == t.modelType else {
      throw .malformedWeights(file: pair, reason: "the language model's general.architecture is '\(arch)', but the mmproj's bluelm_vl config has text model_type '\(t.modelType)': the files belong to different models")
    }
    let checks: [(GGUFFile, String, Int)] = [
      (lm, "\(arch).embedding_length", t.hiddenSize), (lm, "\(arch).block_count", t.numHiddenLayers),
      (lm, "\(arch).feed_forward_length", t.intermediateSize), (lm, "\(arch).attention.head_count", t.numAttentionHeads),
      (lm, "\(arch).attention.head_count_kv", t.numKeyValueHeads),
      (mm, "clip.vision.embedding_length", v.hiddenSize), (mm, "clip.vision.block_count", v.numHiddenLayers),
      (mm, "clip.vision.patch_size", v.patchSize), (mm, "clip.vision.image_size", v.imageSize),
      (mm, "clip.vision.projection_dim", t.hiddenSize),
    ]
    for (file, key, expected) in checks where file.int(key) != expected {
      throw .malformedWeights(file: pair, reason: "\(key) is \(file.int(key).map(String.init) ?? "missing") in \(file.path), but the bluelm_vl config implies \(expected): the files belong to different models")
    }
    let tokenizer = try Tokenizer.gguf(lm)
    let weights = try BlueLMVLGGUFWeights(model: lm, mmproj: mm, config: config)
    let network: BlueLMVLModel
    do throws(EngineError) {
      network = try BlueLMVLModel(config: config, weights: options.observed(weights), threads: threads)
    } catch {
      switch error {
      case let .badTensorShape(name, expected, actual):
        throw .malformedWeights(file: pair, reason: "tensor \(name) has shape \(actual), the config implies \(expected)")
      case let .missingTensor(name):
        let place = BlueLMVLGGUFNames.place(name, text: t).map { "\($0.name) in the \($0.file.rawValue) file" } ?? "none"
        throw .malformedWeights(file: pair, reason: "no tensor for \(name) (GGUF name: \(place))")
      default: throw error
      }
    }
    return try blueLMVLLoaded(config: config, tokenizer: tokenizer, network: network, path: lm.path,
                              tokenizerName: lm.path, mmprojPath: mm.path)
  }

  /// The LoadedModel of a bluelm_vl network, whatever its files: token ids by their text,
  /// checked against the config's pointer ids.
  static func blueLMVLLoaded(config: BlueLMVLConfig, tokenizer: Tokenizer, network: BlueLMVLModel, path: String,
                             tokenizerName: String, mmprojPath: String? = nil) throws(EngineError) -> LoadedModel {
    func id(_ token: String, _ field: String) throws(EngineError) -> Int {
      guard let id = tokenizer.tokenId(for: token) else {
        throw .badConfig("tokens.\(field) '\(token)' is not in \(tokenizerName)")
      }
      return id
    }
    if let pointer = network.pointerTokenIds {
      let expected = [(PointerTokenIds.startText, pointer.start, "pointer_start_token_id"),
                      (PointerTokenIds.padText, pointer.pad, "pointer_pad_token_id"),
                      (PointerTokenIds.endText, pointer.end, "pointer_end_token_id")]
      for (text, id, field) in expected where tokenizer.tokenId(for: text) != id {
        let actual = tokenizer.tokenId(for: text).map { "has id \($0)" } ?? "is not in \(tokenizerName)"
        throw .badConfig("\(field) is \(id), but the token \(text) \(actual)")
      }
    }
    let t = config.tokens
    let ids = ImageTokenIds(imageStart: try id(t.imageStart, "image_start"), imageEnd: try id(t.imageEnd, "image_end"),
                            tileNewline: try id(t.tileNewline, "tile_newline"), imagePad: try id(t.imagePad, "image_pad"))
    let markers = ThinkingMarkers(open: t.thinkStart, close: t.thinkEnd)
    return LoadedModel(
      family: "bluelm_vl", path: path, network: network, tokenizer: tokenizer,
      template: .blueLM(config.chat), thinkingMarkers: markers, eosIds: [try id(t.eos, "eos")],
      vision: VisionInput(anyres: config.anyres, patchSize: config.visionConfig.patchSize, tokenIds: ids),
      promptTemplate: config.promptTemplate, mmprojPath: mmprojPath)
  }
}
