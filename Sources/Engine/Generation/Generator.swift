import Foundation

// MARK: - Generation parameters and result

/// When to stop and how to choose tokens.
public struct GenerationParameters: Sendable {
  /// Upper bound on generated tokens (the finish reason is `.length` when reached).
  public var maxTokens: Int
  public var sampling: SamplingParameters
  /// Generation stops after emitting any of these ids (the id is included in the result).
  public var eosTokenIds: Set<Int>
  /// Generation stops once the detokenized output contains one of these; needs a
  /// `detokenize` closure.
  public var stopStrings: [String]
  /// How a fresh cache stores its rows.
  public var kvCache: KVCache.Precision

  public init(maxTokens: Int = 256, sampling: SamplingParameters = .greedy,
              eosTokenIds: Set<Int> = [], stopStrings: [String] = [], kvCache: KVCache.Precision = .f16) {
    self.maxTokens = maxTokens; self.sampling = sampling
    self.eosTokenIds = eosTokenIds; self.stopStrings = stopStrings; self.kvCache = kvCache
  }
}

/// Why generation ended.
public enum FinishReason: Sendable, Equatable {
  /// An end-of-sequence id was produced.
  case eos(Int)
  /// The output text came to contain this stop string.
  case stopString(String)
  /// `maxTokens` tokens were produced.
  case length
  /// The streaming callback asked to stop.
  case cancelled
}

/// Generated ids (including a final eos id, if any) and why generation ended.
public struct GenerationResult: Sendable, Equatable {
  public var tokens: [Int]
  public var finishReason: FinishReason
  /// Positions in the cache after generation: the prompt and every generated token but the
  /// last (which was never fed back).
  public var cacheLength: Int
  /// (vocab,) logits at the last prompt position, before any sampling.
  public var promptLogits: [Float] = []
}

// MARK: - Generator

/// Prefill then a sampling loop over `decode`, with streaming. Tokenization stays outside:
/// ids in, ids out, and an optional `detokenize` closure for stop strings.
public struct Generator: Sendable {
  public let model: any VisionLanguageModel
  public var parameters: GenerationParameters

  public init(model: any VisionLanguageModel, parameters: GenerationParameters) {
    self.model = model
    self.parameters = parameters
  }

  /// Generates after `prompt` (and the image embeddings at its `imagePadId` positions).
  /// - cache: when given, generation continues after its content and leaves it filled;
  ///   otherwise a cache sized prompt + maxTokens is made.
  /// - force: asked before each sampling step with the tokens generated so far; a non-nil
  ///   id is emitted instead of a sampled one (e.g. to close a thinking budget).
  /// - detokenize: ids generated so far -> text, for `stopStrings`.
  /// - onToken: called with each new id; return false to stop (finish reason `.cancelled`).
  public func generate(
    prompt: [Int], imageEmbeddings: [Float]? = nil, imageGrids: [ImageGrid] = [], imagePadId: Int = -1,
    cache: inout KVCache,
    force: ([Int]) -> Int? = { _ in nil },
    detokenize: (([Int]) -> String)? = nil,
    onToken: (Int) -> Bool = { _ in true }
  ) throws(EngineError) -> GenerationResult {
    let p = parameters
    guard p.maxTokens > 0 else { throw .invalidArgument("maxTokens \(p.maxTokens) must be positive") }
    if !p.stopStrings.isEmpty && detokenize == nil {
      throw .invalidArgument("stop strings \(p.stopStrings) need a detokenize closure")
    }
    var sampler = try Sampler(p.sampling)
    var logits = try model.prefill(tokens: prompt, imageEmbeddings: imageEmbeddings, imageGrids: imageGrids,
                                   imagePadId: imagePadId, cache: &cache)
    let promptLogits = logits
    var context = prompt
    var generated: [Int] = []
    while true {
      let token = force(generated) ?? sampler.sample(logits: logits, context: context)
      generated.append(token)
      context.append(token)
      let keepGoing = onToken(token)
      if p.eosTokenIds.contains(token) { return finish(generated, .eos(token), cache, promptLogits) }
      if let detokenize, !p.stopStrings.isEmpty {
        let text = detokenize(generated)
        if let hit = p.stopStrings.first(where: { text.contains($0) }) {
          return finish(generated, .stopString(hit), cache, promptLogits)
        }
      }
      if generated.count >= p.maxTokens { return finish(generated, .length, cache, promptLogits) }
      if !keepGoing { return finish(generated, .cancelled, cache, promptLogits) }
      logits = try model.decode(token: token, cache: &cache)
    }
  }

  /// `generate` with a fresh cache of prompt + maxTokens positions.
  public func generate(
    prompt: [Int], imageEmbeddings: [Float]? = nil, imageGrids: [ImageGrid] = [], imagePadId: Int = -1,
    force: ([Int]) -> Int? = { _ in nil },
    detokenize: (([Int]) -> String)? = nil,
    onToken: (Int) -> Bool = { _ in true }
  ) throws(EngineError) -> GenerationResult {
    var cache = model.makeCache(capacity: prompt.count + max(1, parameters.maxTokens), precision: parameters.kvCache)
    return try generate(prompt: prompt, imageEmbeddings: imageEmbeddings, imageGrids: imageGrids,
                        imagePadId: imagePadId, cache: &cache, force: force, detokenize: detokenize, onToken: onToken)
  }

  private func finish(_ tokens: [Int], _ reason: FinishReason, _ cache: KVCache,
                      _ promptLogits: [Float]) -> GenerationResult {
    GenerationResult(tokens: tokens, finishReason: reason, cacheLength: cache.length, promptLogits: promptLogits)
  }
}
