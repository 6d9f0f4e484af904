// MARK: - Scaled dot-product attention over interleaved heads
//
// Activations keep all heads of a token in one row: q (n, Hq * hd), k and v (L, Hkv * hd).
// One head is a strided view (leading dimension = row length), so each head is two sgemm
// calls without copies. Query head h reads key/value head h / (Hq / Hkv) (grouped-query).

enum Attention {
  /// out (n, Hq * hd) = softmax(q k^T / sqrt(hd) [+ causal mask]) v for every head.
  /// - q: (n, Hq*hd) at positions `start..<start+n`; keys, values: (L, Hkv*hd), L >= start+n
  ///   rows valid (a cache's buffers may have more rows; only the first `start+n` are read).
  /// - causal: row i sees keys 0...start+i; otherwise every row sees all `start+n` keys.
  static func attend(
    q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
    rows n: Int, start: Int, heads: Int, kvHeads: Int, headDim hd: Int, causal: Bool,
    threads: Int, out: UnsafeMutablePointer<Float>
  ) {
    let length = start + n
    let qStride = heads * hd, kvStride = kvHeads * hd
    let group = heads / kvHeads
    let scale = 1 / Float(hd).squareRoot()
    // Heads split between threads; each range has its own scores buffer and writes only
    // its heads' columns of `out`.
    Parallel.ranges(heads, threads: threads) { headRange in
      var scores = [Float](repeating: 0, count: n * length)  // (n, L) for one head at a time
      scores.withUnsafeMutableBufferPointer { sp in
        guard let s = sp.baseAddress else { return }
        for h in headRange {
          let kvh = h / group
          // q_h (n, hd) @ K_kvh^T (hd, L) * scale -> scores (n, L)
          BLAS.gemm(m: n, n: length, k: hd, alpha: scale, a: q + h * hd, lda: qStride,
                    b: keys + kvh * hd, ldb: kvStride, transposeB: true, c: s, ldc: length)
          for i in 0..<n {
            let row = s + i * length
            let visible = causal ? start + i + 1 : length
            Vec.softmax(row, visible)
            if visible < length { (row + visible).update(repeating: 0, count: length - visible) }
          }
          // P (n, L) @ V_kvh (L, hd) -> out_h (n, hd), rows of stride Hq*hd
          BLAS.gemm(m: n, n: hd, k: length, a: s, lda: length, b: values + kvh * hd,
                    ldb: kvStride, transposeB: false, c: out + h * hd, ldc: qStride)
        }
      }
    }
  }
}
