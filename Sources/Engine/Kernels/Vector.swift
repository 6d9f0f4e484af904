import Foundation

// MARK: - Element-wise kernels over one row
//
// Each takes raw pointers and a length so that callers can work on rows of larger buffers
// without copies. `out` may alias `x` (in-place) unless stated otherwise.

enum Vec {
  /// sum(x[i] * y[i]) over `n`.
  @inline(__always)
  static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = F16(repeating: 0)
    var i = 0
    while i + 16 <= n { acc = load16(x + i) * load16(y + i) + acc; i += 16 }
    var s = acc.sum()
    while i < n { s += x[i] * y[i]; i += 1 }
    return s
  }

  /// out = x * (1 / sqrt(mean(x^2) + eps)) * w. Matches LlamaRMSNorm / Qwen2RMSNorm (float32).
  static func rmsNorm(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, eps: Float,
                      _ n: Int, _ out: UnsafeMutablePointer<Float>) {
    let scale = 1 / (dot(x, x, n) / Float(n) + eps).squareRoot()
    var i = 0
    while i + 16 <= n { store16(load16(x + i) * scale * load16(w + i), out + i); i += 16 }
    while i < n { out[i] = x[i] * scale * w[i]; i += 1 }
  }

  /// out = (x - mean) / sqrt(var + eps) * w + b, biased variance. Matches nn.LayerNorm.
  static func layerNorm(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                        _ b: UnsafePointer<Float>, eps: Float, _ n: Int,
                        _ out: UnsafeMutablePointer<Float>) {
    var acc = F16(repeating: 0)
    var i = 0
    while i + 16 <= n { acc += load16(x + i); i += 16 }
    var sum = acc.sum()
    while i < n { sum += x[i]; i += 1 }
    let mean = sum / Float(n)
    // Two passes: the variance of centred values, as PyTorch computes it.
    acc = F16(repeating: 0)
    i = 0
    while i + 16 <= n { let d = load16(x + i) - mean; acc = d * d + acc; i += 16 }
    var sq = acc.sum()
    while i < n { let d = x[i] - mean; sq += d * d; i += 1 }
    let inv = 1 / (sq / Float(n) + eps).squareRoot()
    i = 0
    while i + 16 <= n {
      store16((load16(x + i) - mean) * inv * load16(w + i) + load16(b + i), out + i); i += 16
    }
    while i < n { out[i] = (x[i] - mean) * inv * w[i] + b[i]; i += 1 }
  }

  /// In-place softmax over `n` values (max-subtracted).
  static func softmax(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
    var vmax = F16(repeating: -.infinity)
    var i = 0
    while i + 16 <= n { vmax = max16(vmax, load16(x + i)); i += 16 }
    var m = vmax.max()
    while i < n { m = max(m, x[i]); i += 1 }
    var acc = F16(repeating: 0)
    i = 0
    while i + 16 <= n { let e = exp16(load16(x + i) - m); store16(e, x + i); acc += e; i += 16 }
    if i < n {  // the last 1 ... 15 values through the same vector exp (a decode step's rows rarely fill 16)
      let rest = n - i
      var t = F16(repeating: m)
      for k in 0..<rest { t[k] = x[i + k] }
      let lanes = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
      let e = exp16(t - m).replacing(with: 0, where: lanes .>= Int32(rest))
      for k in 0..<rest { x[i + k] = e[k] }
      acc += e
    }
    let s = acc.sum()
    // Probabilities below the smallest normal float are written as 0: subnormal operands make the
    // products with V many times slower on x86 (a trained pointer head's sharp self-attention
    // left 3-8 % of them subnormal and ran 10-17x slower), and they weigh less than 1e-38.
    let inv = 1 / s
    let tiny = F16(repeating: .leastNormalMagnitude)
    i = 0
    while i + 16 <= n {
      let v = load16(x + i) * inv
      store16(v.replacing(with: 0, where: v .< tiny), x + i); i += 16
    }
    while i < n { let v = x[i] * inv; x[i] = v < .leastNormalMagnitude ? 0 : v; i += 1 }
  }

  /// GELU, tanh approximation (`gelu_pytorch_tanh`): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
  static func geluTanh(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
    let c: Float = 0.797_884_560_802_865_4
    var i = 0
    while i + 16 <= n {
      let v = load16(x + i)
      store16(0.5 * v * (1 + tanh16(c * (v + 0.044715 * v * v * v))), x + i); i += 16
    }
    while i < n { let v = x[i]; x[i] = 0.5 * v * (1 + Foundation.tanh(c * (v + 0.044715 * v * v * v))); i += 1 }
  }

  /// GELU, exact (`nn.GELU()` / `F.gelu`): 0.5 x (1 + erf(x / sqrt 2)). Scalar: erf has no
  /// vector form here, and the adapter that uses it is small.
  static func geluErf(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
    for i in 0..<n { let v = x[i]; x[i] = 0.5 * v * (1 + Foundation.erf(v * 0.707_106_781_186_547_6)) }
  }

  /// QuickGELU (`quick_gelu`, CLIP and Qwen2-VL's vision MLP): x sigmoid(1.702 x).
  static func quickGELU(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i + 16 <= n {
      let v = load16(x + i)
      store16(v / (1 + exp16(-1.702 * v)), x + i); i += 16
    }
    while i < n { let v = x[i]; x[i] = v / (1 + Foundation.exp(-1.702 * v)); i += 1 }
  }

  /// SiLU in place: x / (1 + e^{-x}).
  static func silu(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i + 16 <= n {
      let v = load16(x + i)
      store16(v / (1 + exp16(-v)), x + i); i += 16
    }
    while i < n { let v = x[i]; x[i] = v / (1 + Foundation.exp(-v)); i += 1 }
  }

  /// x *= y over `n`.
  static func multiply(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) {
    var i = 0
    while i + 16 <= n { store16(load16(x + i) * load16(y + i), x + i); i += 16 }
    while i < n { x[i] *= y[i]; i += 1 }
  }

  /// gate = silu(gate) * up, SwiGLU's element-wise part: silu(g) = g / (1 + e^{-g}).
  static func siluMul(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, _ n: Int) {
    var i = 0
    while i + 16 <= n {
      let g = load16(gate + i)
      store16(g / (1 + exp16(-g)) * load16(up + i), gate + i); i += 16
    }
    while i < n { let g = gate[i]; gate[i] = g / (1 + Foundation.exp(-g)) * up[i]; i += 1 }
  }

  /// x += y over `n`.
  static func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) {
    var i = 0
    while i + 16 <= n { store16(load16(x + i) + load16(y + i), x + i); i += 16 }
    while i < n { x[i] += y[i]; i += 1 }
  }

  /// The dots of x (n,) with 4 rows (n,) `stride` apart, n a multiple of 16: four chains in
  /// flight, and one shared reduction tree instead of a horizontal sum per row.
  @inline(__always)
  static func dots4(_ x: UnsafePointer<Float>, _ rows: UnsafePointer<Float>, stride: Int, _ n: Int) -> SIMD4<Float> {
    var a0 = F16(), a1 = F16(), a2 = F16(), a3 = F16()
    var i = 0
    while i < n {
      let xv = load16(x + i)
      a0.addProduct(load16(rows + i), xv)  // fused: `a * b + c` compiles to a multiply and an add
      a1.addProduct(load16(rows + stride + i), xv)
      a2.addProduct(load16(rows + 2 * stride + i), xv)
      a3.addProduct(load16(rows + 3 * stride + i), xv)
      i += 16
    }
    // Lanes of two rows' partial sums side by side, then adjacent lanes added: each step halves
    // the lanes per row (8 -> 4 -> 2 -> 1) for all rows at once.
    @inline(__always) func pair(_ u: SIMD8<Float>, _ v: SIMD8<Float>) -> SIMD8<Float> {
      let w = SIMD16(lowHalf: u, highHalf: v)
      return w.evenHalf + w.oddHalf
    }
    let r = pair(pair(a0.lowHalf + a0.highHalf, a1.lowHalf + a1.highHalf),
                 pair(a2.lowHalf + a2.highHalf, a3.lowHalf + a3.highHalf))  // rows 0..3 in lane pairs
    return r.evenHalf + r.oddHalf
  }

  /// y += a * x over `n`.
  @inline(__always)
  static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    let va = F16(repeating: a)
    var i = 0
    while i + 16 <= n { store16(load16(x + i) * va + load16(y + i), y + i); i += 16 }
    while i < n { y[i] += a * x[i]; i += 1 }
  }

  /// y (n,) = sum_j w[j] * rows[j * stride ..< j * stride + n] over `count` rows (`accumulate`:
  /// y += that sum): attention's probabilities times the values for one query row. Columns go 64
  /// at a time, the partial sums held in registers across all rows (no load and store of y per row).
  @inline(__always)
  static func weightedRows(_ w: UnsafePointer<Float>, _ count: Int, _ rows: UnsafePointer<Float>, stride: Int,
                           _ n: Int, _ y: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
    var c = 0
    while c + 64 <= n {
      var a0 = F16(), a1 = F16(), a2 = F16(), a3 = F16()
      if accumulate { a0 = load16(y + c); a1 = load16(y + c + 16); a2 = load16(y + c + 32); a3 = load16(y + c + 48) }
      for j in 0..<count {
        let r = rows + j * stride + c, wj = F16(repeating: w[j])
        a0.addProduct(load16(r), wj)
        a1.addProduct(load16(r + 16), wj)
        a2.addProduct(load16(r + 32), wj)
        a3.addProduct(load16(r + 48), wj)
      }
      store16(a0, y + c); store16(a1, y + c + 16); store16(a2, y + c + 32); store16(a3, y + c + 48)
      c += 64
    }
    guard c < n else { return }
    if !accumulate { (y + c).update(repeating: 0, count: n - c) }
    for j in 0..<count { axpy(w[j], rows + j * stride + c, y + c, n - c) }
  }
}
