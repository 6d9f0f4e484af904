import Foundation

// MARK: - Model: bluelm_vl = SigLIP tower + 2x2 adapter + Llama/Qwen2 decoder
//
// Composes the parts like transformers' LLaVA-style models: the vision tower and adapter turn
// tiles into LM-width embeddings, which replace the embeddings of `image_pad` tokens in order.

/// A loaded `bluelm_vl` checkpoint. Immutable and `Sendable`; per-conversation state lives
/// in a `KVCache` the caller owns.
public struct BlueLMVLModel: VisionLanguageModel {
  public let config: BlueLMVLConfig
  let vision: SiglipVisionTower
  let projector: DownsamplingProjector
  let language: DecoderLM
  /// The optional pointer head (`multi_patch_pointer_head.*`); nil for a text-answer checkpoint.
  let pointerHead: PointerHead?
  /// How the matrices are held: in the checkpoint's stored type (`stored`: bf16 / f16 / GGUF
  /// blocks read in place from the mapping, widened block by block in the products) unless the
  /// checkpoint holds float32 (`float32`: dense BLAS products).
  public let storage: WeightStorage
  /// Threads the model's products and loops are split over. OpenBLAS is set to one thread
  /// per call (process-wide) when a model is made: the engine splits the work itself.
  public let threads: Int
  /// The files the weights are read from, checked before each image and prompt.
  public let weightFiles: [WeightFileRecord]

  /// Loads every tensor named in `BlueLMVLTensorNames` from `weights`, checking shapes, and the
  /// pointer head when config.json names pointer token ids (or the checkpoint holds its tensors).
  /// The matrices of the tower, the adapter and the decoder (embedding table and lm_head
  /// included) are held as `storage` says, by default as `defaultStorage(of:)` chooses.
  /// Errors name the missing tensor or the tensor with the wrong shape.
  public init(config: BlueLMVLConfig, weights: any WeightSource, threads: Int = 1,
              storage: WeightStorage? = nil) throws(EngineError) {
    try config.validate()
    self.config = config
    let storage = storage ?? Self.defaultStorage(of: weights)
    self.storage = storage
    vision = try SiglipVisionTower(weights, config: config.visionConfig, storage: storage)
    projector = try DownsamplingProjector(weights, config: config, storage: storage)
    language = try DecoderLM(weights, config: config.textConfig, storage: storage)
    pointerHead = try PointerHead.load(weights, config: config)
    weightFiles = weights.files
    self.threads = max(1, threads)
    BLAS.setThreads(1)
    HeapSettings.apply()
  }

  /// `float32` when the checkpoint stores its embedding table as float32 (or lacks it), else
  /// `stored`: a bf16 checkpoint stays bf16 in memory (no float32 copy of the model), as the
  /// Qwen-VL loader keeps its matrices.
  public static func defaultStorage(of weights: any WeightSource) -> WeightStorage {
    (weights.info(BlueLMVLTensorNames.embedTokens)?.dtype ?? .f32) == .f32 ? .float32 : .stored
  }

  public var vocabularySize: Int { config.textConfig.vocabSize }
  public var hiddenSize: Int { config.textConfig.hiddenSize }

  /// An empty cache for up to `capacity` positions.
  public func makeCache(capacity: Int, precision: KVCache.Precision) -> KVCache {
    language.makeCache(capacity: capacity, precision: precision)
  }

  // MARK: Vision

  /// Number of tiles in `tiles`, which must hold whole (3, T, T) tiles.
  func tileCount(_ tiles: [Float]) throws(EngineError) -> Int {
    let v = config.visionConfig
    let size = v.numChannels * v.imageSize * v.imageSize
    guard !tiles.isEmpty, tiles.count % size == 0 else {
      throw .invalidArgument("tiles hold \(tiles.count) values, not a positive multiple of \(v.numChannels)x\(v.imageSize)x\(v.imageSize)")
    }
    return tiles.count / size
  }

  /// Vision tower alone: tiles (n, 3, T, T) normalized -> (n, g*g, D_v) after post_layernorm.
  public func visionFeatures(tiles: [Float]) throws(EngineError) -> [Float] {
    vision(tiles, count: try tileCount(tiles), threads: threads)
  }

  /// Tower + adapter: tiles (n, 3, T, T) normalized -> (n*h*h, D_lm), tile after tile,
  /// each tile's tokens row-major.
  public func encodeImages(tiles: [Float]) throws(EngineError) -> [Float] {
    try WeightFileRecord.checkUnchanged(weightFiles)
    let n = try tileCount(tiles)
    return projector(vision(tiles, count: n, threads: threads), tiles: n, threads: threads)
  }

  /// The adapter alone on vision features (n, g*g, D_v) -> (n*h*h, D_lm).
  public func project(visionFeatures: [Float]) throws(EngineError) -> [Float] {
    let per = config.patchGrid * config.patchGrid * config.visionConfig.hiddenSize
    guard !visionFeatures.isEmpty, visionFeatures.count % per == 0 else {
      throw .invalidArgument("vision features hold \(visionFeatures.count) values, not a multiple of \(per)")
    }
    return projector(visionFeatures, tiles: visionFeatures.count / per, threads: threads)
  }

  // MARK: Language

  /// Input embeddings (n, D), image rows at the `imagePadId` positions (see `DecoderLM`).
  func inputEmbeddings(tokens: [Int], imageEmbeddings: [Float]?, imagePadId: Int) throws(EngineError) -> [Float] {
    try language.inputEmbeddings(tokens: tokens, imageEmbeddings: imageEmbeddings, imagePadId: imagePadId)
  }

  /// Runs `tokens` after what `cache` holds; returns the logits (vocab,) of the last position.
  /// Image features (from `encodeImages`) replace the `imagePadId` positions in order; their
  /// count must equal the number of those positions.
  public func prefill(tokens: [Int], imageEmbeddings: [Float]? = nil, imagePadId: Int = -1,
                      cache: inout KVCache) throws(EngineError) -> [Float] {
    try WeightFileRecord.checkUnchanged(weightFiles)
    return try run(tokens: tokens, imageEmbeddings: imageEmbeddings, imagePadId: imagePadId,
                   cache: &cache, allPositions: false)
  }

  /// Like `prefill`, but returns the logits of every new position: (n, vocab).
  public func logits(tokens: [Int], imageEmbeddings: [Float]? = nil, imagePadId: Int = -1,
                     cache: inout KVCache) throws(EngineError) -> [Float] {
    try run(tokens: tokens, imageEmbeddings: imageEmbeddings, imagePadId: imagePadId,
            cache: &cache, allPositions: true)
  }

  /// One token after what `cache` holds -> logits (vocab,).
  public func decode(token: Int, cache: inout KVCache) throws(EngineError) -> [Float] {
    try run(tokens: [token], imageEmbeddings: nil, imagePadId: -1, cache: &cache, allPositions: false)
  }

  private func run(tokens: [Int], imageEmbeddings: [Float]?, imagePadId: Int, cache: inout KVCache,
                   allPositions: Bool) throws(EngineError) -> [Float] {
    guard !tokens.isEmpty else { throw .invalidArgument("no tokens to run") }
    guard cache.layerCount == language.layers.count,
          cache.rowWidth == config.textConfig.numKeyValueHeads * config.textConfig.headDim else {
      throw .invalidArgument("KV cache of \(cache.layerCount) layers x \(cache.rowWidth) does not fit this model")
    }
    try cache.checkRoom(for: tokens.count)
    let x = try inputEmbeddings(tokens: tokens, imageEmbeddings: imageEmbeddings, imagePadId: imagePadId)
    return language.forward(x, rows: tokens.count, cache: &cache, allPositions: allPositions,
                            threads: threads)
  }
}

// MARK: - The interface generation uses

/// What the generator and the grounding layer need from a vision-language model.
public protocol VisionLanguageModel: Sendable {
  var vocabularySize: Int { get }
  /// An empty cache for up to `capacity` positions, its rows stored as `precision`.
  func makeCache(capacity: Int, precision: KVCache.Precision) -> KVCache
  /// Tiles (n, 3, T, T) normalized -> image embeddings (n * tokensPerTile, D_lm).
  func encodeImages(tiles: [Float]) throws(EngineError) -> [Float]
  /// Tokens after the cache's content -> logits (vocab,) of the last one.
  func prefill(tokens: [Int], imageEmbeddings: [Float]?, imagePadId: Int,
               cache: inout KVCache) throws(EngineError) -> [Float]
  /// `prefill` for families whose positions depend on the images' grids (Qwen-VL's M-RoPE):
  /// `imageGrids` in the order of the images' `imagePadId` runs.
  func prefill(tokens: [Int], imageEmbeddings: [Float]?, imageGrids: [ImageGrid], imagePadId: Int,
               cache: inout KVCache) throws(EngineError) -> [Float]
  /// Whole images as patches (N, C*T*P*P) with their grids -> image embeddings, for families
  /// that take images at their own resolution.
  func encodeImages(patches: [Float], grids: [ImageGrid]) throws(EngineError) -> [Float]
  /// One token -> logits (vocab,).
  func decode(token: Int, cache: inout KVCache) throws(EngineError) -> [Float]
  /// The files the weights are read from (empty for weights in memory).
  var weightFiles: [WeightFileRecord] { get }
}

extension VisionLanguageModel {
  public var weightFiles: [WeightFileRecord] { [] }

  /// An empty cache for up to `capacity` positions, its rows stored as binary16 (the default,
  /// as llama.cpp's).
  public func makeCache(capacity: Int) -> KVCache { makeCache(capacity: capacity, precision: .f16) }

  /// Families with 1-D positions: the grids do not matter.
  public func prefill(tokens: [Int], imageEmbeddings: [Float]?, imageGrids: [ImageGrid], imagePadId: Int,
                      cache: inout KVCache) throws(EngineError) -> [Float] {
    try prefill(tokens: tokens, imageEmbeddings: imageEmbeddings, imagePadId: imagePadId, cache: &cache)
  }

  public func encodeImages(patches: [Float], grids: [ImageGrid]) throws(EngineError) -> [Float] {
    throw .invalidArgument("this model takes AnyRes tiles, not whole images as patches")
  }
}
