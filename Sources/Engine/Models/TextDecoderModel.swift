// MARK: - Model: a decoder-only language model (no vision tower)
//
// The `DecoderLM` of bluelm_vl on its own, for text checkpoints such as a GGUF `llama`
// (SmolLM2). It answers the `VisionLanguageModel` interface so the generator, pipeline and CLI
// take it like any other model; asking it for image embeddings is an error.

/// A loaded text-only decoder. Immutable and `Sendable`; the caller owns the `KVCache`.
public struct TextDecoderModel: VisionLanguageModel {
  public let config: DecoderTextConfig
  let language: DecoderLM
  /// Threads the model's products and loops are split over (OpenBLAS is set to one thread).
  public let threads: Int
  /// The files the weights are read from, checked before each prompt.
  public let weightFiles: [WeightFileRecord]

  /// Loads the decoder from `weights`, read under `BlueLMVLTensorNames`' decoder names, its
  /// matrices held as `storage` says.
  /// - Throws: errors naming the missing tensor or the tensor with the wrong shape.
  public init(config: DecoderTextConfig, weights: any WeightSource, storage: WeightStorage,
              threads: Int = 1) throws(EngineError) {
    self.config = config
    language = try DecoderLM(weights, config: config, storage: storage)
    weightFiles = weights.files
    self.threads = max(1, threads)
    BLAS.setThreads(1)
    HeapSettings.apply()
  }

  /// A GGUF `llama` file: hyperparameters from its metadata, tensors through
  /// `GGUFLlamaWeights`, matrices kept quantized (`storage` `.stored` or `.storedInt8Decode`).
  public init(llamaGGUF file: GGUFFile, storage: WeightStorage = .stored, threads: Int = 1) throws(EngineError) {
    let config = try DecoderTextConfig.llama(gguf: file)
    try self.init(config: config, weights: GGUFLlamaWeights(file, config: config), storage: storage,
                  threads: threads)
  }

  public var vocabularySize: Int { config.vocabSize }
  public var hiddenSize: Int { config.hiddenSize }

  /// An empty cache for up to `capacity` positions.
  public func makeCache(capacity: Int, precision: KVCache.Precision) -> KVCache {
    KVCache(layerCount: config.numHiddenLayers, rowWidth: config.numKeyValueHeads * config.headDim,
            capacity: capacity, precision: precision)
  }

  /// Always throws: the model has no vision tower.
  public func encodeImages(tiles: [Float]) throws(EngineError) -> [Float] {
    throw .invalidArgument("this model has no vision tower: it cannot encode images")
  }

  /// Runs `tokens` after what `cache` holds -> logits (vocab,) of the last position.
  /// Image embeddings must be absent or empty.
  public func prefill(tokens: [Int], imageEmbeddings: [Float]? = nil, imagePadId: Int = -1,
                      cache: inout KVCache) throws(EngineError) -> [Float] {
    if let images = imageEmbeddings, !images.isEmpty {
      throw .invalidArgument("this model has no vision tower: \(images.count) image embedding values given")
    }
    try WeightFileRecord.checkUnchanged(weightFiles)
    return try run(tokens, cache: &cache, allPositions: false)
  }

  /// Like `prefill`, but the logits of every new position: (n, vocab).
  public func logits(tokens: [Int], cache: inout KVCache) throws(EngineError) -> [Float] {
    try run(tokens, cache: &cache, allPositions: true)
  }

  /// One token -> logits (vocab,).
  public func decode(token: Int, cache: inout KVCache) throws(EngineError) -> [Float] {
    try run([token], cache: &cache, allPositions: false)
  }

  private func run(_ tokens: [Int], cache: inout KVCache, allPositions: Bool) throws(EngineError) -> [Float] {
    guard !tokens.isEmpty else { throw .invalidArgument("no tokens to run") }
    guard cache.layerCount == config.numHiddenLayers,
          cache.rowWidth == config.numKeyValueHeads * config.headDim else {
      throw .invalidArgument("KV cache of \(cache.layerCount) layers x \(cache.rowWidth) does not fit this model")
    }
    if let bad = tokens.first(where: { $0 < 0 || $0 >= config.vocabSize }) {
      throw .invalidArgument("token id \(bad) is outside the vocabulary 0..<\(config.vocabSize)")
    }
    try cache.checkRoom(for: tokens.count)
    return language.forward(language.embed(tokens), rows: tokens.count, cache: &cache,
                            allPositions: allPositions, threads: threads)
  }
}
