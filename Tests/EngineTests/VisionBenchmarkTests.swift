import Foundation
import Testing
@testable import Engine

// MARK: - The vision tower benchmark's arithmetic and its path through the tower

@Suite("Vision benchmark")
struct VisionBenchmarkTests {
  @Test("multiply-adds counted by hand for a tiny tower")
  func work() {
    // 28 px tiles of 7 px patches: g = 4, S = 16; D = 32, I = 48, C = 3, 2 layers.
    let v = SiglipVisionConfig(hiddenSize: 32, intermediateSize: 48, numHiddenLayers: 2, numAttentionHeads: 2,
                               imageSize: 28, patchSize: 7)
    let w = VisionBenchmark.Work(v)
    #expect(w.patchEmbedding == 16 * 32 * (3 * 7 * 7))   // 75,264
    #expect(w.projections == 4 * 16 * 32 * 32)           // q, k, v, out: 65,536
    #expect(w.attention == 2 * (2 * 16 * 16 * 16))       // 2 heads of 16: scores + values, 16,384
    #expect(w.mlp == 16 * 32 * 48 + 16 * 48 * 32)        // fc1 + fc2: 49,152
    #expect(w.multiplyAdds == 75_264 + 2 * (65_536 + 16_384 + 49_152))
    #expect(w.flops == 2 * Double(w.multiplyAdds))
    #expect(VisionBenchmark.Work(v, layers: 27).multiplyAdds == 75_264 + 27 * w.perLayer)
    // so400m at 378 px: 729 patches, about 24.6 GFLOP a layer.
    let so400m = BlueLMVLConfig.fullSize(visionLayers: 27, textLayers: 1).visionConfig
    #expect(abs(VisionBenchmark.Work(so400m).flops / 1e9 - 666.4) < 0.1)
  }

  @Test("full depth scales the layer time and keeps the rest")
  func fullDepth() {
    let pass = VisionBenchmark.Pass(tiles: 2, seconds: 1.0, layerSeconds: 0.8, layers: 4)
    let full = pass.fullDepth(27)
    #expect(abs(full.seconds - (0.2 + 0.8 * 27 / 4)) < 1e-12)
    #expect(abs(full.tilesPerSecond - 2 / 5.6) < 1e-12)
    #expect(full.layers == 27 && full.tiles == 2)
    #expect(pass.fullDepth(4) == pass)
  }

  @Test("the MLP shape follows the tower's chunk of tiles")
  func mlpShape() {
    let v = BlueLMVLConfig.fullSize(visionLayers: 1, textLayers: 1).visionConfig
    #expect(VisionBenchmark.mlpShape(v, tiles: 1) == (729, 4304, 1152))
    #expect(VisionBenchmark.mlpShape(v, tiles: 12) == (SiglipVisionTower.chunk * 729, 4304, 1152))
  }

  @Test("the timed path gives the tower's features (fixture against transformers)", arguments: ["llama_gqa", "qwen2_tied_bf16"])
  func encode(variant: String) throws {
    let fixture = try ModelFixture(variant)
    let model = try fixture.model()
    let (features, pass) = try VisionBenchmark.encode(model, tiles: fixture.reference("tiles"), threads: 2)
    #expect(relativeError(features, try fixture.reference("vision_features")) <= ModelParityTests.tolerance)
    #expect(pass.tiles == fixture.manifest.n_tiles && pass.layers == model.config.visionConfig.numHiddenLayers)
    #expect(pass.layerSeconds > 0 && pass.layerSeconds <= pass.seconds)
    #expect(throws: EngineError.self) { try VisionBenchmark.encode(model, tiles: [1, 2, 3], threads: 1) }
  }

  @Test("random tiles are seeded and in [-1, 1); the sgemm rate is a finite positive number")
  func tilesAndRate() {
    let v = SiglipVisionConfig(hiddenSize: 16, intermediateSize: 32, numHiddenLayers: 1, numAttentionHeads: 2,
                               imageSize: 21, patchSize: 7)
    let a = VisionBenchmark.randomTiles(v, count: 2, seed: 3)
    #expect(a.count == 2 * 3 * 21 * 21 && a.allSatisfy { $0 >= -1 && $0 < 1 })
    #expect(a == VisionBenchmark.randomTiles(v, count: 2, seed: 3) && a != VisionBenchmark.randomTiles(v, count: 2, seed: 4))
    let rate = VisionBenchmark.sgemmRate(m: 64, n: 256, k: 32, threads: 2, repeats: 2)
    #expect(rate.isFinite && rate > 0)
  }
}
