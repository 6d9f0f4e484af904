// MARK: - LayerNorm

/// `nn.LayerNorm` over the last dimension (SigLIP's layer_norm1/2, post_layernorm).
struct LayerNorm: Sendable {
  let weight: [Float]  // (d,)
  let bias: [Float]    // (d,)
  let eps: Float

  init(_ source: any WeightSource, _ prefix: String, dim: Int, eps: Float) throws(EngineError) {
    weight = try source.tensor(prefix + ".weight", shape: [dim]).data
    bias = try source.tensor(prefix + ".bias", shape: [dim]).data
    self.eps = eps
  }

  /// x (rows, d) -> (rows, d).
  func callAsFunction(_ x: [Float], rows: Int, threads: Int) -> [Float] {
    let d = weight.count
    guard rows > 0 else { return [] }
    var out = [Float](repeating: 0, count: rows * d)
    x.withUnsafeBufferPointer { xp in weight.withUnsafeBufferPointer { wp in
      bias.withUnsafeBufferPointer { bp in out.withUnsafeMutableBufferPointer { op in
        let (xb, wb, bb, ob) = (xp.baseAddress!, wp.baseAddress!, bp.baseAddress!, op.baseAddress!)
        Parallel.ranges(rows, threads: threads, minimumPerRange: 64) { range in
          for r in range { Vec.layerNorm(xb + r * d, wb, bb, eps: eps, d, ob + r * d) }
        }
      } }
    } }
    return out
  }
}

// MARK: - RMSNorm

/// LlamaRMSNorm / Qwen2RMSNorm: x / sqrt(mean(x^2) + eps) * w.
struct RMSNorm: Sendable {
  let weight: [Float]  // (d,)
  let eps: Float

  init(_ source: any WeightSource, _ name: String, dim: Int, eps: Float) throws(EngineError) {
    weight = try source.tensor(name, shape: [dim]).data
    self.eps = eps
  }

  /// x (rows, d) -> (rows, d).
  func callAsFunction(_ x: [Float], rows: Int) -> [Float] {
    let d = weight.count
    guard rows > 0 else { return [] }
    var out = [Float](repeating: 0, count: rows * d)
    x.withUnsafeBufferPointer { xp in weight.withUnsafeBufferPointer { wp in
      out.withUnsafeMutableBufferPointer { op in
        for r in 0..<rows { Vec.rmsNorm(xp.baseAddress! + r * d, wp.baseAddress!, eps: eps, d, op.baseAddress! + r * d) }
      }
    } }
    return out
  }
}
