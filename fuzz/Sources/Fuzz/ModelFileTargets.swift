import Engine
import Foundation
import Grounding

// MARK: - Model files: tokenizer.json, config.json (with its preprocessing settings)

extension FuzzTarget {
  static let modelFileTargets: [FuzzTarget] = [
    FuzzTarget("tokenizer", "tokenizer.json: Tokenizer(jsonData:), then encode, decode and streaming decode",
               maxLength: 64 << 10, dictionary: "tokenizer") { data in
      guard let tokenizer = attempt("tokenizer", { try Tokenizer(jsonData: data) }) else { return }
      exercise(tokenizer)
    },
    FuzzTarget("config", "config.json: BlueLMVLConfig.decode, the model family built on the tiny checkpoint's tensors, its anyres settings, tile plans",
               maxLength: 8 << 10, dictionary: "json", prepare: { _ = tinyWeights }) { data in
      if let config = attempt("config", { try BlueLMVLConfig.decode(data) }) {
        if let anyres = attempt("anyres", { try AnyResConfig(config.anyres) }) { plan(anyres) }
      }
      // What loading a checkpoint does with its config.json: the family by model_type, every
      // tensor checked against the shapes the config implies.
      if let family = ModelRegistry.families["bluelm_vl"] {
        _ = attempt("model", { try family(data, tinyWeights, 1) })
      }
      // The preprocessing settings alone, as the `anyres` object is written.
      if let anyres = attempt("anyres alone", { try JSONDecoder().decode(AnyResConfig.self, from: data) }) { plan(anyres) }
    },
    FuzzTarget("qwen-config", "Qwen-VL config.json and preprocessor_config.json: QwenVLConfig.decode, the family built on the tiny Qwen2.5-VL and Qwen3-VL folders' tensors, SmartResize.decode, smart_resize and M-RoPE positions",
               maxLength: 8 << 10, dictionary: "json", prepare: { _ = tinyQwenWeights }) { data in
      if let config = attempt("qwen config", { try QwenVLConfig.decode(data) }) {
        for (type, weights) in tinyQwenWeights where type == config.family.rawValue {
          if let model = attempt("qwen model", { try QwenVLModel(config: config, weights: weights, threads: 1) }) {
            let m = config.vision.mergeSize
            let grid = ImageGrid(t: 1, h: 2 * m, w: 3 * m)
            let tokens = [1] + Array(repeating: config.imageTokenId, count: grid.tokenCount(merge: m)) + [2]
            _ = attempt("positions", { try model.ropePositions(tokens: tokens, imagePadId: config.imageTokenId, grids: [grid],
                                                               after: model.makeCache(capacity: 1)) })
          }
        }
        // The same bytes as a preprocessor_config.json for this vision tower.
        if let resize = attempt("preprocessor", { try SmartResize.decode(data, vision: config.vision) }) { shapes(resize) }
      }
      if let resize = attempt("preprocessor (defaults)", { try SmartResize.decode(data, vision: defaultQwenVision) }) { shapes(resize) }
    },
  ]

  /// smart_resize and the patch cut for a few image shapes, the extreme aspect ratios included.
  static func shapes(_ resize: SmartResize) {
    for (w, h) in [(1, 1), (13, 7), (1920, 1080), (1080, 2400), (7680, 4320), (300, 1), (1, 201)] {
      guard let size = attempt("smart_resize \(w)x\(h)", { try resize.targetSize(height: h, width: w) }) else { continue }
      if size.width * size.height <= 1 << 16 {
        _ = attempt("patches", { try resize.patches(rgb: [UInt8](repeating: 128, count: size.width * size.height * 3),
                                                   height: size.height, width: size.width) })
      }
    }
  }

  /// The vision settings the tests' tiny Qwen2-VL folder has, for preprocessor files read alone.
  static let defaultQwenVision: QwenVisionConfig = {
    let url = repositoryRoot.appendingPathComponent("Tests/EngineTests/Fixtures/qwen-vl/qwen2_vl/config.json")
    do { return try QwenVLConfig.decode(Data(contentsOf: url)).vision } catch {
      fatalError("fuzz harness: cannot read \(url.path): \(error)")
    }
  }()

  /// The tensors of the tests' tiny Qwen2-VL, Qwen2.5-VL (bf16 shards) and Qwen3-VL folders, by model_type.
  static let tinyQwenWeights: [(String, SafetensorsCheckpoint)] = ["qwen2_vl", "qwen2_5_vl", "qwen3_vl"].map { type in
    let folder = repositoryRoot.appendingPathComponent("Tests/EngineTests/Fixtures/qwen-vl/\(type)")
    do { return (type, try SafetensorsCheckpoint(directory: folder)) } catch {
      fatalError("fuzz harness: cannot open the tiny checkpoint in \(folder.path): \(error)")
    }
  }

  /// The tensors of the tests' tiny random checkpoint (Tests/GroundingTests/Fixtures/tiny-bluelm).
  static let tinyWeights: SafetensorsCheckpoint = {
    let folder = repositoryRoot.appendingPathComponent("Tests/GroundingTests/Fixtures/tiny-bluelm")
    do { return try SafetensorsCheckpoint(directory: folder) } catch {
      fatalError("fuzz harness: cannot open the tiny checkpoint in \(folder.path): \(error)")
    }
  }()

  /// Tile plans for a few screen shapes, and a coordinate through each.
  static func plan(_ config: AnyResConfig) {
    for (w, h) in [(1, 1), (13, 7), (1920, 1080), (1080, 2400), (7680, 4320)] {
      guard let plan = attempt("plan \(w)x\(h)", { try TilePlan(width: w, height: h, config: config) }) else { continue }
      _ = plan.originalPoint(fromCanvas: plan.canvasPoint(fromOriginal: ImagePoint(x: Double(w) / 2, y: Double(h) / 2)))
      _ = try? plan.screenPixel(norm1000X: 500, y: 999)
    }
  }

  /// Encodes texts that touch every stage (spaces, digits, accents, emoji, control characters,
  /// invalid byte sequences as U+FFFD, special-token look-alikes), decodes the ids back, plain
  /// and streaming.
  static func exercise(_ tokenizer: Tokenizer) {
    let samples = ["Hello world", "  leading and trailing  ", "x = 1234567.89", "naïve café ÅÉ\u{301}",
                   "日本語のテキスト 🚀👍🏽", "tab\there\r\nnew line\u{0}\u{7F}", "<|im_start|>user\nhi<|im_end|>",
                   "</s><s>[|BlueThink|]", "\u{FFFD}\u{200B}\u{FEFF}"]
    for s in samples {
      let ids = tokenizer.encode(s)
      _ = tokenizer.encode(s, addSpecialTokens: true)
      _ = tokenizer.decode(ids)
      _ = tokenizer.decode(ids, skipSpecial: true)
      var stream = tokenizer.streamingDecoder()
      for id in ids { _ = stream.step(id) }
      _ = stream.finish()
    }
    // Ids outside the vocabulary, negative ones and the edges.
    _ = tokenizer.decode([-1, 0, tokenizer.vocabularySize - 1, tokenizer.vocabularySize, Int.max, Int.min])
    for id in [-1, 0, tokenizer.vocabularySize] { _ = (tokenizer.token(for: id), tokenizer.isSpecial(id)) }
  }
}
