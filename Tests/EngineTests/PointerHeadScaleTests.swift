import Foundation
import Testing
@testable import Engine

// The pointer head at the embedded nano model's size on a 1920x1080 screenshot: AnyRes cuts it
// into 5 x 9 = 45 tiles of 8 x 8 tokens, so the head attends over 2880 keys of width 256 and
// must still give a distribution over all of them. Random weights; the parity with PyTorch is
// checked in GroundingTests/PointerHeadTests. Its speed is a benchmark's job (BENCHMARKS.md).

@Suite struct PointerHeadScaleTests {
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
    let scores = try model.pointerScores(tokens: tokens, imageEmbeddings: embeddings, imagePadId: imagePad,
                                         keyRows: thumbnail..<rows).scores
    #expect(scores.count == tiles * perTile)
    #expect(abs(scores.reduce(0, +) - 1) < 1e-3 && scores.allSatisfy { $0.isFinite && $0 >= 0 })
  }
}
