import Foundation
import Testing
@testable import Engine

// MARK: - The real SmolLM2-135M-Instruct GGUF (Q4_1) against llama.cpp
//
// References: Fixtures/smollm2/reference.json, made by scripts/fixtures/make_smollm2_fixtures.py
// with llama-cpp-python on the same file. The file itself is fetched by scripts/fetch-models
// (run by `make test`); without it these tests fail, naming the command to run.

enum SmolLM2 {
  struct Reference: Decodable {
    struct Encoding: Decodable { let text: String; let ids: [Int] }
    struct Generation: Decodable {
      let name: String, prompt: String, prompt_ids: [Int], ids: [Int], top2_gaps: [Double], text: String
    }
    let eos_id: Int
    let tokenizer: [Encoding]
    let generations: [Generation]
  }

  static let fileName = "SmolLM2-135M-Instruct.Q4_1.gguf"

  static var path: String {
    let env = ProcessInfo.processInfo.environment
    let cache = env["GUI_AGENT_CACHE"] ?? (NSHomeDirectory() + "/.cache/gui-agent")
    return cache + "/models/" + fileName
  }

  /// The model file's path, or a failure that says how to get it.
  static func requireFile() throws -> String {
    guard FileManager.default.fileExists(atPath: path) else {
      Issue.record("\(path) is missing: run scripts/fetch-models (make test does) to download \(fileName)")
      throw CancellationError()
    }
    return path
  }

  static func reference() throws -> Reference {
    let url = try #require(Bundle.module.url(forResource: "reference", withExtension: "json", subdirectory: "Fixtures/smollm2"))
    return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
  }

  /// Loaded once for the whole suite (about 100 MB mapped, q/k rows copied).
  static let loaded: Result<LoadedModel, EngineError> = {
    do { return .success(try ModelLoader.load(path: path, threads: 2)) } catch { return .failure(error) }
  }()

  static func model() throws -> LoadedModel {
    _ = try requireFile()
    return try loaded.get()
  }
}

@Suite("SmolLM2 GGUF", .serialized)
struct SmolLM2Tests {
  @Test("GGUF metadata gives the llama config and a tied output")
  func config() throws {
    let file = try GGUFFile(path: try SmolLM2.requireFile())
    let c = try DecoderTextConfig.llama(gguf: file)
    #expect(c == DecoderTextConfig(modelType: "llama", hiddenSize: 576, intermediateSize: 1536, numHiddenLayers: 30,
                                   numAttentionHeads: 9, numKeyValueHeads: 3, headDim: 64, rmsNormEps: 1e-5,
                                   ropeTheta: 100_000, vocabSize: 49152, maxPositionEmbeddings: 8192,
                                   tieWordEmbeddings: true))
    let m = try SmolLM2.model()
    #expect(m.family == "llama")
    #expect(m.eosIds == [0, 2])
    #expect(m.template == .chatML(system: "You are a helpful AI assistant named SmolLM, trained by Hugging Face"))
    #expect(throws: EngineError.invalidArgument("this model has no vision tower: it cannot encode images")) {
      try m.network.encodeImages(tiles: [0])
    }
  }

  @Test("token ids equal llama.cpp's for the whole corpus (special tokens parsed)")
  func tokenizer() throws {
    let m = try SmolLM2.model()
    for entry in try SmolLM2.reference().tokenizer {
      #expect(m.tokenizer.encode(entry.text) == entry.ids, "\(entry.text.debugDescription)")
    }
  }

  @Test("the chat template renders the prompt llama.cpp was given")
  func template() throws {
    let m = try SmolLM2.model()
    let g = try #require(try SmolLM2.reference().generations.first { $0.name == "capital" })
    #expect(m.promptIds("What is the capital of France?") == g.prompt_ids)
  }

  /// Greedy steps are compared until the first step whose best-vs-second logit gap is below
  /// `nearTie` in llama.cpp's logits or in ours: there the two computations (llama.cpp rounds
  /// activations to 8 bits for its quantized dots and keeps K/V in f16) may rightly differ.
  static let nearTie = 0.05

  @Test("greedy ids equal llama.cpp's up to the first near-tie", arguments: ["capital", "code", "german", "raw_story", "raw_list"])
  func greedy(name: String) throws {
    let m = try SmolLM2.model()
    let g = try #require(try SmolLM2.reference().generations.first { $0.name == name })
    let net = m.network
    var cache = net.makeCache(capacity: g.prompt_ids.count + g.ids.count + 1)
    var logits = try net.prefill(tokens: g.prompt_ids, imageEmbeddings: nil, imagePadId: -1, cache: &cache)
    var matched = 0
    for (step, expected) in g.ids.enumerated() {
      let (best, gap) = topTwo(logits)
      if g.top2_gaps[step] < Self.nearTie || gap < Float(Self.nearTie) { break }
      #expect(best == expected, "\(name): step \(step) gave \(best), llama.cpp \(expected) (our gap \(gap), theirs \(g.top2_gaps[step]))")
      guard best == expected else { break }
      matched += 1
      if step + 1 < g.ids.count { logits = try net.decode(token: best, cache: &cache) }
    }
    print("SmolLM2 greedy \(name): \(matched)/\(g.ids.count) steps equal to llama.cpp")
    // Every prompt has at least 7 steps before its first near-tie (see reference.json).
    #expect(matched >= 7)
  }

  @Test("end to end: a chat question gives words")
  func endToEnd() throws {
    let m = try SmolLM2.model()
    let c = try m.complete(promptIds: m.promptIds("What is the capital of France?"), maxTokens: 24)
    #expect(["stop", "length"].contains(c.finishReasonName))
    #expect(c.text.contains { $0.isLetter }, "\(c.text.debugDescription)")
    #expect(!c.answer.isEmpty)
  }

  @Test("thinking budget: reasoning is closed after 8 tokens with </think>")
  func thinking() throws {
    let m = try SmolLM2.model()
    let mode = ThinkingMode.think(budget: 8)
    let c = try m.complete(promptIds: m.promptIds("What is 2+2?", thinking: mode), maxTokens: 24, thinking: mode)
    #expect(c.reasoningTokens <= 8 && c.reasoningTokens > 0)
    let close = m.tokenizer.encode("</think>")
    let hasClose = c.ids.indices.contains { i in c.ids[i...].starts(with: close) }
    #expect(hasClose, "ids \(c.ids) hold no </think> (\(close))")
    if c.reasoningTokens == 8 { #expect(c.closedByBudget) }
  }
}

/// Index of the largest logit and its margin over the second largest.
private func topTwo(_ logits: [Float]) -> (Int, Float) {
  var best = 0, first = -Float.infinity, second = -Float.infinity
  for (i, v) in logits.enumerated() {
    if v > first { second = first; first = v; best = i } else if v > second { second = v }
  }
  return (best, first - second)
}
