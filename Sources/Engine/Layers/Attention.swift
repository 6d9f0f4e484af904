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
    // Causal rows go in blocks: block [i0, i1) needs only keys 0..<start+i1, which skips the
    // masked upper triangle's products (about half of a long prefill's attention work).
    if n == 1 {  // a decode step: one query row sees every key; vector products, no sgemm packing
      Parallel.ranges(heads, threads: threads) { headRange in
        var scores = [Float](repeating: 0, count: length)  // (L,) for one head at a time
        scores.withUnsafeMutableBufferPointer { sp in
          guard let s = sp.baseAddress else { return }
          for h in headRange {
            let kvh = h / group, qh = q + h * hd, oh = out + h * hd
            let kh = keys + kvh * hd
            var j = 0
            if hd % 16 == 0 {  // four keys at a time
              while j + 4 <= length {
                let d = scale * Vec.dots4(qh, kh + j * kvStride, stride: kvStride, hd)
                s[j] = d[0]; s[j + 1] = d[1]; s[j + 2] = d[2]; s[j + 3] = d[3]
                j += 4
              }
            }
            while j < length { s[j] = scale * Vec.dot(qh, kh + j * kvStride, hd); j += 1 }
            Vec.softmax(s, length)
            Vec.weightedRows(s, length, values + kvh * hd, stride: kvStride, hd, oh)  // sum_j p_j v_j
          }
        }
      }
      return
    }
    let block = causal ? 128 : max(n, 1)
    Parallel.ranges(heads, threads: threads) { headRange in
      var scores = [Float](repeating: 0, count: min(n, block) * length)  // (block, L) for one head at a time
      scores.withUnsafeMutableBufferPointer { sp in
        guard let s = sp.baseAddress else { return }
        for h in headRange {
          let kvh = h / group
          for i0 in stride(from: 0, to: n, by: block) {
            let rows = min(block, n - i0)
            let keys0 = causal ? start + i0 + rows : length  // keys this block can see
            // q_h rows (rows, hd) @ K_kvh^T (hd, keys0) * scale -> scores (rows, keys0)
            GEMM.product(m: rows, n: keys0, k: hd, alpha: scale, a: q + i0 * qStride + h * hd, lda: qStride,
                         b: keys + kvh * hd, ldb: kvStride, transposeB: true, c: s, ldc: keys0)
            for i in 0..<rows {
              let row = s + i * keys0
              let visible = causal ? start + i0 + i + 1 : length
              Vec.softmax(row, visible)
              if visible < keys0 { (row + visible).update(repeating: 0, count: keys0 - visible) }
            }
            // P (rows, keys0) @ V_kvh (keys0, hd) -> out_h rows (rows, hd), stride Hq*hd
            GEMM.product(m: rows, n: hd, k: keys0, a: s, lda: keys0, b: values + kvh * hd,
                         ldb: kvStride, transposeB: false, c: out + i0 * qStride + h * hd, ldc: qStride)
          }
        }
      }
    }
  }
}
