#if arch(x86_64)
import AVX512Kernels
#endif

// MARK: - A decoder layer's attention over its KV cache
//
// The layer hands over its new rows' queries, keys and values (after RoPE); the cache stores the
// keys and values at `length ..< length + n` and the queries attend over rows 0 ..< length + n.
// With a binary16 cache the new keys and values are rounded to the stored values first, so a
// prefill sees exactly what later decode steps read back.

extension KVCache {
  /// Stores layer l's n new rows and returns attention's output (n, Hq * hd), causal.
  /// - keys, values: (n, Hkv * hd), rounded in place to the stored values (binary16 cache).
  /// - The caller advances `length` after the last layer.
  mutating func appendAndAttend(
    layer l: Int, queries q: [Float], keys ks: inout [Float], values vs: inout [Float], rows n: Int,
    heads: Int, kvHeads: Int, headDim hd: Int, threads: Int
  ) -> [Float] {
    let start = length, w = rowWidth, total = start + n
    var out = [Float](repeating: 0, count: n * heads * hd)  // (n, Hq*hd)
    switch precision {
    case .f32:
      keys[l].replaceSubrange((start * w)..<(total * w), with: ks)
      values[l].replaceSubrange((start * w)..<(total * w), with: vs)
      q.withUnsafeBufferPointer { qp in keys[l].withUnsafeBufferPointer { kp in
        values[l].withUnsafeBufferPointer { vp in out.withUnsafeMutableBufferPointer { op in
          Attention.attend(q: qp.baseAddress!, keys: kp.baseAddress!, values: vp.baseAddress!,
                           rows: n, start: start, heads: heads, kvHeads: kvHeads, headDim: hd,
                           causal: true, threads: threads, out: op.baseAddress!)
        } }
      } }
    case .f16:
      // Binary16 rows are stored head by head, (Hkv, capacity, hd): a decode step streams each
      // head's keys and values from one contiguous run.
      // (Static: a method of self here would hold a copy of self, and the store would copy the layer.)
      let capacity = capacity
      Self.store(&halfKeys[l], capacity: capacity, rounding: &ks, rows: n, at: start, kvHeads: kvHeads, headDim: hd)
      Self.store(&halfValues[l], capacity: capacity, rounding: &vs, rows: n, at: start, kvHeads: kvHeads, headDim: hd)
      if n == 1 {  // a decode step: read the binary16 rows directly
        q.withUnsafeBufferPointer { qp in halfKeys[l].withUnsafeBufferPointer { kp in
          halfValues[l].withUnsafeBufferPointer { vp in out.withUnsafeMutableBufferPointer { op in
            Attention.attendOne(q: qp.baseAddress!, halfKeys: kp.baseAddress!, halfValues: vp.baseAddress!,
                                length: total, headStride: capacity * hd, heads: heads, kvHeads: kvHeads,
                                headDim: hd, threads: threads, out: op.baseAddress!)
          } }
        } }
        return out
      }
      // A block of rows: the products go through the float GEMM, so the earlier rows are
      // widened once (the new ones are already in ks / vs, rounded).
      var kAll = ks, vAll = vs
      if start > 0 {
        kAll = widened(halfKeys[l], rows: start, kvHeads: kvHeads, headDim: hd) + ks
        vAll = widened(halfValues[l], rows: start, kvHeads: kvHeads, headDim: hd) + vs
      }
      q.withUnsafeBufferPointer { qp in kAll.withUnsafeBufferPointer { kp in
        vAll.withUnsafeBufferPointer { vp in out.withUnsafeMutableBufferPointer { op in
          Attention.attend(q: qp.baseAddress!, keys: kp.baseAddress!, values: vp.baseAddress!,
                           rows: n, start: start, heads: heads, kvHeads: kvHeads, headDim: hd,
                           causal: true, threads: threads, out: op.baseAddress!)
        } }
      } }
    }
    return out
  }

  /// Rows x (n, Hkv * hd) rounded to binary16 into positions start ..< start + n of a
  /// (Hkv, capacity, hd) buffer; x becomes the values stored.
  private static func store(_ half: inout [UInt16], capacity: Int, rounding x: inout [Float], rows n: Int,
                            at start: Int, kvHeads: Int, headDim hd: Int) {
    let headStride = capacity * hd
    half.withUnsafeMutableBufferPointer { hp in x.withUnsafeMutableBufferPointer { xp in
      guard let h = hp.baseAddress, let x = xp.baseAddress else { return }
      for i in 0..<n {
        for kvh in 0..<kvHeads {
          Vec.roundToHalf(x + (i * kvHeads + kvh) * hd, hd, into: h + kvh * headStride + (start + i) * hd)
        }
      }
    } }
  }

  /// Positions 0 ..< rows of a (Hkv, capacity, hd) binary16 buffer as float rows (rows, Hkv * hd).
  private func widened(_ half: [UInt16], rows: Int, kvHeads: Int, headDim hd: Int) -> [Float] {
    let count = rows * rowWidth, headStride = capacity * hd
    return [Float](unsafeUninitializedCapacity: count) { buf, filled in
      half.withUnsafeBufferPointer { hp in
        guard let h = hp.baseAddress, let y = buf.baseAddress else { return }
        for i in 0..<rows {
          for kvh in 0..<kvHeads {
            convertPlainFloats(.f16, from: h + kvh * headStride + i * hd, count: hd, into: y + (i * kvHeads + kvh) * hd)
          }
        }
      }
      filled = count
    }
  }
}

extension Attention {
  /// A decode step's kernel over binary16 rows: q, keys, values, length, headStride, heads,
  /// kvHeads, headDim, threads, out (the parameters of `attendOne`).
  typealias HalfDecodeKernel = (UnsafePointer<Float>, UnsafePointer<UInt16>, UnsafePointer<UInt16>, Int, Int, Int, Int,
                                Int, Int, UnsafeMutablePointer<Float>) -> Void

  /// Key rows widened per block in a decode step: 256 x hd floats (64 KB at hd 64) stay in L2
  /// while every query head of the group reads them.
  static let halfBlockRows = 256

  /// One query row (1, Hq * hd) at position length - 1 over `length` binary16 key and value
  /// rows, stored head by head (head kvh's row j at kvh * headStride + j * hd): a decode step,
  /// vector products with no GEMM packing. Heads are split between threads in contiguous ranges.
  /// With AVX-512, `attendOne512`; otherwise `attendOneWidened`.
  static func attendOne(
    q: UnsafePointer<Float>, halfKeys keys: UnsafePointer<UInt16>, halfValues values: UnsafePointer<UInt16>,
    length: Int, headStride: Int, heads: Int, kvHeads: Int, headDim hd: Int, threads: Int,
    out: UnsafeMutablePointer<Float>
  ) {
    #if arch(x86_64)
    if CPUFeatures.avx512, hd % 16 == 0 {
      attendOne512(q: q, halfKeys: keys, halfValues: values, length: length, headStride: headStride, heads: heads,
                   kvHeads: kvHeads, headDim: hd, threads: threads, out: out)
      return
    }
    #endif
    attendOneWidened(q: q, halfKeys: keys, halfValues: values, length: length, headStride: headStride, heads: heads,
                     kvHeads: kvHeads, headDim: hd, threads: threads, out: out)
  }

  /// Splits a range of query heads into runs of at most `most` consecutive heads that share a
  /// key/value head: body(first head, its key/value head, heads in the run).
  @inline(__always)
  static func groupRuns(_ heads: Range<Int>, group: Int, most: Int, _ body: (Int, Int, Int) -> Void) {
    var h = heads.lowerBound
    while h < heads.upperBound {
      let kvh = h / group
      let count = min(most, heads.upperBound - h, (kvh + 1) * group - h)
      body(h, kvh, count)
      h += count
    }
  }

  /// `attendOne` on any CPU: within a thread's range of heads, each block of a key/value head's
  /// rows is widened to float32 once and read by all of that head's query heads in the range.
  static func attendOneWidened(
    q: UnsafePointer<Float>, halfKeys keys: UnsafePointer<UInt16>, halfValues values: UnsafePointer<UInt16>,
    length: Int, headStride: Int, heads: Int, kvHeads: Int, headDim hd: Int, threads: Int,
    out: UnsafeMutablePointer<Float>
  ) {
    let group = heads / kvHeads
    let scale = 1 / Float(hd).squareRoot()
    let block = min(halfBlockRows, length)
    Parallel.ranges(heads, threads: threads) { headRange in
      var scores = [Float](repeating: 0, count: min(group, headRange.count) * length)  // (g, L)
      var rows = [Float](repeating: 0, count: block * hd)  // one block of widened rows (block, hd)
      scores.withUnsafeMutableBufferPointer { sp in rows.withUnsafeMutableBufferPointer { rp in
        guard let s = sp.baseAddress, let r = rp.baseAddress else { return }
        groupRuns(headRange, group: group, most: group) { h, kvh, count in
          for j0 in stride(from: 0, to: length, by: block) {  // scores = q k^T * scale
            let n = min(block, length - j0)
            convertPlainFloats(.f16, from: keys + kvh * headStride + j0 * hd, count: n * hd, into: r)
            for g in 0..<count {
              let qh = q + (h + g) * hd, sg = s + g * length + j0
              var j = 0
              if hd % 16 == 0 {
                while j + 4 <= n {
                  let d = scale * Vec.dots4(qh, r + j * hd, stride: hd, hd)
                  sg[j] = d[0]; sg[j + 1] = d[1]; sg[j + 2] = d[2]; sg[j + 3] = d[3]
                  j += 4
                }
              }
              while j < n { sg[j] = scale * Vec.dot(qh, r + j * hd, hd); j += 1 }
            }
          }
          for g in 0..<count { Vec.softmax(s + g * length, length) }
          for j0 in stride(from: 0, to: length, by: block) {  // out_h = sum_j p_j v_j
            let n = min(block, length - j0)
            convertPlainFloats(.f16, from: values + kvh * headStride + j0 * hd, count: n * hd, into: r)
            for g in 0..<count {
              Vec.weightedRows(s + g * length + j0, n, r, stride: hd, hd, out + (h + g) * hd, accumulate: j0 > 0)
            }
          }
        }
      } }
    }
  }

  #if arch(x86_64)
  /// `attendOne` by the AVX-512 kernels: up to 4 query heads of a group at a time, straight from
  /// the binary16 rows.
  static func attendOne512(
    q: UnsafePointer<Float>, halfKeys keys: UnsafePointer<UInt16>, halfValues values: UnsafePointer<UInt16>,
    length: Int, headStride: Int, heads: Int, kvHeads: Int, headDim hd: Int, threads: Int,
    out: UnsafeMutablePointer<Float>
  ) {
    let group = heads / kvHeads
    let scale = 1 / Float(hd).squareRoot()
    Parallel.ranges(heads, threads: threads) { headRange in
      var scores = [Float](repeating: 0, count: 4 * length)  // (4, L)
      scores.withUnsafeMutableBufferPointer { sp in
        guard let s = sp.baseAddress else { return }
        groupRuns(headRange, group: group, most: 4) { h, kvh, count in
          AVX512.halfScores(q: q + h * hd, ldq: hd, queries: count, keys: keys + kvh * headStride, count: length,
                            headDim: hd, scale: scale, scores: s, lds: length)
          for g in 0..<count { Vec.softmax(s + g * length, length) }
          AVX512.halfWeightedRows(p: s, ldp: length, queries: count, values: values + kvh * headStride,
                                  count: length, headDim: hd, out: out + h * hd, ldo: hd)
        }
      }
    }
  }
  #endif
}
