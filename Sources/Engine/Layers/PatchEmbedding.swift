// MARK: - Patch embedding

/// SigLIP's `Conv2d(C, D, kernel = stride = P)` plus the learned position embedding, as one
/// matrix product over unfolded patches.
struct PatchEmbedding: Sendable {
  let projection: Linear      // conv weight (D, C, P, P) viewed as (D, C*P*P), bias (D,)
  let positions: Tensor       // (g*g, D)
  let channels: Int
  let patchSize: Int
  let grid: Int               // g = T / P

  /// tile (C, T, T) channels-first -> (g*g, D), patches row-major.
  func callAsFunction(_ tile: UnsafePointer<Float>, threads: Int) -> [Float] {
    let p = patchSize, side = grid * patchSize, k = channels * p * p
    var patches = [Float](repeating: 0, count: grid * grid * k)  // (g*g, C*P*P)
    // Unfold in the conv weight's (c, ky, kx) order.
    for py in 0..<grid {
      for px in 0..<grid {
        var o = (py * grid + px) * k
        for c in 0..<channels {
          for ky in 0..<p {
            let src = tile + (c * side + py * p + ky) * side + px * p
            for kx in 0..<p { patches[o] = src[kx]; o += 1 }
          }
        }
      }
    }
    var x = projection(patches, rows: grid * grid, threads: threads)  // (g*g, D)
    x.withUnsafeMutableBufferPointer { xp in
      positions.data.withUnsafeBufferPointer { pp in
        guard let xb = xp.baseAddress, let pb = pp.baseAddress else { return }
        Vec.add(xb, pb, xp.count)
      }
    }
    return x
  }
}
