import Foundation
import Testing
@testable import Engine

// Thinking through `LoadedModel.complete`: the budget on a real (tiny, random) checkpoint, and
// the reasoning/answer split on a scripted model that writes the markers when told to.

// MARK: - Fixtures

/// The tiny bluelm_vl checkpoint of the Grounding tests (scripts/fixtures/make_pipeline_fixtures.py),
/// by its place in the source tree: one copy serves both test targets.
private func tinyBlueLM() throws -> LoadedModel {
  let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("GroundingTests/Fixtures/tiny-bluelm")
  return try ModelLoader.load(path: dir.path)
}

/// A test double whose next token is always the next one of `script`: the logits put all mass
/// on `script[k]` at the k-th generated position (counted from the cache's length, so a forced
/// token advances the script like a sampled one).
private struct ScriptedModel: VisionLanguageModel {
  let vocabularySize: Int
  let script: [Int]
  let promptLength: Int

  func makeCache(capacity: Int, precision: KVCache.Precision) -> KVCache {
    KVCache(layerCount: 1, rowWidth: 1, capacity: capacity, precision: precision)
  }

  func encodeImages(tiles: [Float]) throws(EngineError) -> [Float] {
    throw .invalidArgument("the scripted model takes no images")
  }

  func prefill(tokens: [Int], imageEmbeddings: [Float]?, imagePadId: Int,
               cache: inout KVCache) throws(EngineError) -> [Float] {
    cache.length += tokens.count
    return logits(cache)
  }

  func decode(token: Int, cache: inout KVCache) throws(EngineError) -> [Float] {
    cache.length += 1
    return logits(cache)
  }

  /// One-hot logits (vocab,) on the scripted token of this position (the last one repeats).
  private func logits(_ cache: KVCache) -> [Float] {
    var out = [Float](repeating: -30, count: vocabularySize)
    let step = min(max(cache.length - promptLength, 0), script.count - 1)
    out[script[step]] = 30
    return out
  }
}

/// The tiny checkpoint's tokenizer and markers around a scripted network that writes `text`.
private func scripted(_ text: String, prompt: [Int]) throws -> LoadedModel {
  let real = try tinyBlueLM()
  let network = ScriptedModel(vocabularySize: real.tokenizer.vocabularySize,
                              script: real.tokenizer.encode(text), promptLength: prompt.count)
  return LoadedModel(family: real.family, path: real.path, network: network, tokenizer: real.tokenizer,
                     template: real.template, thinkingMarkers: real.thinkingMarkers, eosIds: real.eosIds,
                     vision: nil)
}

private func trimmed(_ s: String) -> String { s.trimmingCharacters(in: .whitespacesAndNewlines) }

// MARK: - Budget on the real checkpoint

@Suite struct ThinkingBudgetTests {
  static let prompt = "What is on the screen?"

  @Test(arguments: [0, 1, 5]) func budgetClosesReasoningExactly(_ budget: Int) throws {
    let model = try tinyBlueLM()
    let close = try #require(model.tokenizer.tokenId(for: "[|/BlueThink|]"))
    let maxTokens = 12
    let ids = model.promptIds(Self.prompt, thinking: .think(budget: budget))
    #expect(model.tokenizer.decode(ids).hasSuffix("[|AI|]:[|BlueThink|]\n"))

    // Unbounded: the random checkpoint never closes by itself (its special-token rows are zero).
    let free = try model.complete(promptIds: ids, maxTokens: maxTokens, thinking: .think(budget: nil))
    #expect(!free.ids.contains(close))
    #expect(free.reasoningTokens == maxTokens && free.answerTokens == 0 && !free.closedByBudget)

    var streamed = ""
    let c = try model.complete(promptIds: ids, maxTokens: maxTokens, thinking: .think(budget: budget)) { piece in
      streamed += piece
      return true
    }
    #expect(c.ids.count == maxTokens)
    #expect(c.ids.firstIndex(of: close) == budget)
    #expect(c.ids.count { $0 == close } == 1)
    #expect(c.reasoningTokens == budget)
    #expect(c.answerTokens == maxTokens - budget - 1)
    #expect(c.closedByBudget)
    #expect(c.finishReason == .length)
    // Reasoning is what the model wrote unhindered; the text splits at the marker.
    #expect(Array(c.ids[..<budget]) == Array(free.ids[..<budget]))
    #expect(c.reasoning == trimmed(model.tokenizer.decode(Array(c.ids[..<budget]))))
    #expect(c.answer == trimmed(model.tokenizer.decode(Array(c.ids[(budget + 1)...]))))
    #expect(c.text == model.tokenizer.decode(c.ids))
    #expect(streamed == c.text)
  }

  // MARK: - Scripted models

  @Test func modelClosesEarlyByItself() throws {
    let prompt = try tinyBlueLM().promptIds(Self.prompt, thinking: .think(budget: 50))
    let reasoning = "I see a window with a button"
    let model = try scripted(reasoning + "[|/BlueThink|]click (500,300)</s>", prompt: prompt)
    let c = try model.complete(promptIds: prompt, maxTokens: 64, thinking: .think(budget: 50))
    let reasoningIds = model.tokenizer.encode(reasoning)
    #expect(c.reasoning == reasoning)
    #expect(c.answer == "click (500,300)")
    #expect(c.reasoningTokens == reasoningIds.count)
    #expect(!c.closedByBudget)
    #expect(c.finishReason == .eos(try #require(model.eosIds.first)))
    #expect(c.answerTokens == model.tokenizer.encode("click (500,300)").count)
  }

  @Test func budgetCutsAScriptedReasoning() throws {
    let prompt = try tinyBlueLM().promptIds(Self.prompt, thinking: .think(budget: 3))
    let model = try scripted("one two three four five six[|/BlueThink|]ok</s>", prompt: prompt)
    let c = try model.complete(promptIds: prompt, maxTokens: 64, thinking: .think(budget: 3))
    let close = try #require(model.tokenizer.tokenId(for: "[|/BlueThink|]"))
    #expect(c.ids.firstIndex(of: close) == 3)
    #expect(c.reasoningTokens == 3 && c.closedByBudget)
    #expect(c.reasoning == trimmed(model.tokenizer.decode(Array(c.ids[..<3]))))
    // The model's own marker later on is answer text.
    #expect(c.answer.contains("[|/BlueThink|]"))
  }

  @Test func neverClosesWithoutBudget() throws {
    let prompt = try tinyBlueLM().promptIds(Self.prompt, thinking: .think(budget: nil))
    let text = "thinking about the screen and the buttons on it"
    let model = try scripted(text, prompt: prompt)
    let n = model.tokenizer.encode(text).count
    let c = try model.complete(promptIds: prompt, maxTokens: n, thinking: .think(budget: nil))
    #expect(c.reasoning == text)
    #expect(c.reasoningTokens == n)
    #expect(c.answer.isEmpty && c.answerTokens == 0)
    #expect(!c.closedByBudget)
    #expect(c.finishReason == .length)
  }

  @Test func markerInsideTheAnswerStaysInTheAnswer() throws {
    let prompt = try tinyBlueLM().promptIds(Self.prompt, thinking: .think(budget: nil))
    let model = try scripted("plan[|/BlueThink|]first[|/BlueThink|]second</s>", prompt: prompt)
    let c = try model.complete(promptIds: prompt, maxTokens: 64, thinking: .think(budget: nil))
    #expect(c.reasoning == "plan")
    #expect(c.answer == "first[|/BlueThink|]second")
    #expect(!c.closedByBudget)
    let close = try #require(model.tokenizer.tokenId(for: "[|/BlueThink|]"))
    #expect(c.ids.count { $0 == close } == 2)
  }
}
