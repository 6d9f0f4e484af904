// MARK: - Weight storage

/// How a model holds its matrices and multiplies by them.
public enum WeightStorage: Sendable, Equatable {
  /// Converted to float32 at load; BLAS products (float32 checkpoints).
  case float32
  /// Kept in the file's type (GGUF blocks stay quantized); products with float32 activations,
  /// so results equal float math on the dequantized weights up to rounding.
  case stored
  /// As `stored`, but decode (below 4 rows) rounds activations to int8 blocks before products
  /// with quantized weights, as llama.cpp does (`Q8Row`, Weights/Int8Dot.swift); the GGUF
  /// default. Measured on SmolLM2 Q4_1: 1.2-1.3x the float decode rate; a step's logits move by
  /// up to 0.42 (llama.cpp's own rounding noise). Prefill too rounds both operands to int8 blocks
  /// of 32 where the CPU has AVX-512 VNNI (`GEMM.PackedInt8Rows`), as llama.cpp's Q8_0 products do;
  /// float32 elsewhere. f16/bf16/f32 weights stay float32 throughout.
  case storedInt8Decode
}

// MARK: - Linear

/// y = x W^T + b, as `nn.Linear`: W (out, in) row-major, b (out,) optional.
/// W is either dense float32 (BLAS products, float32 checkpoints) or kept in its stored type
/// (`QuantizedMatrix`: bf16 / f16 checkpoints and GGUF blocks; see QuantizedLinear.swift for its
/// products).
struct Linear: Sendable {
  enum Weight: Sendable {
    case dense(Tensor)               // (out, in) f32
    /// (out, in) in GGML blocks / f16 / f32; `int8Decode`: see `WeightStorage.storedInt8Decode`.
    case quantized(QuantizedMatrix, int8Decode: Bool)
  }
  let weight: Weight
  let bias: [Float]?  // (out,)
  let outFeatures: Int
  let inFeatures: Int

  /// Loads `<prefix>.weight` (out, in) held as `storage` says and, when `bias`,
  /// `<prefix>.bias` (out,).
  init(_ source: any WeightSource, _ prefix: String, in inFeatures: Int, out outFeatures: Int,
       bias: Bool, storage: WeightStorage = .float32) throws(EngineError) {
    weight = try Self.load(source, prefix + ".weight", shape: [outFeatures, inFeatures], storage: storage)
    self.bias = bias ? try source.tensor(prefix + ".bias", shape: [outFeatures]).data : nil
    self.outFeatures = outFeatures
    self.inFeatures = inFeatures
  }

  init(weight: Tensor, bias: [Float]?) {
    self.init(.dense(weight), bias: bias)
  }

  init(_ weight: Weight, bias: [Float]?) {
    self.weight = weight
    self.bias = bias
    switch weight {
    case let .dense(w): outFeatures = w.shape[0]; inFeatures = w.shape[1]
    case let .quantized(w, _): outFeatures = w.rows; inFeatures = w.columns
    }
  }

  /// The matrix `name`, checked to have `shape` (out, in), held as `storage` says.
  static func load(_ source: any WeightSource, _ name: String, shape: [Int],
                   storage: WeightStorage) throws(EngineError) -> Weight {
    guard storage != .float32 else { return .dense(try source.tensor(name, shape: shape)) }
    guard let info = source.info(name) else { throw .missingTensor(name) }
    guard info.shape == shape else { throw .badTensorShape(name: name, expected: shape, actual: info.shape) }
    return .quantized(try source.matrix(name), int8Decode: storage == .storedInt8Decode)
  }

  /// x (rows, in) -> (rows, out). The output features are split between `threads` threads.
  func callAsFunction(_ x: [Float], rows: Int, threads: Int = 1) -> [Float] {
    guard rows > 0 else { return [] }
    var out = [Float](repeating: 0, count: rows * outFeatures)  // (rows, out)
    x.withUnsafeBufferPointer { xp in
      out.withUnsafeMutableBufferPointer { op in
        guard let xb = xp.baseAddress, let ob = op.baseAddress else { return }
        switch weight {
        case let .dense(w): Self.denseProduct(w, bias: bias, xb, rows: rows, threads: threads, ob)
        case let .quantized(w, int8): w.linearProduct(xb, rows: rows, bias: bias, int8Decode: int8, threads: threads, ob)
        }
      }
    }
    return out
  }

  /// x (rows, in) through each of `linears`, all `in` wide: their outputs, in order. Decode rows
  /// of int8-decode matrices take one dispatch for all (`QuantizedMatrix.int8DecodeProducts`);
  /// anything else, one product after the other.
  static func products(_ linears: [Linear], _ x: [Float], rows: Int, threads: Int) -> [[Float]] {
    var matrices: [QuantizedMatrix] = []
    for l in linears {
      guard case let .quantized(w, int8Decode: true) = l.weight else { break }
      matrices.append(w)
    }
    if rows > 0, rows < QuantizedMatrix.batchedProductRows, matrices.count == linears.count, linears.count > 1 {
      let total = linears.reduce(0) { $0 + $1.outFeatures }
      var all = [Float](repeating: 0, count: rows * total)  // each matrix's (rows, out) block in turn
      let done = x.withUnsafeBufferPointer { xp in all.withUnsafeMutableBufferPointer { ap in
        guard let xb = xp.baseAddress, let ab = ap.baseAddress else { return false }
        return QuantizedMatrix.int8DecodeProducts(matrices, biases: linears.map(\.bias), xb, rows: rows, threads: threads, ab)
      } }
      if done {
        var at = 0
        return linears.map { l in
          defer { at += rows * l.outFeatures }
          return Array(all[at..<(at + rows * l.outFeatures)])
        }
      }
    }
    return linears.map { $0(x, rows: rows, threads: threads) }
  }

  /// Each thread runs a single-threaded sgemm/sgemv on its block of W's rows (OpenBLAS itself
  /// stays at one thread: its idle workers spin and would steal the cores from ours).
  private static func denseProduct(_ weight: Tensor, bias: [Float]?, _ xb: UnsafePointer<Float>, rows: Int,
                                   threads: Int, _ ob: UnsafeMutablePointer<Float>) {
    let m = weight.shape[0], k = weight.shape[1]
    weight.data.withUnsafeBufferPointer { wp in
      guard let wb = wp.baseAddress else { return }
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
        GEMM.product(m: rows, n: cols.count, k: k, a: xb, lda: k, b: wb + cols.lowerBound * k, ldb: k, transposeB: true,
                     accumulate: bias != nil, c: ob + cols.lowerBound, ldc: m)
      }
    }
  }
}
