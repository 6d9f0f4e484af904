import Foundation
import Testing
@testable import Engine

// MARK: - Random full-size weights and the engine benchmark

@Suite("Random weights and benchmark")
struct ModelBenchmarkTests {
  @Test("random weights cover the name table, load into the model, and are deterministic")
  func randomWeights() throws {
    let config = try ModelFixture("qwen2_tied_bf16").model().config
    let source = RandomWeightSource(config: config, seed: 5)
    let model = try BlueLMVLModel(config: config, weights: source)
    var cache = model.makeCache(capacity: 4)
    let logits = try model.prefill(tokens: [1, 2, 3], cache: &cache)
    #expect(logits.allSatisfy { $0.isFinite })
    let name = BlueLMVLTensorNames.projector1 + ".weight"
    let a = try source.floats(name), b = try RandomWeightSource(config: config, seed: 5).floats(name)
    #expect(a == b)
    let c = try RandomWeightSource(config: config, seed: 6).floats(name)
    #expect(c != a)
    // std 1/sqrt(fan_in) for matrices: fan_in = 4 * 24 = 96.
    let mean = a.reduce(0, +) / Float(a.count)
    let std = (a.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(a.count)).squareRoot()
    #expect(abs(std - 1 / Float(96).squareRoot()) < 0.01)
    #expect(throws: EngineError.missingTensor("nope")) { try source.floats("nope") }
  }

  @Test("full-size config has the format's dimensions")
  func fullSizeConfig() throws {
    let config = BlueLMVLConfig.fullSize()
    try config.validate()
    #expect(config.patchGrid == 27 && config.tokensPerTile == 196)
    #expect(config.textConfig.headDim == 128 && config.textConfig.numKeyValueHeads == 4)
  }

  @Test("benchmark at full width (set GUI_AGENT_BENCH=1; reduced depth)",
        .enabled(if: ProcessInfo.processInfo.environment["GUI_AGENT_BENCH"] == "1"))
  func benchmark() throws {
    var options = EngineBenchmark.Options.reduced
    options.threads = Int(ProcessInfo.processInfo.environment["GUI_AGENT_BENCH_THREADS"] ?? "") ?? 2
    let result = try EngineBenchmark.run(options)
    print(result.summary)
    #expect(result.decodeTokensPerSecond > 0)
  }
}
