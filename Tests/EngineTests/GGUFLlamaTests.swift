import Foundation
import Testing
@testable import Engine

// MARK: - GGUF llama pieces without the real file: metadata errors, row order, int8 products

extension GGUFBytes {
  mutating func kvString(_ key: String, _ v: String) { string(key); u32(GGUFValueType.string.rawValue); string(v) }
  mutating func kvStrings(_ key: String, _ vs: [String]) {
    string(key); u32(GGUFValueType.array.rawValue); u32(GGUFValueType.string.rawValue); u64(UInt64(vs.count))
    vs.forEach { string($0) }
  }
}

@Suite struct GGUFLlamaTests {
  /// A tensor-less GGUF with the given metadata, opened.
  private func file(_ build: (inout GGUFBytes) -> Void, kvs: UInt64) throws -> GGUFFile {
    var g = GGUFBytes()
    g.header(tensors: 0, kvs: kvs)
    build(&g)
    let dir = try WeightScratchDirectory()
    defer { dir.cleanup() }
    return try GGUFFile(url: try dir.write("meta.gguf", g.bytes))
  }

  @Test("another architecture, a missing key, an unsupported tokenizer: errors that name them")
  func metadataErrors() throws {
    let qwen = try file({ $0.kvString("general.architecture", "qwen3") }, kvs: 1)
    #expect(throws: EngineError.badConfig("\(qwen.path): general.architecture 'qwen3' is not llama")) {
      try DecoderTextConfig.llama(gguf: qwen)
    }
    let partial = try file({ g in
      g.kvString("general.architecture", "llama"); g.kvU32("llama.attention.head_count", 4)
    }, kvs: 2)
    #expect(throws: EngineError.badConfig("\(partial.path): GGUF key 'llama.embedding_length' is missing or not a positive integer")) {
      try DecoderTextConfig.llama(gguf: partial)
    }
    let spm = try file({ g in
      g.kvString("tokenizer.ggml.model", "llama"); g.kvStrings("tokenizer.ggml.tokens", ["a", "b"])
    }, kvs: 2)
    #expect(throws: EngineError.tokenizer("\(spm.path): tokenizer.ggml.model 'llama' is not supported (only gpt2, byte-level BPE)")) {
      try Tokenizer.gguf(spm)
    }
  }

  @Test("a GGUF tokenizer: control tokens are matched whole, merges applied, ids are indices")
  func smallTokenizer() throws {
    let tokens = ["<|end|>", "a", "b", "ab", "Ġ", "Ġab"]
    let f = try file({ g in
      g.kvString("tokenizer.ggml.model", "gpt2"); g.kvString("tokenizer.ggml.pre", "gpt2")
      g.kvStrings("tokenizer.ggml.tokens", tokens)
      g.kvStrings("tokenizer.ggml.merges", ["a b", "Ġ ab"])
      g.string("tokenizer.ggml.token_type"); g.u32(GGUFValueType.array.rawValue)
      g.u32(GGUFValueType.int32.rawValue); g.u64(6)
      for t: UInt32 in [3, 1, 1, 1, 1, 1] { g.u32(t) }
    }, kvs: 5)
    let t = try Tokenizer.gguf(f)
    #expect(t.encode("ab<|end|> ab") == [3, 0, 5])
    #expect(t.isSpecial(0))
    #expect(t.decode([3, 0, 5]) == "ab<|end|> ab")
  }

  @Test("q/k rows go back from llama.cpp's interleaved order to rotate-half")
  func rotateHalfOrder() throws {
    // 2 heads of 4: GGUF rows hold (head, pair i, member j) at h*4 + 2i + j; we want h*4 + 2j + i.
    #expect(try GGUFLlamaWeights.rotateHalfRowOrder(rows: 8, heads: 2, name: "q") == [0, 2, 1, 3, 4, 6, 5, 7])
    #expect(throws: EngineError.self) { try GGUFLlamaWeights.rotateHalfRowOrder(rows: 6, heads: 2, name: "k") }
  }

  /// Random blocks of `type`: f16 scales in a sane range, random quants.
  private func randomRow(_ type: TensorDType, blocks: Int, _ rng: inout SeededGenerator) -> [UInt8] {
    var bytes: [UInt8] = []
    func half(_ x: Float) { withUnsafeBytes(of: Float16(x).bitPattern.littleEndian) { bytes += $0 } }
    for _ in 0..<blocks {
      half(Float(rng.nextUnit()) * 0.02 + 0.001)
      if type == .q4_1 { half(Float(rng.nextUnit() - 0.5) * 0.1) }
      let quants = type == .q8_0 ? 32 : 16
      for _ in 0..<quants { bytes.append(UInt8(truncatingIfNeeded: rng.next())) }
    }
    return bytes
  }

  /// Rows of `type` made by our quantizer (bit-equal to ggml's) from random weights, with a few
  /// outliers so that scales and K-quant minimums vary.
  private func quantizedRows(_ type: TensorDType, rows: Int, k: Int, _ rng: inout SeededGenerator) throws -> [UInt8] {
    var bytes: [UInt8] = []
    for _ in 0..<rows {
      let w = (0..<k).map { j in Float(rng.nextUnit() - 0.3) * (j % 37 == 0 ? 0.4 : 0.05) }
      bytes += try Quantizer.quantize(type, w, tensor: "w")
    }
    return bytes
  }

  @Test("int8 products equal the float dot of the dequantized row and the int8 activations",
        arguments: [TensorDType.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K])
  func int8Dot(type: TensorDType) throws {
    var rng = SeededGenerator(seed: 7)
    let k = 512, rows = 8
    let bytes = [TensorDType.q4_0, .q4_1, .q8_0].contains(type)
      ? (0..<rows).flatMap { _ in randomRow(type, blocks: k / 32, &rng) }  // raw blocks: every quant value
      : try quantizedRows(type, rows: rows, k: k, &rng)
    let w = try QuantizedMatrix(type: type, rows: rows, columns: k, bytes: bytes)
    let dense = w.dequantized()  // (rows, k)
    let x = (0..<k).map { j in Float(rng.nextUnit() * 4 - 2) * (j % 100 == 3 ? 8 : 1) }
    let layout = try #require(Q8Row.layout(for: type))
    let a = x.withUnsafeBufferPointer { Q8Row($0.baseAddress!, count: k, layout: layout) }
    // The int8 row stands for x to half a step (plus the f16 rounding of Q8_0/Q8_1's scale).
    let block = a.blockSize
    for j in 0..<k {
      let d = a.scales[j / block]
      #expect(abs(Int(a.bytes[j])) <= 127)
      #expect(abs(x[j] - d * Float(a.bytes[j])) <= 0.51 * abs(d) + 127 * abs(d) / 1024, "\(type) x[\(j)]")
    }
    if layout == .q8_K {  // bsums: the sums of each 16 values
      for g in 0..<k / 16 { #expect(a.sums[g] == Float((0..<16).reduce(0) { $0 + Int(a.bytes[16 * g + $1]) })) }
    }
    let xq = (0..<k).map { Double(a.scales[$0 / block]) * Double(a.bytes[$0]) }
    var out = [Float](repeating: 0, count: rows)
    x.withUnsafeBufferPointer { xp in out.withUnsafeMutableBufferPointer { op in
      w.linearProduct(xp.baseAddress!, rows: 1, bias: nil, int8Decode: true, threads: 2, op.baseAddress!)
    } }
    for r in 0..<rows {
      var exact = 0.0, magnitude = 0.0
      for j in 0..<k { exact += Double(dense[r * k + j]) * xq[j]; magnitude += abs(Double(dense[r * k + j]) * xq[j]) }
      // Q4_1/Q5_1's offset term uses s = d * sum(q) rounded to f16 (llama.cpp's block_q8_1): 2^-11 relative.
      let offsetRounding = [TensorDType.q4_1, .q5_1].contains(type) ? 1e-3 * magnitude : 0
      #expect(out[r].isFinite && abs(Double(out[r]) - exact) <= 1e-5 * magnitude + offsetRounding,
              "\(type) row \(r): \(out[r]) vs \(exact)")
    }
  }

  #if arch(x86_64)
  @Test("the AVX2 byte-product kernels give the portable kernels' sums on every quant pattern",
        arguments: [TensorDType.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K])
  func avx2MatchesPortable(type: TensorDType) throws {
    var rng = SeededGenerator(seed: 11)
    let k = type.blockSize == 256 ? 768 : 800, rows = 6  // an odd number of blocks: the loop's tail
    // Random bytes for whole blocks (every quant, high bit, sub-block scale), with sane f16 scales.
    let bytes = MatVecBenchmark.randomRows(type, bytes: rows * k / type.blockSize * type.blockBytes, &rng)
    let x = (0..<k).map { j in Float(rng.nextUnit() * 4 - 2) * (j % 61 == 5 ? 9 : 1) }
    let a = x.withUnsafeBufferPointer { Q8Row($0.baseAddress!, count: k, layout: Q8Row.layout(for: type)!) }
    try bytes.withUnsafeBytes { raw in
      let base = try #require(raw.baseAddress)
      let rowBytes = k / type.blockSize * type.blockBytes
      for r in 0..<rows {
        let f = avx2RowDot(type, base + r * rowBytes, a), s = portableRowDot(type, base + r * rowBytes, a)
        #expect(f.isFinite && abs(f - s) <= 1e-5 * max(1, abs(s)), "\(type) row \(r): \(f) vs \(s)")
      }
    }
  }

  @Test("the AVX-512 kernels give the portable kernels' sums on every quant pattern",
        arguments: [TensorDType.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K])
  func avx512MatchesPortable(type: TensorDType) throws {
    guard CPUFeatures.avx512 else {
      print("avx512MatchesPortable(\(type)): skipped, this CPU lacks AVX-512 VNNI (or GUI_AGENT_KERNELS=avx2)")
      return
    }
    var rng = SeededGenerator(seed: 13)
    // Block counts that are odd and not multiples of 4 (the last step overlaps the one before it).
    for blocks in type.blockSize == 256 ? [1, 2, 3, 6] : [4, 5, 6, 7, 18, 25] {
      // 37 rows: two groups of 16 summed by one reduction tree each, then 5 one by one.
      let k = blocks * type.blockSize, rows = 37, rowBytes = blocks * type.blockBytes
      let bytes = MatVecBenchmark.randomRows(type, bytes: rows * rowBytes, &rng)
      let x = (0..<k).map { j in Float(rng.nextUnit() * 4 - 2) * (j % 61 == 5 ? 9 : 1) }
      let a = x.withUnsafeBufferPointer { Q8Row($0.baseAddress!, count: k, layout: Q8Row.layout(for: type)!) }
      let kernel = try #require(avx512RowsKernel(type, blocks: blocks))
      var w = [Float](repeating: 0, count: k), out = [Float](repeating: .nan, count: rows)
      try bytes.withUnsafeBytes { raw in
        let base = try #require(raw.baseAddress)
        out.withUnsafeMutableBufferPointer { kernel(base, rowBytes, rows, a, $0.baseAddress!) }
        for r in 0..<rows {
          let f = out[r], s = portableRowDot(type, base + r * rowBytes, a)
          // Both sum in float lanes grouped differently, and random blocks make sums whose terms
          // cancel (the K-quants' minimums, Q6_K's -32): rounding is bounded by the terms' size
          // sum |w_j x_j| (a misread quant would be off by about one term, ~1/k of it).
          w.withUnsafeMutableBufferPointer { dequantize(type, from: base + r * rowBytes, count: k, into: $0.baseAddress!) }
          let terms = (0..<k).reduce(0.0) { $0 + abs(Double(w[$1]) * Double(a.scales[$1 / a.blockSize]) * Double(a.bytes[$1])) }
          #expect(f.isFinite && Double(abs(f - s)) <= 1e-5 * Double(abs(s)) + 1e-6 * terms,
                  "\(type) x\(blocks) blocks, row \(r): \(f) vs \(s) (terms \(terms))")
        }
      }
    }
  }
  #endif

  @Test("products of several matrices on one input (q/k/v, gate/up) equal the products one by one",
        arguments: [1, 2])
  func fusedDecodeProducts(threads: Int) throws {
    var rng = SeededGenerator(seed: 21)
    let k = 256
    // Mixed types and layouts, as a Q4_K_M file mixes them; odd row counts; one matrix with a bias.
    let shapes: [(TensorDType, Int)] = [(.q5_0, 70), (.q8_0, 33), (.q4_K, 129), (.q5_1, 17), (.q6_K, 5)]
    let linears = try shapes.enumerated().map { i, shape in
      let w = try QuantizedMatrix(type: shape.0, rows: shape.1, columns: k,
                                  bytes: try quantizedRows(shape.0, rows: shape.1, k: k, &rng))
      let bias = i == 1 ? (0..<shape.1).map { _ in Float(rng.nextUnit()) } : nil
      return Linear(.quantized(w, int8Decode: true), bias: bias)
    }
    for rows in [1, 3, 5] {  // 5: a prefill batch, taken product by product
      let x = (0..<(rows * k)).map { _ in Float(rng.nextUnit() * 2 - 1) }
      let together = Linear.products(linears, x, rows: rows, threads: threads)
      #expect(together.count == linears.count)
      for (l, out) in zip(linears, together) {
        #expect(out == l(x, rows: rows, threads: threads), "rows \(rows), \(l.outFeatures) outputs")
      }
    }
  }

  @Test("int8 products: a NaN activation gives NaN, as the float product does",
        arguments: [TensorDType.q5_1, .q8_0, .q4_K, .q6_K])
  func int8NaN(type: TensorDType) throws {
    var rng = SeededGenerator(seed: 3)
    let k = 256
    let w = try QuantizedMatrix(type: type, rows: 2, columns: k, bytes: try quantizedRows(type, rows: 2, k: k, &rng))
    var x = (0..<k).map { _ in Float(rng.nextUnit()) }
    x[40] = .nan
    var out = [Float](repeating: 0, count: 2)
    x.withUnsafeBufferPointer { xp in out.withUnsafeMutableBufferPointer { op in
      w.linearProduct(xp.baseAddress!, rows: 1, bias: nil, int8Decode: true, threads: 1, op.baseAddress!)
    } }
    #expect(out.allSatisfy { $0.isNaN }, "\(type): \(out)")
  }
}
