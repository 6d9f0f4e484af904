import Dispatch

// MARK: - Generation throughput on a real model file

/// Measures prefill and decode of a real model (e.g. a GGUF file) on fixed token ids, the same
/// ids scripts/bench/generate_llamacpp.py feeds llama.cpp, so the two rates compare directly.
public enum GenerateBenchmark {
  public struct Result: Sendable, Equatable {
    public var path: String
    public var threads: Int
    public var storage: WeightStorage
    public var kvCache: KVCache.Precision
    public var promptTokens: Int
    public var decodeTokens: Int
    public var loadSeconds: Double
    public var prefillTokensPerSecond: Double
    /// 1 / the median decode step.
    public var decodeTokensPerSecond: Double
    public var decodeMillisecondsPerToken: Double { 1000 / decodeTokensPerSecond }

    /// One line per measurement, for the CLI.
    public var summary: String {
      func f(_ x: Double) -> String { String(Double(Int((x * 10).rounded())) / 10) }
      return """
        generate benchmark: \(path), threads \(threads), \(storage), KV cache \(kvCache.rawValue)
        load:    \(f(loadSeconds * 1000)) ms
        prefill: \(f(prefillTokensPerSecond)) tokens/s (\(promptTokens) tokens)
        decode:  \(f(decodeTokensPerSecond)) tokens/s, \(f(decodeMillisecondsPerToken)) ms/token (median of \(decodeTokens) steps)
        """
    }
  }

  /// Prompt token i: 100 + 37 i mod 10000 (ids inside any real vocabulary, no special tokens
  /// of SmolLM2 / Llama families, no long runs of one id). Shared with the llama.cpp script.
  public static func promptIds(count: Int) -> [Int] { (0..<count).map { 100 + ($0 * 37) % 10_000 } }
  /// Decode step i is fed 200 + i, whatever the model predicts (both sides do the same work).
  public static func decodeIds(count: Int) -> [Int] { (0..<count).map { 200 + $0 } }

  /// Loads `path` (any `ModelLoader` format), warms up with 8 tokens, then times one prefill of
  /// `promptTokens` and `decodeTokens` single-token steps. `storage`: `.storedInt8Decode` (the
  /// GGUF default) or `.stored` (float decode) load through `ModelLoader`; `.float32` widens a
  /// GGUF text model's matrices at load. `kvCache`: how the cache stores its rows.
  /// - Throws: `invalidArgument` for non-positive sizes; load errors.
  public static func run(path: String, threads: Int, promptTokens: Int, decodeTokens: Int,
                         storage: WeightStorage = .storedInt8Decode,
                         kvCache: KVCache.Precision = .f16) throws(EngineError) -> Result {
    guard threads > 0, promptTokens > 0, decodeTokens > 0 else {
      throw .invalidArgument("benchmark sizes must be positive: threads \(threads), prompt \(promptTokens), decode \(decodeTokens)")
    }
    var start = now()
    let network: any VisionLanguageModel
    if storage != .float32 {
      network = try ModelLoader.load(path: path, options: LoadOptions(floatDecode: storage == .stored), threads: threads).network
    } else {
      network = try TextDecoderModel(llamaGGUF: try GGUFFile(path: path), storage: storage, threads: threads)
    }
    let load = seconds(since: start)
    var cache = network.makeCache(capacity: promptTokens + decodeTokens, precision: kvCache)
    _ = try network.prefill(tokens: promptIds(count: 8), imageEmbeddings: nil, imagePadId: -1, cache: &cache)
    cache.truncate(to: 0)

    start = now()
    _ = try network.prefill(tokens: promptIds(count: promptTokens), imageEmbeddings: nil, imagePadId: -1, cache: &cache)
    let prefill = Double(promptTokens) / seconds(since: start)
    // Median of per-step times: the machine may be shared, and one slow step should not decide.
    var steps: [Double] = []
    for id in decodeIds(count: decodeTokens) {
      start = now()
      _ = try network.decode(token: id, cache: &cache)
      steps.append(seconds(since: start))
    }
    steps.sort()
    return Result(path: path, threads: threads, storage: storage, kvCache: kvCache, promptTokens: promptTokens,
                  decodeTokens: decodeTokens, loadSeconds: load, prefillTokensPerSecond: prefill,
                  decodeTokensPerSecond: 1 / steps[steps.count / 2])
  }

  private static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
  private static func seconds(since start: UInt64) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
  }
}
