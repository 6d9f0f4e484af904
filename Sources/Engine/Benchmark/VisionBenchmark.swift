import Dispatch

// MARK: - The SigLIP vision tower alone: tiles/s, its arithmetic, and the machine's sgemm rate

/// Times the vision tower of a loaded `bluelm_vl` model on random tiles (embedding, encoder
/// layers, post_layernorm; not the adapter), counts the multiply-adds it does, and measures
/// the matrix product at the shape of the tower's MLP on the same threads (OpenBLAS's sgemm and
/// the engine's own kernel), so that the tower's arithmetic rate can be set beside what the
/// machine's matrix product reaches.
public enum VisionBenchmark {
  /// Multiply-adds of the tower on one tile (one multiply-add = 2 FLOP), with S = (T/P)^2
  /// patches, D the width, I the MLP width, C channels, P the patch side, H heads of D/H:
  /// - patch embedding: S · D · C·P² (the conv as a product over unfolded patches)
  /// - per layer: q, k, v and out projections 4 · S · D²; attention scores q·k^T over all
  ///   heads H · S² · D/H = S² · D, and probabilities times values the same S² · D; MLP fc1 and
  ///   fc2 2 · S · D · I.
  /// Layer norms, softmax, GELU, biases, residual and position adds are not counted: O(S · I)
  /// elementwise work, under 1 % of the products at so400m's size.
  public struct Work: Sendable, Equatable {
    public var patchEmbedding: Int
    public var projections: Int  // per layer
    public var attention: Int    // per layer
    public var mlp: Int          // per layer
    public var layers: Int

    public init(_ v: SiglipVisionConfig, layers: Int? = nil) {
      let g = v.imageSize / v.patchSize, s = g * g, d = v.hiddenSize
      patchEmbedding = s * d * v.numChannels * v.patchSize * v.patchSize
      projections = 4 * s * d * d
      attention = 2 * s * s * d
      mlp = 2 * s * d * v.intermediateSize
      self.layers = layers ?? v.numHiddenLayers
    }

    public var perLayer: Int { projections + attention + mlp }
    public var multiplyAdds: Int { patchEmbedding + layers * perLayer }
    public var flops: Double { 2 * Double(multiplyAdds) }
  }

  /// One timed pass over a batch of tiles; the anchor's report fills the same struct, so both
  /// sides go to full depth by one rule.
  public struct Pass: Sendable, Equatable {
    public var tiles: Int
    public var seconds: Double
    /// The part of `seconds` spent in encoder layers (the rest: patch embedding, post_layernorm).
    public var layerSeconds: Double
    public var layers: Int

    public init(tiles: Int, seconds: Double, layerSeconds: Double, layers: Int) {
      self.tiles = tiles; self.seconds = seconds; self.layerSeconds = layerSeconds; self.layers = layers
    }

    public var tilesPerSecond: Double { Double(tiles) / seconds }

    /// The same pass with `fullLayers` layers: the layer time times full / used, the rest once.
    public func fullDepth(_ fullLayers: Int) -> Pass {
      let layerPart = min(layerSeconds, seconds), scaled = layerPart * Double(fullLayers) / Double(max(layers, 1))
      return Pass(tiles: tiles, seconds: seconds - layerPart + scaled, layerSeconds: scaled, layers: fullLayers)
    }
  }

  /// `count` tiles (n, C, T, T) of uniform values in [-1, 1), the same for the same seed.
  public static func randomTiles(_ v: SiglipVisionConfig, count: Int, seed: UInt64) -> [Float] {
    var random = SeededGenerator(seed: seed)
    return (0..<(count * v.numChannels * v.imageSize * v.imageSize)).map { _ in Float(random.nextUnit() * 2 - 1) }
  }

  /// The tower of `model` on `tiles` (n, C, T, T) with `threads` threads: the last hidden state
  /// (n, g*g, D) and the pass, its layers on their own clock.
  public static func encode(_ model: BlueLMVLModel, tiles: [Float], threads: Int) throws(EngineError) -> (features: [Float], pass: Pass) {
    let n = try model.tileCount(tiles)
    guard threads > 0 else { throw .invalidArgument("threads must be positive, not \(threads)") }
    try WeightFileRecord.checkUnchanged(model.weightFiles)
    let clock = LayerClock()
    let start = now()
    clock.last = start
    let features = model.vision(tiles, count: n, threads: threads, mark: { clock.record($0) })
    let pass = Pass(tiles: n, seconds: seconds(since: start), layerSeconds: clock.layerSeconds,
                    layers: model.vision.layers.count)
    return (features, pass)
  }

  /// The rows, columns and depth of the tower's first MLP product on `tiles` tiles (the tower
  /// runs at most `SiglipVisionTower.chunk` tiles through its layers together):
  /// x (m, D) @ fc1^T (D, I) -> (m, I).
  public static func mlpShape(_ v: SiglipVisionConfig, tiles: Int) -> (m: Int, n: Int, k: Int) {
    let g = v.imageSize / v.patchSize
    return (min(max(tiles, 1), SiglipVisionTower.chunk) * g * g, v.intermediateSize, v.hiddenSize)
  }

  /// The matrix products a rate is measured for: OpenBLAS's sgemm, or the engine's own choice
  /// (`GEMM.product`: the AVX-512 kernel where the CPU has it, else the same sgemm).
  public enum ProductKernel: Sendable { case openBLAS, engine }

  /// FLOP/s of C (m, n) = A (m, k) @ B^T with B stored (n, k), as the engine's linear layers
  /// run it: B's rows split between `threads` threads, each a single-threaded product on its
  /// block, by `kernel`. The best of `repeats` products, after one untimed product (buffers,
  /// page faults).
  public static func sgemmRate(m: Int, n: Int, k: Int, threads: Int, repeats: Int = 3,
                               kernel: ProductKernel = .openBLAS) -> Double {
    var random = SeededGenerator(seed: 1)
    let a = (0..<(m * k)).map { _ in Float(random.nextUnit() - 0.5) }  // (m, k)
    let b = (0..<(n * k)).map { _ in Float(random.nextUnit() - 0.5) }  // (n, k)
    var c = [Float](repeating: 0, count: m * n)                          // (m, n)
    BLAS.setThreads(1)
    var best = Double.infinity
    a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
      guard let ab = ap.baseAddress, let bb = bp.baseAddress, let cb = cp.baseAddress else { return }
      for round in 0...max(1, repeats) {
        let start = now()
        Parallel.ranges(n, threads: threads, minimumPerRange: 64) { cols in
          // A (m, k) @ B[cols]^T (k, |cols|) -> C[:, cols], row stride n
          switch kernel {
          case .openBLAS:
            BLAS.gemm(m: m, n: cols.count, k: k, a: ab, lda: k, b: bb + cols.lowerBound * k, ldb: k,
                      transposeB: true, c: cb + cols.lowerBound, ldc: n)
          case .engine:
            GEMM.product(m: m, n: cols.count, k: k, a: ab, lda: k, b: bb + cols.lowerBound * k, ldb: k, transposeB: true,
                         accumulate: false, c: cb + cols.lowerBound, ldc: n)
          }
        }
        if round > 0 { best = min(best, seconds(since: start)) }
      }
    } } }
    return 2 * Double(m) * Double(n) * Double(k) / best
  }

  /// Sums the time of the tower's layers from the stage marks; a class so that the closure
  /// can fill it.
  private final class LayerClock {
    var last: UInt64 = 0
    var layerSeconds = 0.0
    func record(_ stage: SiglipVisionStage) {
      let t = now()
      if case .layer = stage { layerSeconds += Double(t - last) / 1e9 }
      last = t
    }
  }

  private static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
  private static func seconds(since start: UInt64) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
  }
}
