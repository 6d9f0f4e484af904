// MARK: - Vision: SigLIP encoder over a batch of tiles
//
// Ports transformers' SiglipVisionTransformer (embeddings -> pre-LN encoder layers ->
// post_layernorm). Tiles never attend to each other: they share the linear layers' GEMMs in
// chunks, and attention runs tile by tile. The pooling head (`vision_model.head.*`) is not loaded.

/// One `SiglipEncoderLayer`: x += attn(ln1(x)); x += mlp(ln2(x)).
struct SiglipEncoderLayer: Sendable {
  let norm1: LayerNorm, norm2: LayerNorm
  let q: Linear, k: Linear, v: Linear, out: Linear  // each (D, D) with bias
  let mlp: GELUMLP
  let heads: Int

  init(_ source: any WeightSource, index i: Int, config v: SiglipVisionConfig,
       storage ks: WeightStorage = .float32) throws(EngineError) {
    typealias N = BlueLMVLTensorNames
    let prefix = N.visionLayer(i), d = v.hiddenSize
    norm1 = try LayerNorm(source, prefix + N.VisionLayer.norm1, dim: d, eps: v.layerNormEps)
    norm2 = try LayerNorm(source, prefix + N.VisionLayer.norm2, dim: d, eps: v.layerNormEps)
    q = try Linear(source, prefix + N.VisionLayer.q, in: d, out: d, bias: true, storage: ks)
    k = try Linear(source, prefix + N.VisionLayer.k, in: d, out: d, bias: true, storage: ks)
    self.v = try Linear(source, prefix + N.VisionLayer.v, in: d, out: d, bias: true, storage: ks)
    out = try Linear(source, prefix + N.VisionLayer.out, in: d, out: d, bias: true, storage: ks)
    mlp = GELUMLP(
      fc1: try Linear(source, prefix + N.VisionLayer.fc1, in: d, out: v.intermediateSize, bias: true, storage: ks),
      fc2: try Linear(source, prefix + N.VisionLayer.fc2, in: v.intermediateSize, out: d, bias: true, storage: ks),
      activation: v.hiddenAct == "gelu" ? .erf : .tanh)
    heads = v.numAttentionHeads
  }

  /// x (tiles * S, D) -> (tiles * S, D): the tiles' rows go through the linear layers together
  /// (taller GEMMs), attention stays within each tile (full, bidirectional).
  func callAsFunction(_ x: inout [Float], tiles: Int = 1, tokens s: Int, threads: Int) {
    let d = q.outFeatures, rows = tiles * s
    let h = norm1(x, rows: rows, threads: threads)           // (tiles*S, D)
    let qs = q(h, rows: rows, threads: threads), ks = k(h, rows: rows, threads: threads)  // (tiles*S, D) each
    let vs = v(h, rows: rows, threads: threads)  // (tiles*S, D)
    var attended = [Float](repeating: 0, count: rows * d)    // (tiles*S, D)
    qs.withUnsafeBufferPointer { qp in ks.withUnsafeBufferPointer { kp in
      vs.withUnsafeBufferPointer { vp in attended.withUnsafeMutableBufferPointer { op in
        guard let qb = qp.baseAddress, let kb = kp.baseAddress, let vb = vp.baseAddress, let ob = op.baseAddress else { return }
        // Several tiles: threads take whole tiles (a tower's few heads would leave threads idle).
        let perTile = tiles > 1 ? 1 : threads
        Parallel.ranges(tiles, threads: tiles > 1 ? threads : 1) { range in
          for t in range {
            let o = t * s * d
            Attention.attend(q: qb + o, keys: kb + o, values: vb + o, rows: s, start: 0, heads: heads,
                             kvHeads: heads, headDim: d / heads, causal: false, threads: perTile, out: ob + o)
          }
        }
      } }
    } }
    addInPlace(&x, out(attended, rows: rows, threads: threads))
    let m = mlp(norm2(x, rows: rows, threads: threads), rows: rows, threads: threads)  // (tiles*S, D)
    addInPlace(&x, m)
  }
}

/// x += y (same length).
func addInPlace(_ x: inout [Float], _ y: [Float]) {
  x.withUnsafeMutableBufferPointer { xp in
    y.withUnsafeBufferPointer { yp in
      guard let xb = xp.baseAddress, let yb = yp.baseAddress else { return }
      Vec.add(xb, yb, min(xp.count, yp.count))
    }
  }
}

/// SigLIP vision tower: tiles (n, C, T, T) -> last hidden state (n, g*g, D_v).
struct SiglipVisionTower: Sendable {
  let config: SiglipVisionConfig
  let embedding: PatchEmbedding
  let layers: [SiglipEncoderLayer]
  let postNorm: LayerNorm

  /// `storage`: how the encoder layers' matrices are held (the patch embedding and position
  /// table, a few MB, are float32).
  init(_ source: any WeightSource, config v: SiglipVisionConfig, storage: WeightStorage = .float32) throws(EngineError) {
    typealias N = BlueLMVLTensorNames
    config = v
    let p = v.patchSize, g = v.imageSize / v.patchSize, d = v.hiddenSize
    let conv = try source.tensor(N.patchEmbedding + ".weight", shape: [d, v.numChannels, p, p])
    let convBias = try source.tensor(N.patchEmbedding + ".bias", shape: [d]).data
    embedding = PatchEmbedding(
      projection: Linear(weight: try Tensor(shape: [d, v.numChannels * p * p], data: conv.data), bias: convBias),
      positions: try source.tensor(N.positionEmbedding, shape: [g * g, d]),
      channels: v.numChannels, patchSize: p, grid: g)
    var layers: [SiglipEncoderLayer] = []
    for i in 0..<v.numHiddenLayers { layers.append(try SiglipEncoderLayer(source, index: i, config: v, storage: storage)) }
    self.layers = layers
    postNorm = try LayerNorm(source, N.visionPostNorm, dim: d, eps: v.layerNormEps)
  }

  /// Tiles that go through the encoder layers together: taller GEMMs, while the activations of
  /// a chunk stay a few MB (a 1920 x 1080 screen has 46 tiles).
  static let chunk = 8

  /// tiles (n, C, T, T) normalized, channels first -> (n, g*g, D_v) after post_layernorm.
  /// `mark`, when given, is called as each stage of each chunk ends (the benchmark's clock;
  /// VisionBenchmark).
  func callAsFunction(_ tiles: [Float], count n: Int, threads: Int,
                      mark: ((SiglipVisionStage) -> Void)? = nil) -> [Float] {
    let tileSize = config.numChannels * config.imageSize * config.imageSize
    let g = embedding.grid, d = config.hiddenSize, s = g * g
    var out = [Float](repeating: 0, count: n * s * d)  // (n, g*g, D)
    for first in stride(from: 0, to: n, by: Self.chunk) {
      let count = min(Self.chunk, n - first)
      var x: [Float] = []  // (count*g*g, D)
      x.reserveCapacity(count * s * d)
      for t in first..<(first + count) {
        x += tiles.withUnsafeBufferPointer { embedding($0.baseAddress! + t * tileSize, threads: threads) }  // (g*g, D)
      }
      mark?(.embedded)
      for (i, layer) in layers.enumerated() {
        layer(&x, tiles: count, tokens: s, threads: threads)
        mark?(.layer(i))
      }
      let y = postNorm(x, rows: count * s, threads: threads)
      out.replaceSubrange((first * s * d)..<((first + count) * s * d), with: y)
      mark?(.normalized)
    }
    return out
  }
}

/// Where the tower is when `mark` is called: a chunk's tiles embedded, encoder layer i done,
/// the chunk's post_layernorm done.
enum SiglipVisionStage: Sendable, Equatable {
  case embedded, layer(Int), normalized
}

// MARK: - Adapter: 2x2 downsampling + MLP

/// Merges each 2x2 cell of the (zero-padded to even) g x g grid into one 4*D_v vector in the
/// order (2i,2j), (2i,2j+1), (2i+1,2j), (2i+1,2j+1), then linear_1 -> GELU(erf) -> linear_2.
struct DownsamplingProjector: Sendable {
  let mlp: GELUMLP  // linear_1 (D_lm, 4 D_v), linear_2 (D_lm, D_lm)
  let grid: Int     // g
  let visionWidth: Int

  init(_ source: any WeightSource, config: BlueLMVLConfig, storage: WeightStorage = .float32) throws(EngineError) {
    typealias N = BlueLMVLTensorNames
    let dv = config.visionConfig.hiddenSize, d = config.textConfig.hiddenSize
    mlp = GELUMLP(fc1: try Linear(source, N.projector1, in: 4 * dv, out: d, bias: true, storage: storage),
                  fc2: try Linear(source, N.projector2, in: d, out: d, bias: true, storage: storage),
                  activation: .erf)
    grid = config.patchGrid
    visionWidth = dv
  }

  /// Rearranges features (n, g*g, D_v) -> (n*h*h, 4 D_v), h = ceil(g/2); padding stays zero.
  func merge(_ features: [Float], tiles n: Int) -> [Float] {
    let g = grid, h = (grid + 1) / 2, d = visionWidth
    var merged = [Float](repeating: 0, count: n * h * h * 4 * d)  // (n*h*h, 4 D_v)
    for t in 0..<n {
      for i in 0..<h {
        for j in 0..<h {
          let cell = ((t * h + i) * h + j) * 4 * d
          for (slot, (dy, dx)) in [(0, 0), (0, 1), (1, 0), (1, 1)].enumerated() {
            let y = 2 * i + dy, x = 2 * j + dx
            guard y < g, x < g else { continue }  // zero padding at bottom / right
            let src = (t * g * g + y * g + x) * d
            merged.replaceSubrange((cell + slot * d)..<(cell + (slot + 1) * d),
                                   with: features[src..<(src + d)])
          }
        }
      }
    }
    return merged
  }

  /// features (n, g*g, D_v) -> (n*h*h, D_lm).
  func callAsFunction(_ features: [Float], tiles n: Int, threads: Int) -> [Float] {
    let h = (grid + 1) / 2
    return mlp(merge(features, tiles: n), rows: n * h * h, threads: threads)
  }
}
