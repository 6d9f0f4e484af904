// MARK: - Linear products with a weight kept in its stored type
//
// Decode (a few rows of x) reads the weight once at its stored size: for the quantized types, as
// llama.cpp does (`WeightStorage.storedInt8Decode`, the GGUF default; Q8Activations.swift: x
// rounded to int8 blocks, integer block dots in Weights/Int8Dot.swift), or through the fused
// float `quantizedRowDot` (f16/bf16/f32 weights, and `WeightStorage.stored`).
// A longer batch (prefill) dequantizes W a block of rows at a time into a small float32 scratch
// and takes the float product on it (`GEMM.product`: float activations, 3x faster here than
// integer dots per row), so no dense copy of the whole matrix is ever kept.

extension QuantizedMatrix {
  /// Batches below this many rows use the fused dot per row; from it on, dequantize + sgemm.
  static let batchedProductRows = 4
  /// W rows dequantized at a time for the batched product: (512, in) floats of scratch per thread.
  /// Each product copies all of x into its kernel's layout once, so blocks of W much smaller
  /// than this spend as long copying x as multiplying (64 rows did, measured with perf).
  static let scratchRows = 512

  /// out (rows, W.rows) = x (rows, W.columns) @ W^T + bias; W's rows are split across
  /// `threads` threads.
  /// `int8Decode`: below `batchedProductRows` rows, round x to int8 blocks for the types
  /// `Q8Row` handles (all quantized types).
  func linearProduct(_ x: UnsafePointer<Float>, rows n: Int, bias: [Float]?, int8Decode: Bool, threads: Int,
                     _ out: UnsafeMutablePointer<Float>) {
    // Decode rows of GGML block types under int8 decode: x rounded to int8 blocks, integer dots.
    if int8Decode, Self.int8DecodeProducts([self], biases: [bias], x, rows: n, threads: threads, out) { return }
    let m = rows, k = columns
    // GGML block types under int8 decode: prefill rounds both operands to int8 blocks too, where
    // the CPU has the kernel for it (`GEMM.PackedInt8Rows`).
    let int8Prefill = int8Decode && Q8Row.layout(for: type) != nil && n >= Self.batchedProductRows
    let packed = int8Prefill ? GEMM.PackedInt8Rows(x, rows: n, k: k, threads: threads) : nil  // x rounded once
    // The float product's copy of x, made once, when a thread's share of W spans several
    // scratch blocks.
    let shares = Parallel.parts(m, threads: threads, minimumPerRange: 64)
    let floatPacked = packed == nil && n >= Self.batchedProductRows && (m + shares - 1) / shares > Self.scratchRows
      ? GEMM.PackedRows(x, rows: n, k: k, threads: threads) : nil
    Parallel.ranges(m, threads: threads, minimumPerRange: 64) { features in
      if n < Self.batchedProductRows {
        for r in 0..<n {
          let xr = x + r * k, yr = out + r * m
          // W[f] (k,) · x_r (k,) -> out[r, f]
          for f in features { yr[f] = quantizedRowDot(type, rowPointer(f), xr, count: k) }
        }
      } else if let packed, packed.times(blocks: rowPointer(features.lowerBound), type: type, rowBytes: rowBytes,
                                         n: features.count, c: out + features.lowerBound, ldc: m) {
        // Q8_0, Q4_0 and Q5_0 weights are int8 blocks already: multiplied as stored, no float copy.
      } else {
        var scratch = [Float](repeating: 0, count: min(Self.scratchRows, features.count) * k)  // (512, k)
        scratch.withUnsafeMutableBufferPointer { sp in
          guard let s = sp.baseAddress else { return }
          var f0 = features.lowerBound
          while f0 < features.upperBound {
            let count = min(Self.scratchRows, features.upperBound - f0)
            dequantize(type, from: rowPointer(f0), count: count * k, into: s)  // W[f0..<f0+count] (count, k)
            // x (n, k) @ W_block^T (k, count) -> out[:, f0..<f0+count] (n, count), row stride m
            if let packed {
              packed.times(s, n: count, c: out + f0, ldc: m)
            } else if let floatPacked {
              floatPacked.times(s, n: count, c: out + f0, ldc: m)
            } else {
              GEMM.product(m: n, n: count, k: k, a: x, lda: k, b: s, ldb: k, transposeB: true, c: out + f0, ldc: m)
            }
            f0 += count
          }
        }
      }
      if let bias {
        for r in 0..<n {
          for f in features { out[r * m + f] += bias[f] }
        }
      }
    }
  }

  /// Decode rows (fewer than `batchedProductRows`) of x (n, k) through several int8-decode
  /// matrices that read the same x, such as a layer's q, k and v or an MLP's gate and up:
  /// out (n, sum of their rows) holds each row's products matrix after matrix (matrix i's block
  /// (n, W_i.rows) at n times the rows before it, row stride W_i.rows), biases added. One
  /// parallel dispatch covers all the matrices' rows in contiguous shares, and x is rounded once
  /// per activation layout: separate products each paid a dispatch and rounded x again.
  /// Returns false, writing nothing, unless every matrix is a block type under int8 decode of
  /// width k and n is a decode batch.
  static func int8DecodeProducts(_ matrices: [QuantizedMatrix], biases: [[Float]?], _ x: UnsafePointer<Float>,
                                 rows n: Int, threads: Int, _ out: UnsafeMutablePointer<Float>) -> Bool {
    let layouts = matrices.compactMap { Q8Row.layout(for: $0.type) }
    guard n > 0, n < batchedProductRows, let k = matrices.first?.columns, layouts.count == matrices.count,
          matrices.allSatisfy({ $0.columns == k }) else { return false }
    var activations: [[Q8Row]] = [], kernels: [Int8RowsKernel] = [], starts: [Int] = []
    var total = 0
    for (i, (w, layout)) in zip(matrices, layouts).enumerated() {
      // x's rows, rounded once per layout
      let earlier = layouts[..<i].firstIndex(of: layout)
      activations.append(earlier.map { activations[$0] } ?? (0..<n).map { Q8Row(x + $0 * k, count: k, layout: layout) })
      kernels.append(int8RowsKernel(w.type, blocks: k / w.type.blockSize))
      starts.append(total)
      total += w.rows
    }
    Parallel.ranges(total, threads: threads, minimumPerRange: 64) { share in
      for (i, w) in matrices.enumerated() {
        // This share's rows of matrix i, in its own row numbers.
        let lo = max(share.lowerBound, starts[i]) - starts[i], hi = min(share.upperBound, starts[i] + w.rows) - starts[i]
        guard lo < hi else { continue }
        let block = out + n * starts[i]  // (n, w.rows)
        for (r, a) in activations[i].enumerated() {
          let yr = block + r * w.rows
          // W[f] (k,) · x_r (k,) -> out[r, f], one row at a time: a single sequential stream of
          // weights (two rows interleaved streamed at a quarter of the read bandwidth here)
          kernels[i](w.rowPointer(lo), w.rowBytes, hi - lo, a, yr + lo)
          if let bias = biases[i] {
            for f in lo..<hi { yr[f] += bias[f] }
          }
        }
      }
    }
    return true
  }

  /// Row `r` of W as float32: (columns,) written to `dst`. `r` is checked by the caller.
  func dequantizeRow(_ r: Int, into dst: UnsafeMutablePointer<Float>) {
    dequantize(type, from: rowPointer(r), count: columns, into: dst)
  }
}
