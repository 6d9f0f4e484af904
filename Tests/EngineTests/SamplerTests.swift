import Foundation
import Testing
@testable import Engine

// MARK: - Sampler against transformers' logits processors

@Suite("Sampler")
struct SamplerTests {
  struct Case: Decodable {
    let temperature: Float, top_k: Int, top_p: Float, min_p: Float, repetition_penalty: Float
    let logits: [Float]
    let context: [Int]
    let processed: [Float?]
  }

  static func cases() throws -> [Case] {
    let url = try #require(Bundle.module.url(forResource: "sampler_processors", withExtension: "json",
                                             subdirectory: "Fixtures/models"))
    return try JSONDecoder().decode([Case].self, from: Data(contentsOf: url))
  }

  @Test("processed logits equal transformers' processors (kept set exactly, values 1e-6)")
  func processorsMatchTransformers() throws {
    for (n, c) in try Self.cases().enumerated() {
      let sampler = try Sampler(SamplingParameters(temperature: c.temperature, topK: c.top_k, topP: c.top_p,
                                                   minP: c.min_p, repetitionPenalty: c.repetition_penalty))
      let got = sampler.processedLogits(c.logits, context: c.context)
      #expect(got.count == c.processed.count)
      for (i, (g, e)) in zip(got, c.processed).enumerated() {
        if let e {
          #expect(abs(g - e) <= 1e-6 * max(1, abs(e)), "case \(n) token \(i): \(g) vs \(e)")
        } else {
          #expect(g == -.infinity, "case \(n) token \(i) should be removed, got \(g)")
        }
      }
    }
  }

  @Test("greedy picks the first arg-max after the repetition penalty")
  func greedy() throws {
    var sampler = try Sampler(.greedy)
    #expect(sampler.sample(logits: [0.5, 2, 2, -1], context: []) == 1)
    var penalized = try Sampler(SamplingParameters(repetitionPenalty: 2))
    // 2 / 2 = 1 < 1.5: the penalty moves the choice off token 1.
    #expect(penalized.sample(logits: [0.5, 2, 1.5, -1], context: [1]) == 2)
  }

  @Test("the same seed gives the same samples; frequencies follow the softmax")
  func seededSampling() throws {
    let logits: [Float] = [1, 0, 2, -1, 0.5]
    var a = try Sampler(SamplingParameters(temperature: 1, seed: 42))
    var b = try Sampler(SamplingParameters(temperature: 1, seed: 42))
    let drawsA = (0..<20_000).map { _ in a.sample(logits: logits, context: []) }
    let drawsB = (0..<20_000).map { _ in b.sample(logits: logits, context: []) }
    #expect(drawsA == drawsB)
    let expected = Sampler.softmax(logits)
    for token in logits.indices {
      let frequency = Float(drawsA.filter { $0 == token }.count) / 20_000
      // 5 standard deviations of a binomial proportion at n = 20000 is at most 0.018.
      #expect(abs(frequency - expected[token]) < 0.018, "token \(token): \(frequency) vs \(expected[token])")
    }
    var other = try Sampler(SamplingParameters(temperature: 1, seed: 43))
    #expect((0..<200).map { _ in other.sample(logits: logits, context: []) } != Array(drawsA[..<200]))
  }

  @Test("top-k 2 never samples outside the two best")
  func topKSampling() throws {
    var s = try Sampler(SamplingParameters(temperature: 2, topK: 2, seed: 1))
    let draws = Set((0..<2000).map { _ in s.sample(logits: [3, 0, 2.9, 1, 2.8], context: []) })
    #expect(draws == [0, 2])
  }

  @Test("parameters out of range are named")
  func invalidParameters() {
    #expect(throws: EngineError.invalidArgument("top_p 0.0 is not in (0, 1]")) {
      try Sampler(SamplingParameters(topP: 0))
    }
    #expect(throws: EngineError.invalidArgument("top_k -1 is negative")) {
      try Sampler(SamplingParameters(topK: -1))
    }
  }
}
