// MARK: - Linear

/// y = x W^T + b, as `nn.Linear`: W (out, in) row-major, b (out,) optional.
struct Linear: Sendable {
  let weight: Tensor  // (out, in)
  let bias: [Float]?  // (out,)
  var outFeatures: Int { weight.shape[0] }
  var inFeatures: Int { weight.shape[1] }

  /// Loads `<prefix>.weight` (out, in) and, when `bias`, `<prefix>.bias` (out,).
  init(_ source: any WeightSource, _ prefix: String, in inFeatures: Int, out outFeatures: Int,
       bias: Bool) throws(EngineError) {
    weight = try source.tensor(prefix + ".weight", shape: [outFeatures, inFeatures])
    self.bias = bias ? try source.tensor(prefix + ".bias", shape: [outFeatures]).data : nil
  }

  init(weight: Tensor, bias: [Float]?) {
    self.weight = weight
    self.bias = bias
  }

  /// x (rows, in) -> (rows, out).
  func callAsFunction(_ x: [Float], rows: Int) -> [Float] {
    var out = [Float](repeating: 0, count: rows * outFeatures)  // (rows, out)
    let m = outFeatures, k = inFeatures
    x.withUnsafeBufferPointer { xp in
      weight.data.withUnsafeBufferPointer { wp in
        out.withUnsafeMutableBufferPointer { op in
          guard let xb = xp.baseAddress, let wb = wp.baseAddress, let ob = op.baseAddress else { return }
          if let bias {
            // Start from the bias in every row, then accumulate x W^T on top.
            bias.withUnsafeBufferPointer { bp in
              for r in 0..<rows { (ob + r * m).update(from: bp.baseAddress!, count: m) }
            }
          }
          // x (rows, k) @ W^T (k, m) -> out (rows, m)
          BLAS.matmulTransposed(xb, rows: rows, wb, outFeatures: m, inFeatures: k, ob,
                                accumulate: bias != nil)
        }
      }
    }
    return out
  }
}
