import Foundation
import Testing
@testable import Engine

// MARK: - Kernels and layers against independent references
//
// References: the C library's exp/tanh/erf in double precision (formulas evaluated by libm,
// not by our kernels) and transformers' rotary embedding (fixture from
// scripts/fixtures/make_model_fixtures.py).

@Suite("Layers and kernels")
struct LayerKernelTests {
  /// Points spread over the ranges the kernels see, including the clamped extremes.
  static let samples: [Float] = (0..<2000).map { Float($0 - 1000) * 0.037 } + [-200, -88, -87, 88, 89, 200, 0]

  static func apply(_ kernel: (UnsafeMutablePointer<Float>, Int) -> Void, _ x: [Float]) -> [Float] {
    var y = x
    y.withUnsafeMutableBufferPointer { kernel($0.baseAddress!, $0.count) }
    return y
  }

  @Test("SIMD exp within 2e-7 relative of libm (16-lane body and scalar tail)")
  func exp() {
    let x = Self.samples.filter { $0 > -80 && $0 < 80 }
    var worst: Double = 0
    var i = 0
    while i + 16 <= x.count {
      let v = exp16(x.withUnsafeBufferPointer { load16($0.baseAddress! + i) })
      for lane in 0..<16 {
        let ref = Foundation.exp(Double(x[i + lane]))
        worst = worse(worst, abs(Double(v[lane]) - ref) / ref)
      }
      i += 16
    }
    #expect(worst < 2e-7, "worst relative error \(worst)")
  }

  @Test("GELU (tanh) within 1e-6 absolute of the double-precision formula")
  func geluTanh() {
    let y = Self.apply(Vec.geluTanh, Self.samples)
    for (x, got) in zip(Self.samples, y) {
      let d = Double(x)
      let ref = 0.5 * d * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (d + 0.044715 * d * d * d)))
      #expect(abs(Double(got) - ref) <= 1e-6 * max(1, abs(ref)), "x = \(x): \(got) vs \(ref)")
    }
  }

  @Test("GELU (erf) and SiLU-gate within 1e-6 of double precision")
  func geluErfAndSilu() {
    let y = Self.apply(Vec.geluErf, Self.samples)
    let up = Self.samples.map { $0 * 0.5 + 1 }
    var gated = Self.samples
    gated.withUnsafeMutableBufferPointer { g in up.withUnsafeBufferPointer { Vec.siluMul(g.baseAddress!, $0.baseAddress!, g.count) } }
    for (i, x) in Self.samples.enumerated() {
      let d = Double(x)
      let gelu = 0.5 * d * (1 + Foundation.erf(d / 2.0.squareRoot()))
      #expect(abs(Double(y[i]) - gelu) <= 1e-6 * max(1, abs(gelu)))
      let silu = d / (1 + Foundation.exp(-d)) * Double(up[i])
      #expect(abs(Double(gated[i]) - silu) <= 1e-6 * max(1, abs(silu)), "x = \(x)")
    }
  }

  @Test("softmax: sums to 1, equals exp(x - max) / sum in double", arguments: [1, 15, 16, 17, 100, 729])
  func softmax(n: Int) {
    let x = (0..<n).map { Float(($0 * 37) % 23) * 0.7 - 5 }
    let y = Self.apply(Vec.softmax, x)
    let m = Double(x.max() ?? 0)
    let e = x.map { Foundation.exp(Double($0) - m) }
    let s = e.reduce(0, +)
    for i in 0..<n { #expect(abs(Double(y[i]) - e[i] / s) < 1e-7) }
  }

  @Test("RMSNorm and LayerNorm equal their definitions in double", arguments: [5, 16, 48, 1152])
  func norms(d: Int) {
    let x = (0..<d).map { Float(sin(Double($0) * 1.3)) * 3 + 0.5 }
    let w = (0..<d).map { 1 + Float(cos(Double($0))) * 0.1 }
    let b = (0..<d).map { Float($0 % 7) * 0.01 }
    var rms = [Float](repeating: 0, count: d), ln = rms
    Vec.rmsNorm(x, w, eps: 1e-6, d, &rms)
    Vec.layerNorm(x, w, b, eps: 1e-6, d, &ln)
    let xd = x.map(Double.init)
    let ms = xd.map { $0 * $0 }.reduce(0, +) / Double(d)
    let mean = xd.reduce(0, +) / Double(d)
    let variance = xd.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(d)
    for i in 0..<d {
      let r = xd[i] / (ms + 1e-6).squareRoot() * Double(w[i])
      let l = (xd[i] - mean) / (variance + 1e-6).squareRoot() * Double(w[i]) + Double(b[i])
      #expect(abs(Double(rms[i]) - r) < 1e-5 && abs(Double(ln[i]) - l) < 1e-5, "i = \(i)")
    }
  }

  @Test("RoPE equals transformers' apply_rotary_pos_emb up to position 32767")
  func rope() throws {
    struct Case: Decodable { let theta: Float; let head_dim: Int; let heads: Int; let positions: [Int]; let input: [Float]; let output: [Float] }
    let url = try #require(Bundle.module.url(forResource: "rope_reference", withExtension: "json", subdirectory: "Fixtures/models"))
    let c = try JSONDecoder().decode(Case.self, from: Data(contentsOf: url))
    let rope = RotaryEmbedding(headDim: c.head_dim, theta: c.theta)
    let width = c.heads * c.head_dim
    for (row, position) in c.positions.enumerated() {
      var x = Array(c.input[(row * width)..<((row + 1) * width)])
      x.withUnsafeMutableBufferPointer { rope.apply($0.baseAddress!, rows: 1, heads: c.heads, start: position) }
      let expected = Array(c.output[(row * width)..<((row + 1) * width)])
      // transformers computes cos/sin in float32; ours in double from the same float32 angle.
      #expect(relativeError(x, expected) < 2e-6, "position \(position): \(relativeError(x, expected))")
    }
  }

  @Test("long causal prefill (query rows in blocks of 128) equals attention in double", arguments: [(300, 0), (200, 70)])
  func longCausalPrefill(rows n: Int, start: Int) {
    let heads = 4, kvHeads = 2, hd = 16, length = start + n
    let q = (0..<(n * heads * hd)).map { Float(sin(Double($0) * 0.071)) }
    let k = (0..<(length * kvHeads * hd)).map { Float(cos(Double($0) * 0.037)) }
    let v = (0..<(length * kvHeads * hd)).map { Float(sin(Double($0) * 0.013 + 1)) }
    var out = [Float](repeating: 0, count: n * heads * hd)
    Attention.attend(q: q, keys: k, values: v, rows: n, start: start, heads: heads, kvHeads: kvHeads, headDim: hd,
                     causal: true, threads: 2, out: &out)
    let worst = KVCacheTests.worstError(out, q: q, keys: k, values: v, rows: n, start: start, heads: heads,
                                        kvHeads: kvHeads, hd: hd, rowStep: 7)  // rows in every block, the last one included
    #expect(worst < 1e-5, "worst \(worst)")
  }

  @Test("causal attention of one block equals row-by-row decoding (GQA 4:2)")
  func causalBlockEqualsIncremental() {
    let n = 6, heads = 4, kvHeads = 2, hd = 8
    let q = (0..<(n * heads * hd)).map { Float(sin(Double($0) * 0.71)) }
    let k = (0..<(n * kvHeads * hd)).map { Float(cos(Double($0) * 0.37)) }
    let v = (0..<(n * kvHeads * hd)).map { Float(sin(Double($0) * 0.13 + 1)) }
    var block = [Float](repeating: 0, count: n * heads * hd)
    Attention.attend(q: q, keys: k, values: v, rows: n, start: 0, heads: heads, kvHeads: kvHeads, headDim: hd,
                     causal: true, threads: 2, out: &block)
    for i in 0..<n {
      var row = [Float](repeating: 0, count: heads * hd)
      Array(q[(i * heads * hd)..<((i + 1) * heads * hd)]).withUnsafeBufferPointer { qp in
        Attention.attend(q: qp.baseAddress!, keys: k, values: v, rows: 1, start: i, heads: heads, kvHeads: kvHeads,
                         headDim: hd, causal: true, threads: 1, out: &row)
      }
      // Direct evaluation in double for head 3 (kv head 1).
      let qBase = i * heads * hd + 3 * hd
      var scores: [Double] = []
      for j in 0...i {
        let kBase = j * kvHeads * hd + hd
        var dot = 0.0
        for c in 0..<hd { dot += Double(q[qBase + c]) * Double(k[kBase + c]) }
        scores.append(dot / Double(hd).squareRoot())
      }
      let m = scores.max() ?? 0
      scores = scores.map { Foundation.exp($0 - m) }
      let s = scores.reduce(0, +)
      for c in 0..<hd {
        var ref = 0.0
        for j in 0...i { ref += scores[j] / s * Double(v[j * kvHeads * hd + hd + c]) }
        #expect(abs(Double(row[3 * hd + c]) - ref) < 1e-5)
      }
      #expect(relativeError(row, Array(block[(i * heads * hd)..<((i + 1) * heads * hd)])) < 1e-6)
    }
  }
}
