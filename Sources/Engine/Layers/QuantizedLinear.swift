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
    let m = rows, k = columns
    let layout = int8Decode && n < Self.batchedProductRows ? Q8Row.layout(for: type) : nil
    // GGML block types under int8 decode: prefill rounds both operands to int8 blocks too, where
    // the CPU has the kernel for it (`GEMM.PackedInt8Rows`).
    let int8Prefill = int8Decode && Q8Row.layout(for: type) != nil && n >= Self.batchedProductRows
    let packed = int8Prefill ? GEMM.PackedInt8Rows(x, rows: n, k: k, threads: threads) : nil  // x rounded once
    let activations = layout.map { l in (0..<n).map { Q8Row(x + $0 * k, count: k, layout: l) } } ?? []
    let int8Dots = int8RowsKernel(type, blocks: k / type.blockSize)  // AVX-512, AVX2 or portable
    Parallel.ranges(m, threads: threads, minimumPerRange: 64) { features in
      if !activations.isEmpty {
        for (r, a) in activations.enumerated() {
          let yr = out + r * m
          // W[f] (k,) · x_r (k,) -> out[r, f], one row at a time: a single sequential stream of
          // weights (two rows interleaved streamed at a quarter of the read bandwidth here)
          int8Dots(rowPointer(features.lowerBound), rowBytes, features.count, a, yr + features.lowerBound)
        }
      } else if n < Self.batchedProductRows {
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

  /// Row `r` of W as float32: (columns,) written to `dst`. `r` is checked by the caller.
  func dequantizeRow(_ r: Int, into dst: UnsafeMutablePointer<Float>) {
    dequantize(type, from: rowPointer(r), count: columns, into: dst)
  }
}
