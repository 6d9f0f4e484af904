import Foundation
import Testing
@testable import Engine

// Golden tests against Hugging Face `tokenizers` (scripts/fixtures/make_tokenizer_fixtures.py):
// every (tokenizer, text) pair must give exactly the reference ids and decoded text.

/// One tokenizer fixture and its references.
struct TokenizerFixture {
  struct Case: Decodable {
    let text: String
    let ids: [Int]
    let ids_with_special: [Int]
    let decoded: String
    let decoded_skip_special: String
    let roundtrip: Bool
  }
  struct Stream: Decodable {
    let ids: [Int]
    let steps: [String?]
  }
  struct Reference: Decodable {
    let vocab_size: Int
    let cases: [Case]
    let streams: [Stream]
    let single_id_decodes: [String]
  }

  static let names = ["gpt2", "llama3", "qwen2", "smollm", "llama2_bytefallback", "llama2_unk", "splits", "numbers"]

  static func url(_ name: String, _ kind: String) throws -> URL {
    let file = "\(name).\(kind)"
    return try #require(Bundle.module.url(forResource: file, withExtension: "json", subdirectory: "Fixtures/tokenizer"),
                        "fixture \(file).json is missing")
  }

  static func tokenizer(_ name: String) throws -> Tokenizer {
    try Tokenizer.load(jsonAt: url(name, "tokenizer"))
  }

  static func reference(_ name: String) throws -> Reference {
    try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url(name, "reference")))
  }
}

/// A string's exact scalars: Swift's `==` on strings is canonical equivalence, which would
/// take "e\u{301}" for "é"; tokenizers does not.
func exact(_ s: String) -> [Unicode.Scalar] { Array(s.unicodeScalars) }

@Suite("Tokenizer goldens (tokenizers 0.23)")
struct TokenizerFixtureTests {
  @Test("encode gives the reference ids", arguments: TokenizerFixture.names)
  func encodeMatches(name: String) throws {
    let tok = try TokenizerFixture.tokenizer(name)
    let ref = try TokenizerFixture.reference(name)
    for c in ref.cases {
      #expect(tok.encode(c.text) == c.ids, "\(name): \(c.text.debugDescription)")
      #expect(tok.encode(c.text, addSpecialTokens: true) == c.ids_with_special,
              "\(name) with special tokens: \(c.text.debugDescription)")
    }
  }

  @Test("decode gives the reference text", arguments: TokenizerFixture.names)
  func decodeMatches(name: String) throws {
    let tok = try TokenizerFixture.tokenizer(name)
    let ref = try TokenizerFixture.reference(name)
    for c in ref.cases {
      let decoded = tok.decode(c.ids)
      #expect(exact(decoded) == exact(c.decoded), "\(name): \(c.text.debugDescription)")
      #expect(exact(tok.decode(c.ids, skipSpecial: true)) == exact(c.decoded_skip_special),
              "\(name) skip: \(c.text.debugDescription)")
      #expect((exact(decoded) == exact(c.text)) == c.roundtrip, "\(name) round trip: \(c.text.debugDescription)")
    }
  }

  @Test("every id decodes alone as in tokenizers (lossy UTF-8 included)", arguments: TokenizerFixture.names)
  func singleIds(name: String) throws {
    let tok = try TokenizerFixture.tokenizer(name)
    let ref = try TokenizerFixture.reference(name)
    #expect(tok.vocabularySize == ref.vocab_size)
    for (id, text) in ref.single_id_decodes.enumerated() {
      #expect(exact(tok.decode([id])) == exact(text), "\(name): id \(id) (\(tok.token(for: id) ?? "nil"))")
    }
  }

  @Test("the streaming decoder emits what DecodeStream emits, step by step", arguments: TokenizerFixture.names)
  func streams(name: String) throws {
    let tok = try TokenizerFixture.tokenizer(name)
    let ref = try TokenizerFixture.reference(name)
    for s in ref.streams {
      var stream = tok.streamingDecoder()
      let steps = s.ids.map { stream.step($0) }
      #expect(steps.map { $0.map(exact) } == s.steps.map { $0.map(exact) }, "\(name): \(s.ids)")
      #expect(stream.finish() == nil)
      #expect(steps.compactMap { $0 }.joined() == tok.decode(s.ids))
    }
  }
}
