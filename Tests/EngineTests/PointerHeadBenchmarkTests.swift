import Foundation
import Testing
@testable import Engine

// The pointer head at the embedded nano model's size on a 1920x1080 screenshot: AnyRes cuts it
// into 5 x 9 = 45 tiles of 8 x 8 tokens, so the head attends over 2880 keys of width 256.
// Random weights (the cost does not depend on the values); the parity with PyTorch is checked
// in GroundingTests/PointerHeadTests.

@Suite struct PointerHeadBenchmarkTests {
  static func nanoConfig() -> BlueLMVLConfig {
    var config = BlueLMVLConfig(
      visionConfig: SiglipVisionConfig(hiddenSize: 192, intermediateSize: 768, numHiddenLayers: 6,
                                       numAttentionHeads: 3, imageSize: 224, patchSize: 14),
      textConfig: DecoderTextConfig(modelType: "llama", hiddenSize: 256, intermediateSize: 704, numHiddenLayers: 4,
                                    numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 64, vocabSize: 2048))
    config.pointerStartTokenId = 2045; config.pointerPadTokenId = 2046; config.pointerEndTokenId = 2047
    return config
  }

  @Test func headOver45TilesAtNanoWidth() throws {
    let config = Self.nanoConfig()
    let threads = 2
    let model = try BlueLMVLModel(config: config, weights: RandomWeightSource(config: config, seed: 3), threads: threads)
    let ids = try #require(model.pointerTokenIds)
    let d = 256, perTile = 64, tiles = 45, thumbnail = perTile
    let imagePad = 7
    // image_start, thumbnail, 5 rows of 9 tiles each ending with a newline, image_end; some text.
    var tokens = [10, 11, 12, 1] + [Int](repeating: imagePad, count: thumbnail)
    for _ in 0..<5 { tokens += [Int](repeating: imagePad, count: 9 * perTile) + [3] }
    tokens += [2] + Array(100..<120) + [13] + ids.sequence
    let rows = thumbnail + tiles * perTile
    var random = SeededGenerator(seed: 9)
    let embeddings = (0..<(rows * d)).map { _ in Float(random.nextUnit() * 2 - 1) }
    var head: [Double] = [], prefill: [Double] = [], cpu: [Double] = []
    var last: PointerScores? = nil
    for _ in 0..<3 {
      let c0 = clock()
      let s = try model.pointerScores(tokens: tokens, imageEmbeddings: embeddings, imagePadId: imagePad,
                                      keyRows: thumbnail..<rows)
      cpu.append(Double(clock() - c0) / Double(CLOCKS_PER_SEC))
      head.append(s.headSeconds); prefill.append(s.prefillSeconds); last = s
    }
    let scores = try #require(last).scores
    #expect(scores.count == tiles * perTile)
    #expect(abs(scores.reduce(0, +) - 1) < 1e-3 && scores.allSatisfy { $0.isFinite && $0 >= 0 })
    // The head alone, in wall and CPU time (the machine may be shared: CPU time / threads is
    // what the wall time would be on idle cores).
    let pointerHead = try #require(model.pointerHead)
    let keysIn = Array(embeddings[(thumbnail * d)...])
    let hidden = [Float](repeating: 0.5, count: d)
    var headCPU: [Double] = [], headWall: [Double] = []
    for _ in 0..<3 {
      let c0 = clock(), w0 = ContinuousClock.now
      let keys = pointerHead.keys(keysIn, rows: tiles * perTile, threads: threads)
      _ = pointerHead.logits(keys: keys, rows: tiles * perTile, hidden: hidden, threads: threads)
      headCPU.append(Double(clock() - c0) / Double(CLOCKS_PER_SEC)); headWall.append((ContinuousClock.now - w0).seconds)
    }
    // The machine's sgemm rate at the same moment, to read the figures against (about 125
    // GFLOP/s a thread on idle cores of the project's machine, platform notes).
    let square = [Float](repeating: 0.01, count: 1024 * 1024)
    var product = [Float](repeating: 0, count: 1024 * 1024)
    let g0 = clock()
    square.withUnsafeBufferPointer { ap in product.withUnsafeMutableBufferPointer { cp in
      guard let a = ap.baseAddress, let c = cp.baseAddress else { return }
      BLAS.gemm(m: 1024, n: 1024, k: 1024, a: a, lda: 1024, b: a, ldb: 1024, transposeB: true, c: c, ldc: 1024)
    } }
    let gflops = 2 * 1024 * 1024 * 1024 / (Double(clock() - g0) / Double(CLOCKS_PER_SEC)) / 1e9
    let ms = { (v: [Double]) in String(format: "%.1f", v.sorted()[v.count / 2] * 1000) }
    print("pointer head, 1920x1080 (45 tiles, \(tiles * perTile) keys x \(d)), \(threads) threads: head \(ms(head)) ms, prefill of \(tokens.count) tokens \(ms(prefill)) ms; CPU time of both \(ms(cpu)) ms (medians of 3); the head alone: wall \(ms(headWall)) ms, CPU \(ms(headCPU)) ms; sgemm 1024^3 at \(String(format: "%.0f", gflops)) GFLOP/s a thread meanwhile")
  }
}
