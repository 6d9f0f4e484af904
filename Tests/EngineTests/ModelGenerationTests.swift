import Foundation
import Testing
@testable import Engine

// MARK: - Greedy generation with the KV cache against transformers

@Suite("Generation")
struct ModelGenerationTests {
  @Test("greedy text continuation equals transformers' 16 tokens", arguments: ModelFixture.variants)
  func greedyText(variant: String) throws {
    let fixture = try ModelFixture(variant)
    let generator = Generator(model: try fixture.model(), parameters: GenerationParameters(maxTokens: 16))
    var streamed: [Int] = []
    let result = try generator.generate(prompt: fixture.manifest.text_ids, onToken: { streamed.append($0); return true })
    #expect(result.tokens == fixture.manifest.text_greedy)
    #expect(streamed == result.tokens)
    #expect(result.finishReason == .length)
    #expect(result.cacheLength == fixture.manifest.text_ids.count + 15)
  }

  @Test("greedy continuation after an image equals transformers'", arguments: ModelFixture.variants)
  func greedyImage(variant: String) throws {
    let fixture = try ModelFixture(variant)
    let model = try fixture.model()
    let images = try model.encodeImages(tiles: fixture.reference("tiles"))
    let generator = Generator(model: model, parameters: GenerationParameters(maxTokens: 16))
    let result = try generator.generate(prompt: fixture.manifest.image_ids, imageEmbeddings: images,
                                        imagePadId: fixture.imagePad)
    #expect(result.tokens == fixture.manifest.image_greedy)
  }

  @Test("stops on an eos id, a stop string, a cancel; forced tokens replace samples")
  func stopping() throws {
    let fixture = try ModelFixture("llama_gqa")
    let model = try fixture.model()
    let expected = fixture.manifest.text_greedy
    let prompt = fixture.manifest.text_ids
    // eos: the fourth greedy token.
    var byEos = Generator(model: model, parameters: GenerationParameters(maxTokens: 16, eosTokenIds: [expected[3]]))
    var result = try byEos.generate(prompt: prompt)
    let firstEos = try #require(expected.firstIndex(of: expected[3]))
    #expect(result.tokens == Array(expected[...firstEos]))
    #expect(result.finishReason == .eos(expected[3]))
    // stop string over a toy detokenizer (one letter-number word per id).
    byEos.parameters = GenerationParameters(maxTokens: 16, stopStrings: ["<\(expected[5])>"])
    result = try byEos.generate(prompt: prompt, detokenize: { $0.map { "<\($0)>" }.joined() })
    let firstStop = try #require(expected.firstIndex(of: expected[5]))
    #expect(result.tokens == Array(expected[...firstStop]))
    #expect(result.finishReason == .stopString("<\(expected[5])>"))
    // cancel after 3 tokens.
    byEos.parameters = GenerationParameters(maxTokens: 16)
    var count = 0
    result = try byEos.generate(prompt: prompt, onToken: { _ in count += 1; return count < 3 })
    #expect(result.tokens == Array(expected[..<3]) && result.finishReason == .cancelled)
    // forcing token 7 as the second token changes what follows, and the forced id is kept.
    result = try byEos.generate(prompt: prompt, force: { $0.count == 1 ? 7 : nil })
    #expect(result.tokens[0] == expected[0] && result.tokens[1] == 7)
    var cache = model.makeCache(capacity: 64)
    let afterForced = try model.prefill(tokens: prompt + [expected[0], 7], cache: &cache)
    #expect(result.tokens[2] == argmax(afterForced))
    // Stop strings need a detokenizer.
    byEos.parameters = GenerationParameters(maxTokens: 4, stopStrings: ["x"])
    #expect(throws: EngineError.self) { try byEos.generate(prompt: prompt) }
  }
}
