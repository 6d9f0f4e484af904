import Foundation

/// The special-token ids an image expands into (see the checkpoint format, step 4; Qwen-VL:
/// `<|vision_start|>`, `<|vision_end|>`, `<|image_pad|>`, and no tile newline: -1).
public struct ImageTokenIds: Sendable, Equatable {
  public var imageStart: Int
  public var imageEnd: Int
  public var tileNewline: Int
  public var imagePad: Int
  public init(imageStart: Int, imageEnd: Int, tileNewline: Int, imagePad: Int) {
    self.imageStart = imageStart; self.imageEnd = imageEnd; self.tileNewline = tileNewline; self.imagePad = imagePad
  }
}

/// How a family's images become vision-tower input.
public enum ImageInputLayout: Sendable, Equatable {
  /// AnyRes tiles of `anyres.tileSize`, encoded independently (bluelm_vl).
  case tiles(AnyResSettings, patchSize: Int)
  /// The whole image at its own resolution, resized by `smart_resize` and cut into patches
  /// (Qwen-VL); each `<|image_pad|>` expands to the image's merged tokens.
  case nativeResolution(SmartResize)
}

/// What an image processor needs to know of a vision-language checkpoint.
public struct VisionInput: Sendable, Equatable {
  public var layout: ImageInputLayout
  public var tokenIds: ImageTokenIds

  public init(layout: ImageInputLayout, tokenIds: ImageTokenIds) {
    self.layout = layout; self.tokenIds = tokenIds
  }

  public init(anyres: AnyResSettings, patchSize: Int, tokenIds: ImageTokenIds) {
    self.init(layout: .tiles(anyres, patchSize: patchSize), tokenIds: tokenIds)
  }

  /// The AnyRes settings of a tiling family, nil for native-resolution ones.
  public var anyres: AnyResSettings? {
    if case let .tiles(a, _) = layout { return a }
    return nil
  }

  /// The vision tower's patch side.
  public var patchSize: Int {
    switch layout {
    case let .tiles(_, p): p
    case let .nativeResolution(s): s.patchSize
    }
  }
}

/// A model ready for use: the network, its tokenizer, chat template, thinking markers and stop
/// ids. Everything a command needs to turn text (and images) into text.
public struct LoadedModel: Sendable {
  /// The family name (`bluelm_vl`, `llama`, …).
  public let family: String
  /// Where it was loaded from.
  public let path: String
  public let network: any VisionLanguageModel
  public let tokenizer: Tokenizer
  public let template: ChatTemplate
  public let thinkingMarkers: ThinkingMarkers
  public let eosIds: Set<Int>
  /// Present for families that take images.
  public let vision: VisionInput?
  /// The task prompt the model was trained with (`{instruction}` stands for the task text), when
  /// its checkpoint names one (config.json `prompt_template`).
  public let promptTemplate: String?
  /// What the loader chose where the files left it open (e.g. a GGUF pair's pixel budget), for
  /// the log.
  public let notes: [String]
  /// The mmproj file of a GGUF pair (`path` is then the language-model file).
  public let mmprojPath: String?
  /// How `complete`'s KV cache stores its rows (`LoadOptions.kvCache`).
  public var kvCache: KVCache.Precision = .f16
  let digestCache = WeightsDigestCache()

  public init(family: String, path: String, network: any VisionLanguageModel, tokenizer: Tokenizer,
              template: ChatTemplate, thinkingMarkers: ThinkingMarkers, eosIds: Set<Int>, vision: VisionInput?,
              promptTemplate: String? = nil, notes: [String] = [], mmprojPath: String? = nil) {
    self.family = family; self.path = path; self.network = network; self.tokenizer = tokenizer
    self.template = template; self.thinkingMarkers = thinkingMarkers; self.eosIds = eosIds; self.vision = vision
    self.promptTemplate = promptTemplate; self.notes = notes; self.mmprojPath = mmprojPath
  }
}

// MARK: - Loading

/// Opens a model by path: a checkpoint directory (config.json, safetensors, tokenizer.json) or a
/// single-file format registered in `fileLoaders` (by extension).
public enum ModelLoader {
  public typealias FileLoader = @Sendable (_ url: URL, _ options: LoadOptions, _ threads: Int) throws(EngineError) -> LoadedModel

  /// Single-file formats by lowercase extension.
  public static let fileLoaders: [String: FileLoader] = [
    "gguf": { (url, options, threads) throws(EngineError) in try loadGGUF(url, options: options, threads: threads) },
  ]

  /// Opens `path`: a checkpoint folder, a folder holding a GGUF pair, or a model file
  /// (`options.mmproj`: the mmproj GGUF that goes with a language-model GGUF).
  public static func load(path: String, options: LoadOptions = .init(), threads: Int = 1) throws(EngineError) -> LoadedModel {
    var model = try open(path: path, options: options, threads: threads)
    model.kvCache = options.kvCache
    return model
  }

  private static func open(path: String, options: LoadOptions, threads: Int) throws(EngineError) -> LoadedModel {
    let url = URL(fileURLWithPath: path)
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw .invalidArgument("model path '\(path)' does not exist")
    }
    if let mmproj = options.mmproj, !FileManager.default.fileExists(atPath: mmproj) {
      throw .invalidArgument("mmproj file '\(mmproj)' does not exist")
    }
    if isDirectory.boolValue {
      if !FileManager.default.fileExists(atPath: url.appendingPathComponent("config.json").path),
         let pair = try GGUFPairFolder.find(url) {
        var pairOptions = options
        pairOptions.mmproj = pair.mmproj.path
        return try loadGGUF(pair.model, options: pairOptions, threads: threads)
      }
      guard options.mmproj == nil else {
        throw .invalidArgument("--mmproj goes with a language-model GGUF file; '\(path)' is a checkpoint folder")
      }
      return try loadDirectory(url, options: options, threads: threads)
    }
    let ext = url.pathExtension.lowercased()
    guard let loader = fileLoaders[ext] else {
      throw .invalidArgument("model file '\(path)': unknown format '.\(ext)' (known: \(fileLoaders.keys.sorted().map { "." + $0 }), or a checkpoint directory)")
    }
    return try loader(url, options, threads)
  }

  /// A `bluelm_vl` checkpoint directory.
  static func loadDirectory(_ url: URL, options: LoadOptions, threads: Int) throws(EngineError) -> LoadedModel {
    let data = try ModelRegistry.readConfig(url)
    let type = try ModelRegistry.modelType(data)
    if QwenVisionVariant(rawValue: type) != nil { return try loadQwenVL(url, config: data, options: options, threads: threads) }
    guard type == "bluelm_vl" else {
      throw .badConfig("model_type '\(type)' is not a checkpoint directory family this build knows (bluelm_vl, qwen2_vl, qwen2_5_vl, qwen3_vl)")
    }
    guard options.minPixels == nil, options.maxPixels == nil else {
      throw .invalidArgument("--min-pixels/--max-pixels apply to Qwen-VL models; \(url.path) is a bluelm_vl checkpoint (AnyRes tiles)")
    }
    let config = try BlueLMVLConfig.decode(data)
    let tokenizerURL = url.appendingPathComponent("tokenizer.json")
    let tokenizer: Tokenizer
    do { tokenizer = try Tokenizer.load(jsonAt: tokenizerURL) } catch let e as EngineError { throw e } catch {
      throw .tokenizer("\(tokenizerURL.path): \(error.localizedDescription)")
    }
    let network = try BlueLMVLModel(config: config, weights: options.observed(try SafetensorsCheckpoint(directory: url)),
                                    threads: threads)
    return try blueLMVLLoaded(config: config, tokenizer: tokenizer, network: network, path: url.path, tokenizerName: "tokenizer.json")
  }
}
