import Foundation

// MARK: - Tokenizer

/// A byte-level BPE tokenizer that gives the same ids and text as Hugging Face `tokenizers` for
/// the components it reads: added tokens matched first (raw, then normalized), normalizer,
/// pre-tokenizer, BPE, and for decoding the decoder; the post-processor only when asked.
/// Thread-safe; the BPE word cache is shared.
public final class Tokenizer: Sendable {
  public let model: BPEModel
  /// Added and special tokens, in file order.
  public let addedTokens: [AddedToken]
  public let normalizer: Normalizer?
  public let preTokenizer: PreTokenizer?
  public let decoder: TokenDecoder?
  public let postProcessor: PostProcessor?

  private let addedById: [Int: AddedToken]
  private let addedByContent: [String: Int]
  private let specialContents: Set<String>
  /// Non-normalized added tokens, matched in the raw text.
  private let rawMatcher: AddedTokenMatcher
  /// Normalized added tokens, matched (in their normalized spelling) in normalized text.
  private let normalizedMatcher: AddedTokenMatcher

  /// Assembles a tokenizer from its stages (a GGUF loader builds the model from its token list
  /// and merges, and takes the pre-tokenizer from `PreTokenizer.named`).
  public init(model: BPEModel, addedTokens: [AddedToken] = [], normalizer: Normalizer? = nil,
              preTokenizer: PreTokenizer? = nil, decoder: TokenDecoder? = .byteLevel,
              postProcessor: PostProcessor? = nil) {
    self.model = model
    self.addedTokens = addedTokens
    self.normalizer = normalizer
    self.preTokenizer = preTokenizer
    self.decoder = decoder
    self.postProcessor = postProcessor
    var byId: [Int: AddedToken] = [:], byContent: [String: Int] = [:]
    for t in addedTokens where !t.content.isEmpty {
      byId[t.id] = t
      byContent[t.content] = t.id
    }
    addedById = byId
    addedByContent = byContent
    specialContents = Set(addedTokens.filter(\.special).map(\.content))
    let live = addedTokens.filter { !$0.content.isEmpty }
    rawMatcher = AddedTokenMatcher(live.filter { !$0.normalized }.map { (Array($0.content.unicodeScalars), $0) })
    normalizedMatcher = AddedTokenMatcher(live.filter(\.normalized).map { t in
      let p = Array(t.content.unicodeScalars)
      return (normalizer?.normalize(p) ?? p, t)
    })
  }

  /// A byte-level BPE tokenizer from a vocabulary and merges (GPT-2 regex unless told otherwise).
  /// - Throws: when a merge names a token absent from the vocabulary.
  public convenience init(vocab: [String: Int], merges: [(String, String)], addedTokens: [AddedToken] = [],
                          preTokenizer: PreTokenizer = .byteLevel(addPrefixSpace: false, useRegex: true),
                          normalizer: Normalizer? = nil, decoder: TokenDecoder = .byteLevel) throws {
    self.init(model: try BPEModel(vocab: vocab, merges: merges), addedTokens: addedTokens, normalizer: normalizer,
              preTokenizer: preTokenizer, decoder: decoder)
  }

  // MARK: - Vocabulary

  /// Rows an embedding table needs: one more than the largest id of the model or added tokens.
  public var vocabularySize: Int {
    max(model.idToToken.keys.max() ?? -1, addedById.keys.max() ?? -1) + 1
  }

  /// The id of a token (added tokens first, as tokenizers' `token_to_id`).
  public func tokenId(for token: String) -> Int? {
    addedByContent[token] ?? model.vocab[token]
  }

  /// The token string of an id (byte-level spelling for model tokens).
  public func token(for id: Int) -> String? {
    addedById[id]?.content ?? model.idToToken[id]
  }

  /// Whether the id is a special added token (skipped by `decode(_:skipSpecial: true)`).
  public func isSpecial(_ id: Int) -> Bool {
    guard let t = token(for: id) else { return false }
    return specialContents.contains(t)
  }

  // MARK: - Encode

  /// Token ids of a text. Adds nothing (no BOS/EOS) unless `addSpecialTokens` asks the
  /// post-processor to.
  public func encode(_ text: String, addSpecialTokens: Bool = false) -> [Int] {
    var ids: [Int] = []
    for piece in split(Array(text.unicodeScalars)) {
      switch piece {
      case let .token(id):
        ids.append(id)
      case let .text(s):
        let words = preTokenizer?.apply([s]) ?? [s]
        for w in words { ids.append(contentsOf: model.tokenize(w)) }
      }
    }
    if addSpecialTokens, let postProcessor { return postProcessor.process(ids) }
    return ids
  }

  /// tokenizers' `AddedVocabulary::extract_and_normalize`: raw added tokens out of the raw text,
  /// then each remaining piece normalized and searched for normalized added tokens.
  private func split(_ text: [Unicode.Scalar]) -> [TextPiece] {
    var out: [TextPiece] = []
    for piece in rawMatcher.split(text) {
      guard case let .text(raw) = piece else { out.append(piece); continue }
      if raw.isEmpty { continue }
      let normalized = normalizer?.normalize(raw) ?? raw
      for inner in normalizedMatcher.split(normalized) {
        if case let .text(s) = inner, s.isEmpty { continue }
        out.append(inner)
      }
    }
    return out
  }

  // MARK: - Decode

  /// The text of token ids; unknown ids are skipped, special tokens too when `skipSpecial`.
  public func decode(_ ids: [Int], skipSpecial: Bool = false) -> String {
    var tokens: [String] = []
    tokens.reserveCapacity(ids.count)
    for id in ids {
      guard let t = token(for: id) else { continue }
      if skipSpecial && specialContents.contains(t) { continue }
      tokens.append(t)
    }
    // tokenizers joins with spaces when there is no decoder.
    return decoder?.decode(tokens) ?? tokens.joined(separator: " ")
  }

  /// A decoder for generated ids that emits text only once it is complete UTF-8.
  public func streamingDecoder(skipSpecial: Bool = false) -> StreamingDecoder {
    StreamingDecoder(tokenizer: self, skipSpecial: skipSpecial)
  }
}
