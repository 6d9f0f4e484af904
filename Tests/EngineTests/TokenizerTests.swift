import Foundation
import Testing
@testable import Engine

@Suite("Tokenizer API and errors")
struct TokenizerTests {
  // MARK: - Built without JSON

  /// A GGUF loader builds the tokenizer from its token list and merges and a pre-tokenizer kind;
  /// the SmolLM fixture built that way must give the reference ids.
  @Test func builtFromVocabAndMergesMatchesReference() throws {
    let json = try #require(try JSONSerialization.jsonObject(
      with: Data(contentsOf: TokenizerFixture.url("smollm", "tokenizer"))) as? [String: Any])
    let model = try #require(json["model"] as? [String: Any])
    let vocab = try #require(model["vocab"] as? [String: Int])
    let merges = try #require(model["merges"] as? [[String]]).map { ($0[0], $0[1]) }
    let added = try #require(json["added_tokens"] as? [[String: Any]]).map {
      AddedToken(id: try #require($0["id"] as? Int), content: try #require($0["content"] as? String))
    }
    let tok = try Tokenizer(vocab: vocab, merges: merges, addedTokens: added, preTokenizer: .named("smollm"))
    let ref = try TokenizerFixture.reference("smollm")
    for c in ref.cases {
      #expect(tok.encode(c.text) == c.ids, "\(c.text.debugDescription)")
      #expect(exact(tok.decode(c.ids)) == exact(c.decoded))
    }
    // The GGUF path: a token list indexed by id.
    var tokens = [String](repeating: "", count: vocab.count)
    for (t, id) in vocab { tokens[id] = t }
    let fromList = Tokenizer(model: try BPEModel(tokens: tokens, merges: merges), addedTokens: added,
                             preTokenizer: try .named("smollm"))
    for c in ref.cases { #expect(fromList.encode(c.text) == c.ids, "\(c.text.debugDescription)") }
    #expect(tok.tokenId(for: "<|im_end|>") == added.first { $0.content == "<|im_end|>" }?.id)
    #expect(tok.token(for: try #require(tok.tokenId(for: "Ġthe"))) == "Ġthe")
    #expect(tok.tokenId(for: "no such token") == nil)
    #expect(tok.token(for: 1_000_000) == nil)
  }

  /// llama.cpp's "default" list (`llm_tokenizer_bpe`): punctuation runs, the GPT-2 regex, digit
  /// runs, then groups of three ASCII digits, each isolating its matches in turn.
  @Test func defaultKindSplitsLikeLlamaCppsList() throws {
    let pieces = try PreTokenizer.named("default").apply([Array("x=12345!! ab".unicodeScalars)])
    #expect(pieces.map { TokenDecoder.string($0) } == ["x", "=", "123", "45", "!!", "Ġab"])
  }

  @Test func unknownPreTokenizerKindIsNamed() {
    #expect(throws: EngineError.tokenizer("unsupported pre-tokenizer kind 'bloom'")) { try PreTokenizer.named("bloom") }
  }

  // MARK: - Streaming over split characters

  /// A vocabulary of the 256 byte tokens only: every multi-byte character spans several ids.
  private func bytesOnlyTokenizer() throws -> Tokenizer {
    var vocab: [String: Int] = [:]
    for (b, s) in ByteLevelAlphabet.byteToScalar.enumerated() { vocab[String(Character(s))] = b }
    return try Tokenizer(vocab: vocab, merges: [])
  }

  @Test func streamingHoldsIncompleteUTF8() throws {
    let tok = try bytesOnlyTokenizer()
    let ids = tok.encode("a日😀")
    #expect(ids == [0x61, 0xE6, 0x97, 0xA5, 0xF0, 0x9F, 0x98, 0x80])
    var stream = tok.streamingDecoder()
    let steps = ids.map { stream.step($0) }
    #expect(steps == ["a", nil, nil, "日", nil, nil, nil, "😀"])
    #expect(stream.finish() == nil)
  }

  @Test func streamingFinishFlushesIncompleteBytes() throws {
    let tok = try bytesOnlyTokenizer()
    var stream = tok.streamingDecoder()
    #expect(stream.step(0x41) == "A")
    #expect(stream.step(0xE6) == nil)
    #expect(stream.step(0x97) == nil)
    #expect(stream.finish() == "\u{FFFD}")
    #expect(tok.decode([0xE6, 0x97]) == "\u{FFFD}")
  }

  // MARK: - Errors

  private func minimalJSON(model: String = #"{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]}"#,
                           preTokenizer: String = "null", normalizer: String = "null", decoder: String = "null") -> Data {
    Data(#"{"version":"1.0","added_tokens":[],"normalizer":\#(normalizer),"pre_tokenizer":\#(preTokenizer),"post_processor":null,"decoder":\#(decoder),"model":\#(model)}"#.utf8)
  }

  private func message(_ body: () throws -> Void) -> String {
    do {
      try body()
      return "no error"
    } catch {
      return (error as? LocalizedError)?.errorDescription ?? "\(error)"
    }
  }

  @Test func minimalFileLoads() throws {
    let tok = try Tokenizer(jsonData: minimalJSON())
    #expect(tok.encode("abab") == [2, 2])
    #expect(tok.decode([2, 0]) == "ab a")  // no decoder: tokens joined by spaces, as tokenizers does
  }

  @Test(arguments: ["WordPiece", "Unigram"])
  func unknownModelTypeIsNamed(type: String) {
    let m = message { _ = try Tokenizer(jsonData: minimalJSON(model: #"{"type":"\#(type)","vocab":{}}"#)) }
    #expect(m.contains("'\(type)'"), "\(m)")
  }

  @Test func unknownPreTokenizerTypeIsNamed() {
    let m = message { _ = try Tokenizer(jsonData: minimalJSON(preTokenizer: #"{"type":"BertPreTokenizer"}"#)) }
    #expect(m.contains("'BertPreTokenizer'"), "\(m)")
  }

  @Test func unknownComponentsInsideSequencesAreNamed() {
    let pre = message {
      _ = try Tokenizer(jsonData: minimalJSON(preTokenizer: #"{"type":"Sequence","pretokenizers":[{"type":"Metaspace"}]}"#))
    }
    #expect(pre.contains("'Metaspace'"), "\(pre)")
    let norm = message { _ = try Tokenizer(jsonData: minimalJSON(normalizer: #"{"type":"Precompiled"}"#)) }
    #expect(norm.contains("'Precompiled'"), "\(norm)")
    let dec = message { _ = try Tokenizer(jsonData: minimalJSON(decoder: #"{"type":"WordPiece"}"#)) }
    #expect(dec.contains("'WordPiece'"), "\(dec)")
    let split = message {
      _ = try Tokenizer(jsonData: minimalJSON(
        preTokenizer: #"{"type":"Split","pattern":{"String":"x"},"behavior":"Sideways","invert":false}"#))
    }
    #expect(split.contains("'Sideways'"), "\(split)")
  }

  @Test func malformedJSONIsReported() {
    let m = message { _ = try Tokenizer(jsonData: Data(#"{"model": {"type": "BPE", "vocab": {"#.utf8)) }
    #expect(m.contains("malformed JSON"), "\(m)")
    let notObject = message { _ = try Tokenizer(jsonData: Data("[1, 2]".utf8)) }
    #expect(notObject.contains("not a JSON object"), "\(notObject)")
  }

  @Test func mergesNamingAbsentTokensAreNamed() {
    let left = message {
      _ = try Tokenizer(jsonData: minimalJSON(model: #"{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a c"]}"#))
    }
    #expect(left.contains("'c'"), "\(left)")
    let merged = message {
      _ = try Tokenizer(jsonData: minimalJSON(model: #"{"type":"BPE","vocab":{"a":0,"b":1},"merges":[["a","b"]]}"#))
    }
    #expect(merged.contains("'ab'"), "\(merged)")
    let noSpace = message {
      _ = try Tokenizer(jsonData: minimalJSON(model: #"{"type":"BPE","vocab":{"a":0},"merges":["ab"]}"#))
    }
    #expect(noSpace.contains("'ab'"), "\(noSpace)")
  }

  @Test func loadNamesTheFile() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).json")
    try minimalJSON(model: #"{"type":"Unigram","vocab":[]}"#).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    let m = message { _ = try Tokenizer.load(jsonAt: url) }
    #expect(m.contains(url.lastPathComponent) && m.contains("'Unigram'"), "\(m)")
  }
}
