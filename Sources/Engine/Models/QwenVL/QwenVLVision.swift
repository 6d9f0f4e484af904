import Foundation

// MARK: - Vision: the Qwen2-VL / Qwen2.5-VL tower over patches at the image's own resolution
//
// Ports transformers' Qwen2VisionTransformerPretrainedModel and
// Qwen2_5_VisionTransformerPretrainedModel: a linear patch embedding (the Conv3d over
// (C, T, P, P) patches), 2-D rotary positions (height on the first quarter of each head's
// frequencies, width on the second), pre-norm blocks with bidirectional attention inside one
// image (Qwen2.5-VL: inside windows of `window_size` pixels, but in `fullatt_block_indexes`), and
// the merger: 2x2 neighbouring patches (consecutive in the processor's order) concatenated and
// projected to the decoder's width.

/// The tower's norms: LayerNorm (Qwen2-VL) or RMSNorm (Qwen2.5-VL), eps 1e-6.
enum QwenVisionNorm: Sendable {
  case layer(LayerNorm)
  case rms(RMSNorm)

  init(_ source: any WeightSource, _ prefix: String, dim: Int, variant: QwenVisionVariant) throws(EngineError) {
    switch variant {
    case .qwen2VL, .qwen3VL: self = .layer(try LayerNorm(source, prefix, dim: dim, eps: 1e-6))
    case .qwen2_5VL: self = .rms(try RMSNorm(source, prefix + ".weight", dim: dim, eps: 1e-6))
    }
  }

  func callAsFunction(_ x: [Float], rows: Int, threads: Int) -> [Float] {
    switch self {
    case let .layer(n): n(x, rows: rows, threads: threads)
    case let .rms(n): n(x, rows: rows)
    }
  }
}

/// The block MLP: fc1 -> act -> fc2 (Qwen2-VL) or down(silu(gate) * up) with biases (Qwen2.5-VL).
enum QwenVisionMLP: Sendable {
  case plain(GELUMLP)
  case gated(SwiGLUMLP)

  init(_ source: any WeightSource, _ prefix: String, config v: QwenVisionConfig, storage: WeightStorage) throws(EngineError) {
    let d = v.width, inner = v.intermediateSize
    let act: GELUMLP.Activation
    switch v.activation {
    case .quickGELU: act = .quick
    case .gelu: act = .erf
    case .geluTanh: act = .tanh
    case .silu: act = .silu
    }
    switch v.variant {
    case .qwen2VL, .qwen3VL:
      let (one, two) = v.variant == .qwen3VL ? (".linear_fc1", ".linear_fc2") : (".fc1", ".fc2")
      self = .plain(GELUMLP(fc1: try Linear(source, prefix + one, in: d, out: inner, bias: true, storage: storage),
                            fc2: try Linear(source, prefix + two, in: inner, out: d, bias: true, storage: storage),
                            activation: act))
    case .qwen2_5VL:
      self = .gated(SwiGLUMLP(gate: try Linear(source, prefix + ".gate_proj", in: d, out: inner, bias: true, storage: storage),
                              up: try Linear(source, prefix + ".up_proj", in: d, out: inner, bias: true, storage: storage),
                              down: try Linear(source, prefix + ".down_proj", in: inner, out: d, bias: true, storage: storage),
                              activation: act))
    }
  }

  func callAsFunction(_ x: [Float], rows: Int, threads: Int) -> [Float] {
    switch self {
    case let .plain(m): m(x, rows: rows, threads: threads)
    case let .gated(m): m(x, rows: rows, threads: threads)
    }
  }
}

/// One block: x += proj(attn(rope(qkv(norm1 x)))); x += mlp(norm2 x).
struct QwenVisionBlock: Sendable {
  let norm1: QwenVisionNorm, norm2: QwenVisionNorm
  let qkv: Linear   // (3D, D)
  let proj: Linear  // (D, D)
  let mlp: QwenVisionMLP
  let heads: Int

  init(_ source: any WeightSource, _ prefix: String, config v: QwenVisionConfig, storage: WeightStorage) throws(EngineError) {
    let d = v.width
    norm1 = try QwenVisionNorm(source, prefix + ".norm1", dim: d, variant: v.variant)
    norm2 = try QwenVisionNorm(source, prefix + ".norm2", dim: d, variant: v.variant)
    qkv = try Linear(source, prefix + ".attn.qkv", in: d, out: 3 * d, bias: true, storage: storage)
    proj = try Linear(source, prefix + ".attn.proj", in: d, out: d, bias: true, storage: storage)
    mlp = try QwenVisionMLP(source, prefix + ".mlp", config: v, storage: storage)
    heads = v.heads
  }

  /// x (n, D); attention within each of `segments` (contiguous row ranges).
  func callAsFunction(_ x: inout [Float], rows n: Int, segments: [Range<Int>], rope: RotaryEmbedding,
                      positions: RotaryPositions, threads: Int) {
    let d = proj.outFeatures, hd = d / heads
    let packed = qkv(norm1(x, rows: n, threads: threads), rows: n, threads: threads)  // (n, 3D)
    var q = [Float](repeating: 0, count: n * d), k = q, v = q  // (n, D) each
    for r in 0..<n {
      q.replaceSubrange((r * d)..<((r + 1) * d), with: packed[(r * 3 * d)..<(r * 3 * d + d)])
      k.replaceSubrange((r * d)..<((r + 1) * d), with: packed[(r * 3 * d + d)..<(r * 3 * d + 2 * d)])
      v.replaceSubrange((r * d)..<((r + 1) * d), with: packed[(r * 3 * d + 2 * d)..<(r * 3 * d + 3 * d)])
    }
    q.withUnsafeMutableBufferPointer { qp in k.withUnsafeMutableBufferPointer { kp in
      rope.apply(queries: qp.baseAddress!, heads: heads, keys: kp.baseAddress!, kvHeads: heads, rows: n, positions: positions)
    } }
    var attended = [Float](repeating: 0, count: n * d)  // (n, D)
    q.withUnsafeBufferPointer { qp in k.withUnsafeBufferPointer { kp in
      v.withUnsafeBufferPointer { vp in attended.withUnsafeMutableBufferPointer { op in
        guard let qb = qp.baseAddress, let kb = kp.baseAddress, let vb = vp.baseAddress, let ob = op.baseAddress else { return }
        // Many small segments (windows): threads take whole segments; one large one: threads take heads.
        let perSegment = segments.count > 1 ? 1 : threads
        Parallel.ranges(segments.count, threads: segments.count > 1 ? threads : 1) { range in
          for s in range {
            let seg = segments[s], o = seg.lowerBound * d
            Attention.attend(q: qb + o, keys: kb + o, values: vb + o, rows: seg.count, start: 0, heads: heads,
                             kvHeads: heads, headDim: hd, causal: false, threads: perSegment, out: ob + o)
          }
        }
      } }
    } }
    addInPlace(&x, proj(attended, rows: n, threads: threads))
    addInPlace(&x, mlp(norm2(x, rows: n, threads: threads), rows: n, threads: threads))
  }
}

/// The merger: 2x2 neighbouring patches concatenated and projected to the decoder's width. Its
/// norm runs on each patch before the concatenation, or on the concatenation ("post-shuffle",
/// Qwen3-VL's DeepStack mergers).
struct QwenMerger: Sendable {
  let norm: QwenVisionNorm
  let postShuffle: Bool
  let mlp: GELUMLP  // (4D -> 4D) GELU (4D -> D_lm)

  init(_ source: any WeightSource, _ prefix: String, config v: QwenVisionConfig, postShuffle: Bool,
       storage: WeightStorage) throws(EngineError) {
    let unit = v.mergeSize * v.mergeSize, d = v.width
    let qwen3 = v.variant == .qwen3VL
    norm = try QwenVisionNorm(source, prefix + (qwen3 ? ".norm" : ".ln_q"), dim: postShuffle ? unit * d : d, variant: v.variant)
    self.postShuffle = postShuffle
    mlp = GELUMLP(fc1: try Linear(source, prefix + (qwen3 ? ".linear_fc1" : ".mlp.0"), in: unit * d, out: unit * d, bias: true, storage: storage),
                  fc2: try Linear(source, prefix + (qwen3 ? ".linear_fc2" : ".mlp.2"), in: unit * d, out: v.outputSize, bias: true, storage: storage),
                  activation: .erf)
  }

  /// x (N, D) -> (N / unit, D_lm).
  func callAsFunction(_ x: [Float], rows n: Int, unit: Int, threads: Int) -> [Float] {
    let normed = postShuffle ? norm(x, rows: n / unit, threads: threads) : norm(x, rows: n, threads: threads)
    return mlp(normed, rows: n / unit, threads: threads)
  }
}

/// The tower: patches (N, C*T*P*P) of images with grids `grids` -> (N / merge^2, D_lm).
struct QwenVisionTower: Sendable {
  let config: QwenVisionConfig
  let patchEmbed: Linear  // (D, C*T*P*P); a bias in Qwen3-VL
  /// Qwen3-VL's learnt (side*side, D) position table, resampled to each image's grid.
  let positionTable: Tensor?
  let blocks: [QwenVisionBlock]
  let merger: QwenMerger
  let deepstackMergers: [QwenMerger]
  let rope: RotaryEmbedding

  init(_ source: any WeightSource, names: QwenVLTensorNames, config v: QwenVisionConfig,
       storage: WeightStorage) throws(EngineError) {
    config = v
    let d = v.width, p = v.patchSize
    let conv = try source.tensor(names.patchEmbed, shape: [d, v.channels, v.temporalPatchSize, p, p])
    let qwen3 = v.variant == .qwen3VL
    patchEmbed = Linear(weight: try Tensor(shape: [d, v.patchValues], data: conv.data),
                        bias: qwen3 ? try source.tensor(names.patchEmbedBias, shape: [d]).data : nil)
    positionTable = qwen3 ? try source.tensor(names.positionTable, shape: [v.positionEmbeddings, d]) : nil
    var blocks: [QwenVisionBlock] = []
    for i in 0..<v.depth { blocks.append(try QwenVisionBlock(source, names.block(i), config: v, storage: storage)) }
    self.blocks = blocks
    merger = try QwenMerger(source, names.merger, config: v, postShuffle: false, storage: storage)
    var deepstack: [QwenMerger] = []
    for k in v.deepstackBlocks.indices {
      deepstack.append(try QwenMerger(source, names.deepstackMerger(k), config: v, postShuffle: true, storage: storage))
    }
    deepstackMergers = deepstack
    // Axial 2-D rotary: hd/4 frequencies theta^(-4j/hd), turned by the height on the first
    // hd/4 of the head's frequency slots and by the width on the next hd/4.
    let hd = v.headDim, quarter = hd / 4
    let spatial = (0..<quarter).map { j in
      1 / Float(Foundation.pow(Double(v.ropeTheta), Double(Float(2 * j) / Float(hd / 2))))
    }
    rope = RotaryEmbedding(headDim: hd, inverseFrequencies: spatial + spatial,
                           axisOfFrequency: Array(repeating: 1, count: quarter) + Array(repeating: 2, count: quarter))
  }

  /// patches (N, C*T*P*P) in the processor's order -> merged features (N / merge^2, D_lm), in
  /// the same order (image after image, 2x2 blocks row-major), and Qwen3-VL's DeepStack features
  /// (one (N / merge^2, D_lm) array per DeepStack block, in the same order). `mark`, when given,
  /// is called as each stage ends (the benchmark's clock; QwenVLBenchmark).
  func callAsFunction(_ patches: [Float], grids: [ImageGrid], threads: Int,
                      mark: ((QwenVisionStage) -> Void)? = nil) -> (merged: [Float], deepstack: [[Float]]) {
    let m = config.mergeSize, unit = m * m, d = config.width
    let n = grids.reduce(0) { $0 + $1.patchCount }
    // Row order the blocks run in: the processor's, or Qwen2.5-VL's windows (groups of `unit`).
    let order = config.variant == .qwen2_5VL ? windowOrder(grids) : nil
    var x = patchEmbed(patches, rows: n, threads: threads)  // (N, D)
    var positions = Self.positionTable(grids, merge: m)     // (N, 3): 0, h, w
    if let table = positionTable { addResampledPositions(&x, table: table, positions: positions, grids: grids) }
    if let order {
      x = Self.gatherGroups(x, order: order.groups, unit: unit, width: d)
      positions = Self.gatherGroups(positions, order: order.groups, unit: unit, width: 3)
    }
    var images: [Range<Int>] = []
    var start = 0
    for g in grids {
      for _ in 0..<g.t { images.append(start..<(start + g.h * g.w)); start += g.h * g.w }
    }
    let at = RotaryPositions.axes(positions)
    mark?(.embedded)
    var deepstack: [[Float]] = []
    for (i, block) in blocks.enumerated() {
      let full = order == nil || config.fullAttentionBlocks.contains(i)
      block(&x, rows: n, segments: full ? images : (order?.windows ?? images), rope: rope, positions: at, threads: threads)
      mark?(.block(i, fullAttention: full))
      if let k = config.deepstackBlocks.firstIndex(of: i), k < deepstackMergers.count {
        deepstack.append(deepstackMergers[k](x, rows: n, unit: unit, threads: threads))
        mark?(.deepstackMerger(k))
      }
    }
    let merged = merger(x, rows: n, unit: unit, threads: threads)  // (N/unit, D_lm)
    defer { mark?(.merged) }
    guard let order else { return (merged, deepstack) }
    // Back to the processor's order: window row g holds merged token order.groups[g].
    let out = config.outputSize
    var restored = [Float](repeating: 0, count: merged.count)
    for (g, token) in order.groups.enumerated() {
      restored.replaceSubrange((token * out)..<((token + 1) * out), with: merged[(g * out)..<((g + 1) * out)])
    }
    return (restored, deepstack)
  }

  /// Qwen3-VL: adds to each patch the learnt position table resampled to its image's grid
  /// (bilinear, corners aligned: row r of h samples table row r (side-1)/(h-1)).
  func addResampledPositions(_ x: inout [Float], table: Tensor, positions: [Int], grids: [ImageGrid]) {
    let d = config.width, side = Int(Double(table.shape[0]).squareRoot())
    func taps(_ i: Int, _ size: Int) -> [(Int, Float)] {
      let src = Float(i) * Float(side - 1) / Float(max(size - 1, 1))
      let lo = Int(src.rounded(.down))
      return [(lo, 1 - (src - Float(lo))), (lo + 1, src - Float(lo))].map { (min(max($0.0, 0), side - 1), max($0.1, 0)) }
    }
    var row = 0
    for g in grids {
      for _ in 0..<(g.t * g.h * g.w) {
        let r = positions[row * 3 + 1], c = positions[row * 3 + 2]
        for (ty, wy) in taps(r, g.h) {
          for (tx, wx) in taps(c, g.w) {
            let w = wy * wx, base = (ty * side + tx) * d
            for k in 0..<d { x[row * d + k] += w * table.data[base + k] }
          }
        }
        row += 1
      }
    }
  }

  /// Per patch (0, row, column) in the processor's order: 2x2 blocks row-major, row-major inside.
  static func positionTable(_ grids: [ImageGrid], merge m: Int) -> [Int] {
    var table: [Int] = []
    for g in grids {
      for _ in 0..<g.t {
        for by in 0..<(g.h / m) { for bx in 0..<(g.w / m) {
          for dy in 0..<m { for dx in 0..<m { table += [0, by * m + dy, bx * m + dx] } }
        } }
      }
    }
    return table
  }

  /// Rows regrouped: group i of the result is group order[i] of x (groups of `unit` rows).
  static func gatherGroups<T>(_ x: [T], order: [Int], unit: Int, width: Int) -> [T] {
    var out: [T] = []
    out.reserveCapacity(x.count)
    let span = unit * width
    for g in order { out += x[(g * span)..<((g + 1) * span)] }
    return out
  }

  /// Qwen2.5-VL's windows: merged tokens in window order (windows of
  /// window_size / patch / merge tokens a side, row-major, partial ones at the right and bottom
  /// edges), and each window's rows (patches) after reordering.
  func windowOrder(_ grids: [ImageGrid]) -> (groups: [Int], windows: [Range<Int>]) {
    let m = config.mergeSize, unit = m * m
    let side = config.windowSize / m / config.patchSize
    var groups: [Int] = [], windows: [Range<Int>] = []
    var base = 0, row = 0
    for g in grids {
      let gh = g.h / m, gw = g.w / m
      for t in 0..<g.t {
        for wy in stride(from: 0, to: gh, by: side) { for wx in stride(from: 0, to: gw, by: side) {
          let first = row
          for y in wy..<min(wy + side, gh) { for x in wx..<min(wx + side, gw) {
            groups.append(base + (t * gh + y) * gw + x); row += unit
          } }
          windows.append(first..<row)
        } }
      }
      base += g.t * gh * gw
    }
    return (groups, windows)
  }
}

/// The tower's stages, in the order they end: the patch embedding (with positions and window
/// order), each block (whether it attended over the whole image), each DeepStack merger, and the
/// final merger (with the restored order).
enum QwenVisionStage: Sendable, Equatable {
  case embedded
  case block(Int, fullAttention: Bool)
  case deepstackMerger(Int)
  case merged
}

/// The patch grid of one image or video: `t` temporal patches, `h` x `w` spatial patches (before
/// the 2x2 merge), as the processor's `image_grid_thw` gives it.
public struct ImageGrid: Sendable, Equatable, Hashable {
  public var t: Int, h: Int, w: Int
  public init(t: Int, h: Int, w: Int) { self.t = t; self.h = h; self.w = w }
  public var patchCount: Int { t * h * w }
  /// Decoder tokens after a `merge` x `merge` merge.
  public func tokenCount(merge: Int) -> Int { t * (h / merge) * (w / merge) }
}
