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
  ]

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
