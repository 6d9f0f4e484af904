import Foundation

// MARK: - Model: qwen2_vl / qwen2_5_vl / qwen3_vl = native-resolution tower + decoder with M-RoPE
//
// Ports transformers' Qwen2VLForConditionalGeneration, Qwen2_5_VLForConditionalGeneration and
// Qwen3VLForConditionalGeneration for still images: the tower's merged features replace the
// `<|image_pad|>` rows in order, and the decoder turns each head's frequencies with multimodal
// positions: an image's tokens sit at (t, row, column) offsets from the position where the image
// starts, and the text after it continues from that start plus max(rows, columns)
// (`get_rope_index`). Qwen3-VL also adds DeepStack features (from middle tower blocks) to the
// image rows after its first decoder layers.

/// A loaded Qwen2-VL, Qwen2.5-VL or Qwen3-VL checkpoint. Immutable and `Sendable`; per-conversation state
/// (keys, values, the rotary offset) lives in the caller's `KVCache`.
public struct QwenVLModel: VisionLanguageModel {
  public let config: QwenVLConfig
  let vision: QwenVisionTower
  let language: DecoderLM
  /// GUI-Actor's pointer head, when the checkpoint has one.
  let pointerHead: PointerHead?
  public let threads: Int
  public let weightFiles: [WeightFileRecord]

  /// Loads the tower and the decoder from `weights` (either published name layout). Matrices
  /// stay in the file's type (bf16, f16) unless the file holds float32. `int8Decode`: decode
  /// rounds activations to int8 blocks for quantized matrices (`WeightStorage.storedInt8Decode`,
  /// what a GGUF pair loads with by default).
  public init(config: QwenVLConfig, weights: any WeightSource, threads: Int = 1, int8Decode: Bool = false) throws(EngineError) {
    try config.validate()
    self.config = config
    let names = try QwenVLTensorNames(weights)
    let stored = weights.info(names.text + "embed_tokens.weight")?.dtype ?? .f32
    let storage: WeightStorage = stored == .f32 ? .float32 : int8Decode ? .storedInt8Decode : .stored
    vision = try QwenVisionTower(weights, names: names, config: config.vision, storage: storage)
    language = try DecoderLM(names.decoderWeights(weights, layers: config.text.numHiddenLayers), config: config.text,
                             storage: storage,
                             mropeAxes: RotaryEmbedding.mropeAxes(section: config.mropeSection,
                                                                  interleaved: config.family == .qwen3VL))
    pointerHead = try PointerHead.load(weights, width: config.text.hiddenSize, ids: config.pointerTokenIds)
    weightFiles = weights.files
    self.threads = max(1, threads)
    BLAS.setThreads(1)
    HeapSettings.apply()
  }

  public var vocabularySize: Int { config.text.vocabSize }
  public var hiddenSize: Int { config.text.hiddenSize }

  public func makeCache(capacity: Int, precision: KVCache.Precision) -> KVCache {
    language.makeCache(capacity: capacity, precision: precision)
  }

  // MARK: Vision

  /// AnyRes tiles are not this family's input; see `encodeImages(patches:grids:)`.
  public func encodeImages(tiles: [Float]) throws(EngineError) -> [Float] {
    throw .invalidArgument("\(config.family.rawValue) takes whole images as patches with their grids, not AnyRes tiles")
  }

  /// Patches (N, C*T*P*P) of images with `grids` (the processor's output) -> the features of
  /// their `<|image_pad|>` rows: (N / merge^2, (1 + K) * D_lm), each row the merged feature
  /// followed by the K DeepStack features of that token (Qwen3-VL; K = 0 for the others).
  public func encodeImages(patches: [Float], grids: [ImageGrid]) throws(EngineError) -> [Float] {
    try encodeImages(patches: patches, grids: grids, mark: nil)
  }

  /// `encodeImages(patches:grids:)` with the tower's stages reported to `mark` as they end.
  func encodeImages(patches: [Float], grids: [ImageGrid],
                    mark: ((QwenVisionStage) -> Void)?) throws(EngineError) -> [Float] {
    try WeightFileRecord.checkUnchanged(weightFiles)
    let v = config.vision, m = v.mergeSize
    guard !grids.isEmpty else { throw .invalidArgument("no image grids") }
    for g in grids where g.t <= 0 || g.h <= 0 || g.w <= 0 || g.h % m != 0 || g.w % m != 0 || g.patchCount > 1 << 22 {
      throw .invalidArgument("image grid \(g.t)x\(g.h)x\(g.w): each side must be positive and the spatial ones multiples of the merge size \(m)")
    }
    let n = grids.reduce(0) { $0 + $1.patchCount }
    guard patches.count == n * v.patchValues else {
      throw .invalidArgument("\(patches.count) patch values for grids of \(n) patches of \(v.patchValues) values")
    }
    let (merged, deepstack) = vision(patches, grids: grids, threads: threads, mark: mark)
    guard !deepstack.isEmpty else { return merged }
    let d = hiddenSize, rows = merged.count / d, width = (1 + deepstack.count) * d
    var packed = [Float](repeating: 0, count: rows * width)
    for r in 0..<rows {
      packed.replaceSubrange((r * width)..<(r * width + d), with: merged[(r * d)..<((r + 1) * d)])
      for (k, features) in deepstack.enumerated() {
        let o = r * width + (k + 1) * d
        packed.replaceSubrange(o..<(o + d), with: features[(r * d)..<((r + 1) * d)])
      }
    }
    return packed
  }

  /// Values per image token in `encodeImages`' output: the decoder's width, times 1 + the
  /// DeepStack layers.
  public var imageFeatureWidth: Int { (1 + config.vision.deepstackBlocks.count) * hiddenSize }

  // MARK: Positions

  /// The rotary positions (n, 3) of `tokens` appended after `cache`'s content, and the offset
  /// the cache keeps for what follows: text continues one by one; each run of `imagePadId`
  /// takes the next grids in order, its tokens at (start + t, start + row, start + column).
  public func ropePositions(tokens: [Int], imagePadId: Int, grids: [ImageGrid],
                            after cache: KVCache) throws(EngineError) -> (positions: [Int], delta: Int) {
    let m = config.vision.mergeSize
    var positions: [Int] = []
    positions.reserveCapacity(tokens.count * 3)
    var next = cache.length + cache.ropeDelta
    var remaining = grids[...]
    var i = 0
    while i < tokens.count {
      guard tokens[i] == imagePadId else { positions += [next, next, next]; next += 1; i += 1; continue }
      guard let g = remaining.popFirst() else {
        throw .invalidArgument("more <|image_pad|> tokens (id \(imagePadId)) than the \(grids.count) image grids account for")
      }
      let gh = g.h / m, gw = g.w / m
      guard i + g.tokenCount(merge: m) <= tokens.count,
            tokens[i..<(i + g.tokenCount(merge: m))].allSatisfy({ $0 == imagePadId }) else {
        throw .invalidArgument("an image of \(gh)x\(gw) tokens needs \(g.tokenCount(merge: m)) consecutive <|image_pad|> tokens at position \(i)")
      }
      for t in 0..<g.t { for y in 0..<gh { for x in 0..<gw { positions += [next + t, next + y, next + x] } } }
      next += max(gh, gw)
      i += g.tokenCount(merge: m)
    }
    guard remaining.isEmpty else {
      throw .invalidArgument("\(grids.count) image grids but only \(grids.count - remaining.count) images' worth of <|image_pad|> tokens")
    }
    return (positions, next - (cache.length + tokens.count))
  }

  // MARK: Language

  public func prefill(tokens: [Int], imageEmbeddings: [Float]?, imagePadId: Int,
                      cache: inout KVCache) throws(EngineError) -> [Float] {
    try prefill(tokens: tokens, imageEmbeddings: imageEmbeddings, imageGrids: [], imagePadId: imagePadId, cache: &cache)
  }

  public func prefill(tokens: [Int], imageEmbeddings: [Float]?, imageGrids: [ImageGrid], imagePadId: Int,
                      cache: inout KVCache) throws(EngineError) -> [Float] {
    try WeightFileRecord.checkUnchanged(weightFiles)
    return try run(tokens: tokens, imageEmbeddings: imageEmbeddings, grids: imageGrids, imagePadId: imagePadId,
                   cache: &cache, allPositions: false)
  }

  /// Like `prefill`, but the logits of every new position: (n, vocab).
  public func logits(tokens: [Int], imageEmbeddings: [Float]? = nil, imageGrids: [ImageGrid] = [],
                     imagePadId: Int = -1, cache: inout KVCache) throws(EngineError) -> [Float] {
    try run(tokens: tokens, imageEmbeddings: imageEmbeddings, grids: imageGrids, imagePadId: imagePadId,
            cache: &cache, allPositions: true)
  }

  public func decode(token: Int, cache: inout KVCache) throws(EngineError) -> [Float] {
    try run(tokens: [token], imageEmbeddings: nil, grids: [], imagePadId: -1, cache: &cache, allPositions: false)
  }

  private func run(tokens: [Int], imageEmbeddings: [Float]?, grids: [ImageGrid], imagePadId: Int,
                   cache: inout KVCache, allPositions: Bool) throws(EngineError) -> [Float] {
    guard !tokens.isEmpty else { throw .invalidArgument("no tokens to run") }
    let t = config.text
    guard cache.layerCount == language.layers.count, cache.rowWidth == t.numKeyValueHeads * t.headDim else {
      throw .invalidArgument("KV cache of \(cache.layerCount) layers x \(cache.rowWidth) does not fit this model")
    }
    try cache.checkRoom(for: tokens.count)
    let (positions, delta) = try ropePositions(tokens: tokens, imagePadId: imagePadId, grids: grids, after: cache)
    // Split each image row into the merged feature and its DeepStack features.
    let d = hiddenSize, width = imageFeatureWidth, layers = width / d - 1
    var merged = imageEmbeddings, deepstack: DeepstackInput? = nil
    if let images = imageEmbeddings, layers > 0 {
      guard images.count % width == 0 else {
        throw .invalidArgument("image embeddings of \(images.count) values are not rows of \(width) (the merged feature and \(layers) DeepStack features)")
      }
      let rows = images.count / width
      var main = [Float](repeating: 0, count: rows * d)
      var extra = [[Float]](repeating: [Float](repeating: 0, count: rows * d), count: layers)
      for r in 0..<rows {
        main.replaceSubrange((r * d)..<((r + 1) * d), with: images[(r * width)..<(r * width + d)])
        for k in 0..<layers {
          let o = r * width + (k + 1) * d
          extra[k].replaceSubrange((r * d)..<((r + 1) * d), with: images[o..<(o + d)])
        }
      }
      merged = main
      deepstack = DeepstackInput(rows: tokens.indices.filter { tokens[$0] == imagePadId }, features: extra)
    }
    let x = try language.inputEmbeddings(tokens: tokens, imageEmbeddings: merged, imagePadId: imagePadId)
    let out = language.forward(x, rows: tokens.count, cache: &cache, allPositions: allPositions,
                               positions: .axes(positions), deepstack: deepstack, threads: threads)
    cache.ropeDelta = delta
    return out
  }
}

// MARK: - GUI-Actor's pointing pass

extension QwenVLModel: PointingModel {
  public var pointerTokenIds: PointerTokenIds? { pointerHead == nil ? nil : config.pointerTokenIds }

  /// As GUI-Actor's inference: one prefill to the final normed hidden state at `<|pointer_pad|>`
  /// (positions from the images' grids), the head over the image tokens' input embeddings.
  public func pointerScores(tokens: [Int], imageEmbeddings: [Float], imageGrids: [ImageGrid], imagePadId: Int,
                            keyRows: Range<Int>) throws(EngineError) -> PointerScores {
    guard let head = pointerHead, let ids = config.pointerTokenIds else {
      throw .invalidArgument("this checkpoint has no pointer head (multi_patch_pointer_head.*)")
    }
    guard imageFeatureWidth == hiddenSize else {
      throw .invalidArgument("the pointer head is implemented for checkpoints without DeepStack features")
    }
    let d = hiddenSize
    guard imageEmbeddings.count % d == 0 else {
      throw .invalidArgument("\(imageEmbeddings.count) image embedding values are not rows of width \(d)")
    }
    let padRow = try PointerHead.padRow(tokens, ids: ids, keyRows: keyRows, imageRows: imageEmbeddings.count / d)
    try WeightFileRecord.checkUnchanged(weightFiles)
    let clock = ContinuousClock()
    let t0 = clock.now
    let (positions, _) = try ropePositions(tokens: tokens, imagePadId: imagePadId, grids: imageGrids,
                                           after: makeCache(capacity: 1))
    let x = try language.inputEmbeddings(tokens: tokens, imageEmbeddings: imageEmbeddings, imagePadId: imagePadId)
    var cache = makeCache(capacity: tokens.count, precision: .f32)  // prefill only: nothing to gain from f16
    let hidden = language.normedHidden(x, rows: tokens.count, row: padRow, cache: &cache,
                                       positions: .axes(positions), threads: threads)
    let t1 = clock.now
    let rows = Array(imageEmbeddings[(keyRows.lowerBound * d)..<(keyRows.upperBound * d)])
    let (logits, scores) = head.scores(imageRows: rows, count: keyRows.count, hidden: hidden, threads: threads)
    let t2 = clock.now
    return PointerScores(logits: logits, scores: scores, prefillSeconds: (t1 - t0).seconds,
                         headSeconds: (t2 - t1).seconds)
  }
}
