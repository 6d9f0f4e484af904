// MARK: - Language: Llama / Qwen2 decoder with a KV cache
//
// Ports transformers' LlamaDecoderLayer / Qwen2DecoderLayer (pre-RMSNorm, RoPE rotate-half,
// grouped-query attention, SwiGLU) for a block of n new tokens appended to the cache.
// The same code serves every loader: it reads `BlueLMVLTensorNames`' decoder names, which a
// loader of another layout maps its own names onto (GGUFLlamaWeights for GGUF). `storage`
// says whether the matrices stay in the file's type (GGUF blocks) or become float32.

/// One decoder layer: x += o(attn(rope(q), rope(k), v)) over rmsnorm(x); x += mlp(rmsnorm(x)).
struct DecoderLayer: Sendable {
  let inputNorm: RMSNorm, postNorm: RMSNorm
  let q: Linear  // (Hq*hd, D)
  let k: Linear  // (Hkv*hd, D)
  let v: Linear  // (Hkv*hd, D)
  let o: Linear  // (D, Hq*hd)
  let mlp: SwiGLUMLP
  /// Qwen3: RMSNorm over each head of q and k, before RoPE (nil for Llama / Qwen2).
  let qNorm: RMSNorm?, kNorm: RMSNorm?
  let heads: Int, kvHeads: Int, headDim: Int

  init(_ source: any WeightSource, index i: Int, config t: DecoderTextConfig,
       storage ks: WeightStorage) throws(EngineError) {
    typealias N = BlueLMVLTensorNames
    let prefix = N.textLayer(i), d = t.hiddenSize
    let qDim = t.numAttentionHeads * t.headDim, kvDim = t.numKeyValueHeads * t.headDim
    inputNorm = try RMSNorm(source, prefix + N.TextLayer.inputNorm, dim: d, eps: t.rmsNormEps)
    postNorm = try RMSNorm(source, prefix + N.TextLayer.postNorm, dim: d, eps: t.rmsNormEps)
    q = try Linear(source, prefix + N.TextLayer.q, in: d, out: qDim, bias: t.hasQKVBias, storage: ks)
    k = try Linear(source, prefix + N.TextLayer.k, in: d, out: kvDim, bias: t.hasQKVBias, storage: ks)
    v = try Linear(source, prefix + N.TextLayer.v, in: d, out: kvDim, bias: t.hasQKVBias, storage: ks)
    o = try Linear(source, prefix + N.TextLayer.o, in: qDim, out: d, bias: t.hasOutputBias, storage: ks)
    mlp = SwiGLUMLP(
      gate: try Linear(source, prefix + N.TextLayer.gate, in: d, out: t.intermediateSize, bias: false, storage: ks),
      up: try Linear(source, prefix + N.TextLayer.up, in: d, out: t.intermediateSize, bias: false, storage: ks),
      down: try Linear(source, prefix + N.TextLayer.down, in: t.intermediateSize, out: d, bias: false, storage: ks))
    if t.modelType == "qwen3" {
      qNorm = try RMSNorm(source, prefix + N.TextLayer.qNorm, dim: t.headDim, eps: t.rmsNormEps)
      kNorm = try RMSNorm(source, prefix + N.TextLayer.kNorm, dim: t.headDim, eps: t.rmsNormEps)
    } else {
      qNorm = nil; kNorm = nil
    }
    heads = t.numAttentionHeads; kvHeads = t.numKeyValueHeads; headDim = t.headDim
  }

  /// x (n, D) at positions cache.length ..< cache.length + n; writes this layer's K/V rows.
  /// The caller advances `cache.length` after the last layer.
  /// `positions`: the rotary positions of the n rows (nil: cache.length ..< cache.length + n).
  func callAsFunction(_ x: inout [Float], rows n: Int, layer l: Int, cache: inout KVCache,
                      rope: RotaryEmbedding, positions: RotaryPositions? = nil, threads: Int) {
    let at = positions ?? .sequential(start: cache.length)
    let h = inputNorm(x, rows: n)                        // (n, D)
    let qkv = Linear.products([q, k, v], h, rows: n, threads: threads)
    var qs = qkv[0]  // (n, Hq*hd)
    var ks = qkv[1]  // (n, Hkv*hd)
    var vs = qkv[2]  // (n, Hkv*hd)
    if let qNorm, let kNorm {  // each head's row of hd values
      qs = qNorm(qs, rows: n * heads)
      ks = kNorm(ks, rows: n * kvHeads)
    }
    qs.withUnsafeMutableBufferPointer { qp in ks.withUnsafeMutableBufferPointer { kp in
      rope.apply(queries: qp.baseAddress!, heads: heads, keys: kp.baseAddress!, kvHeads: kvHeads, rows: n, positions: at)
    } }
    let attended = cache.appendAndAttend(layer: l, queries: qs, keys: &ks, values: &vs, rows: n,
                                         heads: heads, kvHeads: kvHeads, headDim: headDim, threads: threads)
    addInPlace(&x, o(attended, rows: n, threads: threads))
    addInPlace(&x, mlp(postNorm(x, rows: n), rows: n, threads: threads))
  }
}

/// The causal LM: embed_tokens -> layers -> norm -> lm_head (or embed_tokens when tied).
struct DecoderLM: Sendable {
  let config: DecoderTextConfig
  let embedTokens: Linear.Weight  // (vocab, D)
  let layers: [DecoderLayer]
  let norm: RMSNorm
  let lmHead: Linear       // (vocab, D); shares embed_tokens' storage when tied
  let rope: RotaryEmbedding

  init(_ source: any WeightSource, config t: DecoderTextConfig, storage: WeightStorage = .float32,
       mropeAxes: [Int]? = nil) throws(EngineError) {
    typealias N = BlueLMVLTensorNames
    config = t
    let shape = [t.vocabSize, t.hiddenSize]
    embedTokens = try Linear.load(source, N.embedTokens, shape: shape, storage: storage)
    var layers: [DecoderLayer] = []
    for i in 0..<t.numHiddenLayers {
      layers.append(try DecoderLayer(source, index: i, config: t, storage: storage))
    }
    self.layers = layers
    norm = try RMSNorm(source, N.finalNorm, dim: t.hiddenSize, eps: t.rmsNormEps)
    lmHead = t.tieWordEmbeddings
      ? Linear(embedTokens, bias: nil)
      : Linear(try Linear.load(source, N.lmHead, shape: shape, storage: storage), bias: nil)
    rope = RotaryEmbedding(headDim: t.headDim, theta: t.ropeTheta, axisOfFrequency: mropeAxes)
  }

  /// Rows of embed_tokens for `tokens` -> (n, D). Ids are checked by the caller.
  func embed(_ tokens: [Int]) -> [Float] {
    let d = config.hiddenSize
    var x = [Float](repeating: 0, count: tokens.count * d)  // (n, D)
    switch embedTokens {
    case let .dense(table):
      for (r, id) in tokens.enumerated() {
        x.replaceSubrange((r * d)..<((r + 1) * d), with: table.data[(id * d)..<((id + 1) * d)])
      }
    case let .quantized(table, _):
      x.withUnsafeMutableBufferPointer { xp in
        guard let xb = xp.baseAddress else { return }
        for (r, id) in tokens.enumerated() { table.dequantizeRow(id, into: xb + r * d) }
      }
    }
    return x
  }

  /// An empty cache for up to `capacity` positions.
  func makeCache(capacity: Int, precision: KVCache.Precision) -> KVCache {
    KVCache(layerCount: config.numHiddenLayers, rowWidth: config.numKeyValueHeads * config.headDim, capacity: capacity,
            precision: precision)
  }

  /// Input embeddings (n, D): embed_tokens rows, with the rows of `imageEmbeddings` (m, D)
  /// placed at the m positions holding `imagePadId`, in order. Ids and counts are checked.
  func inputEmbeddings(tokens: [Int], imageEmbeddings: [Float]?, imagePadId: Int) throws(EngineError) -> [Float] {
    let vocab = config.vocabSize, d = config.hiddenSize
    if let bad = tokens.first(where: { $0 < 0 || $0 >= vocab }) {
      throw .invalidArgument("token id \(bad) is outside the vocabulary 0..<\(vocab)")
    }
    var x = embed(tokens)  // (n, D)
    let padPositions = tokens.indices.filter { tokens[$0] == imagePadId }
    let images = imageEmbeddings ?? []
    guard images.count % d == 0, images.count / d == padPositions.count else {
      throw .invalidArgument("\(padPositions.count) image_pad tokens (id \(imagePadId)) but \(images.count / d) image embeddings of width \(d) (\(images.count) values)")
    }
    for (row, position) in padPositions.enumerated() {
      x.replaceSubrange((position * d)..<((position + 1) * d), with: images[(row * d)..<((row + 1) * d)])
    }
    return x
  }

  /// x (n, D) appended at cache.length -> logits (vocab,) of the last row, or (n, vocab) of
  /// every row when `allPositions`.
  func forward(_ input: [Float], rows n: Int, cache: inout KVCache, allPositions: Bool,
               positions: RotaryPositions? = nil, deepstack: DeepstackInput? = nil, threads: Int) -> [Float] {
    let x = layersForward(input, rows: n, cache: &cache, positions: positions, deepstack: deepstack, threads: threads)
    let d = config.hiddenSize
    let kept = allPositions ? x : Array(x[((n - 1) * d)..<(n * d)])  // (rows, D)
    let rows = allPositions ? n : 1
    return lmHead(norm(kept, rows: rows), rows: rows, threads: threads)  // (rows, vocab)
  }

  /// x (n, D) appended at cache.length -> the final-normed hidden state (D,) of row `row`
  /// (what the pointer head queries; lm_head is not applied).
  func normedHidden(_ input: [Float], rows n: Int, row: Int, cache: inout KVCache,
                    positions: RotaryPositions? = nil, threads: Int) -> [Float] {
    let x = layersForward(input, rows: n, cache: &cache, positions: positions, threads: threads)
    let d = config.hiddenSize
    return norm(Array(x[(row * d)..<((row + 1) * d)]), rows: 1)
  }

  /// x (n, D) through every layer (writing their K/V rows); advances `cache.length` by n.
  private func layersForward(_ input: [Float], rows n: Int, cache: inout KVCache,
                             positions: RotaryPositions?, deepstack: DeepstackInput? = nil, threads: Int) -> [Float] {
    var x = input
    let d = config.hiddenSize
    for (l, layer) in layers.enumerated() {
      layer(&x, rows: n, layer: l, cache: &cache, rope: rope, positions: positions, threads: threads)
      if let deepstack, l < deepstack.features.count {
        // Qwen3-VL: the l-th DeepStack features added to the image rows after layer l.
        for (i, row) in deepstack.rows.enumerated() {
          for c in 0..<d { x[row * d + c] += deepstack.features[l][i * d + c] }
        }
      }
    }
    cache.length += n
    return x
  }
}

/// Qwen3-VL's DeepStack input to a prefill: the rows of the block that hold image tokens, and per
/// decoder layer k < features.count the (rows.count, D) features added to them after layer k.
struct DeepstackInput: Sendable {
  let rows: [Int]
  let features: [[Float]]
}
