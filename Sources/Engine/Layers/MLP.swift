// MARK: - Two-layer GELU MLP

/// fc2(act(fc1(x))): SigLIP's MLP (tanh GELU), the adapter's linear_1 / linear_2 (exact GELU),
/// Qwen2-VL's vision MLP (QuickGELU), or any of them with SiLU.
struct GELUMLP: Sendable {
  enum Activation: Sendable {
    case tanh, erf, quick, silu

    /// In place over n values.
    func apply(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
      switch self {
      case .tanh: Vec.geluTanh(p, n)
      case .erf: Vec.geluErf(p, n)
      case .quick: Vec.quickGELU(p, n)
      case .silu: Vec.silu(p, n)
      }
    }
  }
  let fc1: Linear  // (inner, d)
  let fc2: Linear  // (d_out, inner)
  let activation: Activation

  /// x (rows, d) -> (rows, d_out).
  func callAsFunction(_ x: [Float], rows: Int, threads: Int) -> [Float] {
    var h = fc1(x, rows: rows, threads: threads)  // (rows, inner)
    let inner = fc1.outFeatures
    h.withUnsafeMutableBufferPointer { hp in
      guard let hb = hp.baseAddress else { return }
      Parallel.ranges(rows, threads: threads, minimumPerRange: 16) { range in
        activation.apply(hb + range.lowerBound * inner, range.count * inner)
      }
    }
    return fc2(h, rows: rows, threads: threads)
  }
}

// MARK: - SwiGLU MLP

/// down(silu(gate(x)) * up(x)): Llama / Qwen2 MLP (no biases), Qwen2.5-VL's vision MLP (biases;
/// another activation when its config names one).
struct SwiGLUMLP: Sendable {
  let gate: Linear  // (inner, d)
  let up: Linear    // (inner, d)
  let down: Linear  // (d, inner)
  var activation: GELUMLP.Activation = .silu

  /// x (rows, d) -> (rows, d).
  func callAsFunction(_ x: [Float], rows: Int, threads: Int) -> [Float] {
    let gateUp = Linear.products([gate, up], x, rows: rows, threads: threads)
    var g = gateUp[0]     // (rows, inner)
    let u = gateUp[1]     // (rows, inner)
    g.withUnsafeMutableBufferPointer { gp in
      u.withUnsafeBufferPointer { up in
        guard let gb = gp.baseAddress, let ub = up.baseAddress else { return }
        if activation == .silu {
          Vec.siluMul(gb, ub, gp.count)
        } else {
          activation.apply(gb, gp.count)
          Vec.multiply(gb, ub, gp.count)
        }
      }
    }
    return down(g, rows: rows, threads: threads)
  }
}
