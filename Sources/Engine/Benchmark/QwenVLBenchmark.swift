import Dispatch

// MARK: - Qwen-VL: time to first token on one screenshot, decode rate

/// Times a loaded Qwen2-VL / Qwen2.5-VL / Qwen3-VL folder on one image that the caller has
/// already resized to smart_resize's size (resizing needs the image type, which the engine does
/// not know): patches, the vision tower with each block on its own clock, the prefill of the whole
/// prompt, and greedy decode steps. `Timings.fullDepth` scales the tower and the decoder to a
/// full depth the way `EngineBenchmark` does: the time in layers times full / used, the rest once.
public enum QwenVLBenchmark {
  /// The depth to estimate for: the published model the reduced folder was cut from.
  public struct FullDepth: Sendable, Equatable {
    public var visionLayers: Int
    public var textLayers: Int
    /// Blocks that attend over the whole image (Qwen2.5-VL: 4 of 32; the other families: all).
    public var visionFullAttentionLayers: Int
    public init(visionLayers: Int, textLayers: Int, visionFullAttentionLayers: Int) {
      self.visionLayers = visionLayers; self.textLayers = textLayers
      self.visionFullAttentionLayers = visionFullAttentionLayers
    }
  }

  /// One timed pass in the pieces the full-depth estimate needs; the anchor's report fills the
  /// same struct, so both sides are scaled by one rule.
  public struct Timings: Sendable, Equatable {
    /// Resize, patches, tokens (everything before the tower).
    public var preprocessSeconds: Double
    /// The whole tower: patch embedding, blocks, DeepStack mergers, merger.
    public var visionSeconds: Double
    /// Each block of the tower that attended in windows, and each that attended over the image.
    public var windowBlockSeconds: [Double]
    public var fullBlockSeconds: [Double]
    /// The prefill of the whole prompt, and the part of it spent in decoder layers.
    public var prefillSeconds: Double
    public var prefillLayerSeconds: Double
    /// The median decode step, and the part of it spent in decoder layers.
    public var decodeStepSeconds: Double
    public var decodeLayerSeconds: Double
    public var textLayers: Int

    public init(preprocessSeconds: Double, visionSeconds: Double, windowBlockSeconds: [Double],
                fullBlockSeconds: [Double], prefillSeconds: Double, prefillLayerSeconds: Double,
                decodeStepSeconds: Double, decodeLayerSeconds: Double, textLayers: Int) {
      self.preprocessSeconds = preprocessSeconds; self.visionSeconds = visionSeconds
      self.windowBlockSeconds = windowBlockSeconds; self.fullBlockSeconds = fullBlockSeconds
      self.prefillSeconds = prefillSeconds; self.prefillLayerSeconds = prefillLayerSeconds
      self.decodeStepSeconds = decodeStepSeconds; self.decodeLayerSeconds = decodeLayerSeconds
      self.textLayers = textLayers
    }

    /// Time to first token: preprocessing, the tower and the prefill.
    public var ttftSeconds: Double { preprocessSeconds + visionSeconds + prefillSeconds }
    public var decodeTokensPerSecond: Double { 1 / decodeStepSeconds }

    /// The same pass at `full` depth: each kind of block at its measured mean times its count
    /// there (a kind not measured takes the mean of all blocks), decoder layers times
    /// full / used; the embedding, mergers, final norm and lm_head once.
    public func fullDepth(_ full: FullDepth) -> Timings {
      let blocks = windowBlockSeconds + fullBlockSeconds
      func mean(_ xs: [Double]) -> Double { xs.isEmpty ? (blocks.isEmpty ? 0 : blocks.reduce(0, +) / Double(blocks.count)) : xs.reduce(0, +) / Double(xs.count) }
      let fullCount = min(full.visionFullAttentionLayers, full.visionLayers)
      let windows = [Double](repeating: mean(windowBlockSeconds), count: full.visionLayers - fullCount)
      let fulls = [Double](repeating: mean(fullBlockSeconds), count: fullCount)
      let rest = max(0, visionSeconds - blocks.reduce(0, +))
      let scale = Double(full.textLayers) / Double(max(textLayers, 1))
      func deeper(_ total: Double, _ layers: Double) -> (Double, Double) {
        (max(0, total - layers) + layers * scale, layers * scale)
      }
      let prefill = deeper(prefillSeconds, prefillLayerSeconds), decode = deeper(decodeStepSeconds, decodeLayerSeconds)
      return Timings(preprocessSeconds: preprocessSeconds, visionSeconds: rest + windows.reduce(0, +) + fulls.reduce(0, +),
                     windowBlockSeconds: windows, fullBlockSeconds: fulls, prefillSeconds: prefill.0,
                     prefillLayerSeconds: prefill.1, decodeStepSeconds: decode.0, decodeLayerSeconds: decode.1,
                     textLayers: full.textLayers)
    }
  }

  public struct Result: Sendable {
    public var family: String
    public var grid: ImageGrid
    /// `<|image_pad|>` rows the image became, and the whole prompt's length.
    public var imageTokens: Int
    public var promptTokens: Int
    public var visionLayers: Int
    public var decodeTokens: Int
    public var timings: Timings
    /// The final norm + lm_head on one row (the non-layer part of prefill and decode), median.
    public var headSeconds: Double
    /// The greedy tokens the decode steps fed (the first chosen from `promptLogits`), for
    /// comparing weight formats on the same prompt.
    public var greedyIds: [Int]
    /// The logits after the whole prompt (vocabulary long).
    public var promptLogits: [Float]
  }

  /// Runs one pass. `rgb` is (height, width, 3) at smart_resize's size; `promptIds` hold exactly
  /// one `<|image_pad|>` (expanded here to the image's tokens); `preprocessSeconds` is what the
  /// caller spent on resizing and tokenizing (patches are added to it).
  /// - Throws: `invalidArgument` for a model that is not a Qwen-VL folder, a prompt without
  ///   exactly one image placeholder, or an image not at the processor's size.
  public static func run(model: LoadedModel, rgb: [UInt8], width: Int, height: Int, promptIds: [Int],
                         preprocessSeconds: Double, decodeTokens: Int) throws(EngineError) -> Result {
    guard let network = model.network as? QwenVLModel,
          let vision = model.vision, case let .nativeResolution(resize) = vision.layout else {
      throw .invalidArgument("\(model.path) is a \(model.family) model; bench qwen-vl takes a qwen2_vl, qwen2_5_vl or qwen3_vl folder")
    }
    guard decodeTokens > 0 else { throw .invalidArgument("decode tokens must be positive, not \(decodeTokens)") }
    let pad = vision.tokenIds.imagePad
    let placeholders = promptIds.count { $0 == pad }
    guard placeholders == 1 else {
      throw .invalidArgument("the prompt holds \(placeholders) <|image_pad|> tokens (id \(pad)); the benchmark needs one")
    }
    let target = try resize.targetSize(height: height, width: width)
    guard target.height == height, target.width == width else {
      throw .invalidArgument("image \(width)x\(height) is not at smart_resize's size \(target.width)x\(target.height); resize it first")
    }

    var start = now()
    let (patches, grid) = try resize.patches(rgb: rgb, height: height, width: width)
    let imageTokens = grid.tokenCount(merge: resize.mergeSize)
    var ids: [Int] = []
    for id in promptIds { if id == pad { ids += Array(repeating: pad, count: imageTokens) } else { ids.append(id) } }
    let preprocess = preprocessSeconds + seconds(since: start)

    let clock = StageClock()
    start = now()
    clock.last = start
    let embeddings = try network.encodeImages(patches: patches, grids: [grid], mark: { clock.record($0) })
    let visionSeconds = seconds(since: start)

    var cache = network.makeCache(capacity: ids.count + decodeTokens + 1, precision: model.kvCache)
    start = now()
    var logits = try network.prefill(tokens: ids, imageEmbeddings: embeddings, imageGrids: [grid],
                                     imagePadId: pad, cache: &cache)
    let prefill = seconds(since: start)
    let promptLogits = logits
    var greedy: [Int] = []
    // Medians of per-step times: the machine may be shared, and one slow step should not decide.
    var steps: [Double] = []
    for _ in 0..<decodeTokens {
      start = now()
      let token = Sampler.argmax(logits)
      logits = try network.decode(token: token, cache: &cache)
      steps.append(seconds(since: start))
      greedy.append(token)
    }
    // The part of prefill and decode that does not grow with depth: final norm + lm_head on one
    // row, timed alone (as EngineBenchmark does).
    let lm = network.language, row = [Float](repeating: 0.5, count: lm.config.hiddenSize)
    var heads: [Double] = []
    for _ in 0..<max(3, min(decodeTokens, 16)) {
      start = now()
      _ = lm.lmHead(lm.norm(row, rows: 1), rows: 1, threads: network.threads)
      heads.append(seconds(since: start))
    }
    let head = median(heads), step = median(steps)
    let timings = Timings(
      preprocessSeconds: preprocess, visionSeconds: visionSeconds, windowBlockSeconds: clock.windowBlocks,
      fullBlockSeconds: clock.fullBlocks, prefillSeconds: prefill, prefillLayerSeconds: max(0, prefill - head),
      decodeStepSeconds: step, decodeLayerSeconds: max(0, step - head), textLayers: lm.layers.count)
    return Result(family: model.family, grid: grid, imageTokens: imageTokens, promptTokens: ids.count,
                  visionLayers: network.config.vision.depth, decodeTokens: decodeTokens, timings: timings,
                  headSeconds: head, greedyIds: greedy, promptLogits: promptLogits)
  }

  /// Receives the tower's stage ends; a class so that the (escaping) closure can fill it.
  private final class StageClock {
    var last: UInt64 = 0
    var windowBlocks: [Double] = [], fullBlocks: [Double] = []
    func record(_ stage: QwenVisionStage) {
      let t = now(), elapsed = Double(t - last) / 1e9
      last = t
      if case let .block(_, full) = stage {
        if full { fullBlocks.append(elapsed) } else { windowBlocks.append(elapsed) }
      }
    }
  }

  static func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
  }

  private static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
  private static func seconds(since start: UInt64) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
  }
}
