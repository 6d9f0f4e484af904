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

  /// x (rows, in) -> (rows, out). The output features are split between `threads` threads,
  /// each running a single-threaded sgemm/sgemv on its block of W's rows (OpenBLAS itself
  /// stays at one thread: its idle workers spin and would steal the cores from ours).
  func callAsFunction(_ x: [Float], rows: Int, threads: Int = 1) -> [Float] {
    let m = outFeatures, k = inFeatures
    guard rows > 0 else { return [] }
    var out = [Float](repeating: 0, count: rows * m)  // (rows, out)
    x.withUnsafeBufferPointer { xp in
      weight.data.withUnsafeBufferPointer { wp in
        out.withUnsafeMutableBufferPointer { op in
          guard let xb = xp.baseAddress, let wb = wp.baseAddress, let ob = op.baseAddress else { return }
          // Blocks of at least 64 output features: smaller ones cost more in dispatch than they save.
          Parallel.ranges(m, threads: threads, minimumPerRange: 64) { cols in
            if let bias {
              // Start from the bias in every row, then accumulate x W^T on top.
              for r in 0..<rows {
                for c in cols { ob[r * m + c] = bias[c] }
              }
            }
            let beta: Float = bias == nil ? 0 : 1
            if rows == 1 {
              // W[cols] (|cols|, k) @ x (k,) -> out[cols]
              BLAS.gemv(wb + cols.lowerBound * k, rows: cols.count, columns: k, xb, beta: beta, ob + cols.lowerBound)
              return
            }
            // x (rows, k) @ W[cols]^T (k, |cols|) -> out[:, cols] (rows, |cols|), row stride m
            BLAS.gemm(m: rows, n: cols.count, k: k, a: xb, lda: k, b: wb + cols.lowerBound * k, ldb: k,
                      transposeB: true, beta: beta, c: ob + cols.lowerBound, ldc: m)
          }
        }
      }
    }
    return out
  }
}
