import Dispatch

// MARK: - Engine throughput on a full-width random model

/// Measures the engine at the format's full dimensions with random weights (no files):
/// vision tiles/s (tower + adapter), LM prefill tokens/s and decode tokens/s.
public enum EngineBenchmark {
  public struct Options: Sendable {
    /// Threads for OpenBLAS and the engine's own loops.
    public var threads: Int = 2
    /// Vision encoder layers (the format has 27); fewer keeps a run short on a small machine.
    public var visionLayers: Int = 27
    /// Decoder layers (the format has 30).
    public var textLayers: Int = 30
    public var tiles: Int = 1
    public var promptTokens: Int = 128
    public var decodeTokens: Int = 16
    public var seed: UInt64 = 0
    public init() {}
    /// A quick run: 3 vision layers and 3 decoder layers (full widths and vocabulary).
    public static var reduced: Options {
      var o = Options(); o.visionLayers = 3; o.textLayers = 3; return o
    }
  }

  public struct Result: Sendable {
    public var options: Options
    public var loadSeconds: Double
    public var visionTilesPerSecond: Double
    public var prefillTokensPerSecond: Double
    public var decodeTokensPerSecond: Double
    /// The rates estimated for the format's 27 vision / 30 decoder layers: the time spent in
    /// layers scaled by depth, the final norm + lm_head (timed alone) added once.
    public var fullDepthVisionTilesPerSecond: Double
    public var fullDepthPrefillTokensPerSecond: Double
    public var fullDepthDecodeTokensPerSecond: Double

    /// One line per measurement, for the CLI.
    public var summary: String {
      func f(_ x: Double) -> String { String(Int((x * 100).rounded())).paddedHundredths }
      return """
        engine benchmark: threads \(options.threads), vision layers \(options.visionLayers)/27, \
        decoder layers \(options.textLayers)/30, random weights (load \(f(loadSeconds)) s)
        vision:  \(f(visionTilesPerSecond)) tiles/s (\(options.tiles) tile(s)); full depth ~\(f(fullDepthVisionTilesPerSecond))
        prefill: \(f(prefillTokensPerSecond)) tokens/s (\(options.promptTokens) tokens); full depth ~\(f(fullDepthPrefillTokensPerSecond))
        decode:  \(f(decodeTokensPerSecond)) tokens/s (median of \(options.decodeTokens) steps); full depth ~\(f(fullDepthDecodeTokensPerSecond))
        """
    }
  }

  /// Builds the model from `RandomWeightSource` and times one pass of each stage.
  public static func run(_ options: Options) throws(EngineError) -> Result {
    guard options.visionLayers > 0, options.textLayers > 0, options.tiles > 0,
          options.promptTokens > 0, options.decodeTokens > 0 else {
      throw .invalidArgument("benchmark sizes must be positive: \(options)")
    }
    let config = BlueLMVLConfig.fullSize(visionLayers: options.visionLayers, textLayers: options.textLayers)
    var start = now()
    let model = try BlueLMVLModel(config: config, weights: RandomWeightSource(config: config, seed: options.seed),
                                  threads: options.threads)
    let load = seconds(since: start)

    let v = config.visionConfig
    var random = SeededGenerator(seed: options.seed)
    let tiles = (0..<(options.tiles * v.numChannels * v.imageSize * v.imageSize)).map { _ in
      Float(random.nextUnit() * 2 - 1)
    }  // (n, 3, T, T)
    start = now()
    _ = try model.encodeImages(tiles: tiles)
    let vision = Double(options.tiles) / seconds(since: start)

    let vocab = config.textConfig.vocabSize
    let prompt = (0..<options.promptTokens).map { _ in Int(random.next() % UInt64(vocab)) }
    var cache = model.makeCache(capacity: options.promptTokens + options.decodeTokens)
    start = now()
    var logits = try model.prefill(tokens: prompt, cache: &cache)
    let prefill = Double(options.promptTokens) / seconds(since: start)

    // Medians of per-step times: the machine may be shared, and one slow step should not
    // decide the result.
    var steps: [Double] = []
    for _ in 0..<options.decodeTokens {
      start = now()
      logits = try model.decode(token: Sampler.argmax(logits), cache: &cache)
      steps.append(seconds(since: start))
    }
    let decode = 1 / median(steps)

    // The part of a step that does not grow with depth: final norm + lm_head on one row,
    // timed alone the same number of times.
    let row = Array(logits[0..<config.textConfig.hiddenSize])  // any (1, D) row will do
    var heads: [Double] = []
    for _ in 0..<options.decodeTokens {
      start = now()
      _ = model.language.lmHead(model.language.norm(row, rows: 1), rows: 1, threads: model.threads)
      heads.append(seconds(since: start))
    }
    let head = median(heads)

    func deeper(_ rate: Double, items: Int, fixed: Double, layers: Int, fullLayers: Int) -> Double {
      let perItem = 1 / rate, layerPart = max(0, perItem - fixed / Double(items))
      return 1 / (layerPart * Double(fullLayers) / Double(layers) + fixed / Double(items))
    }
    return Result(
      options: options, loadSeconds: load, visionTilesPerSecond: vision,
      prefillTokensPerSecond: prefill, decodeTokensPerSecond: decode,
      fullDepthVisionTilesPerSecond: deeper(vision, items: 1, fixed: 0, layers: options.visionLayers, fullLayers: 27),
      fullDepthPrefillTokensPerSecond: deeper(prefill, items: options.promptTokens, fixed: head,
                                              layers: options.textLayers, fullLayers: 30),
      fullDepthDecodeTokensPerSecond: deeper(decode, items: 1, fixed: head, layers: options.textLayers, fullLayers: 30))
  }

  private static func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
  }

  private static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
  private static func seconds(since start: UInt64) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
  }
}

private extension String {
  /// "1234" (hundredths) -> "12.34".
  var paddedHundredths: String {
    let digits = count < 3 ? String(repeating: "0", count: 3 - count) + self : self
    return String(digits.dropLast(2)) + "." + String(digits.suffix(2))
  }
}
