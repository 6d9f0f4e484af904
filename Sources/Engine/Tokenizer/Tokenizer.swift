import Foundation

// MARK: - Tokenizer

/// A byte-level BPE tokenizer that gives the same ids and text as Hugging Face `tokenizers` for
/// the components it reads: added tokens matched first (raw, then normalized), normalizer,
/// pre-tokenizer, BPE, and for decoding the decoder; the post-processor only when asked.
/// Thread-safe; the BPE word cache is shared.
public final class Tokenizer: Sendable {
  /// The BPE model: vocabulary and merges.
  public let model: BPEModel
  /// Added and special tokens, in file order.
  public let addedTokens: [AddedToken]
  /// Applied to text between raw added tokens; nil: none.
  public let normalizer: Normalizer?
  /// Cuts text into words for BPE; nil: the whole text is one word.
  public let preTokenizer: PreTokenizer?
  /// Turns tokens back into text; nil: tokens joined by spaces (tokenizers' behaviour).
  public let decoder: TokenDecoder?
  /// Adds special tokens when `encode(_:addSpecialTokens: true)` asks for them.
  public let postProcessor: PostProcessor?

  /// id -> the added token's text as decoding sees it: normalized tokens in their normalized
  /// spelling (tokenizers 0.23 `id_to_token`), others as written.
  private let addedById: [Int: String]
  private let addedByContent: [TokenKey: Int]
  private let specialContents: Set<TokenKey>
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
    let live = addedTokens.filter { !$0.content.isEmpty }
    // Normalized tokens are matched, and decoded, in their normalized spelling.
    let spelled = live.map { t in
      let p = Array(t.content.unicodeScalars)
      return (t, t.normalized ? normalizer?.normalize(p) ?? p : p)
    }
    var byId: [Int: String] = [:], byContent: [TokenKey: Int] = [:], special = Set<TokenKey>()
    for (t, p) in spelled {
      byId[t.id] = TokenDecoder.string(p)
      byContent[TokenKey(t.content)] = t.id
      if t.special { special.insert(TokenKey(t.content)) }
    }
    addedById = byId
    vocabularySize = max(model.idToToken.keys.max() ?? -1, byId.keys.max() ?? -1) + 1
    addedByContent = byContent
    specialContents = special
    rawMatcher = AddedTokenMatcher(spelled.filter { !$0.0.normalized }.map { ($0.1, $0.0) })
    normalizedMatcher = AddedTokenMatcher(spelled.filter { $0.0.normalized }.map { ($0.1, $0.0) })
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
  public let vocabularySize: Int

  /// The id of a token (added tokens first, as tokenizers' `token_to_id`).
  public func tokenId(for token: String) -> Int? {
    addedByContent[TokenKey(token)] ?? model.id(of: token)
  }

  /// The token string of an id (byte-level spelling for model tokens).
  public func token(for id: Int) -> String? {
    addedById[id] ?? model.idToToken[id]
  }

  /// Whether the id is a special added token (skipped by `decode(_:skipSpecial: true)`).
  public func isSpecial(_ id: Int) -> Bool {
    guard let t = token(for: id) else { return false }
    return specialContents.contains(TokenKey(t))
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
      if skipSpecial && specialContents.contains(TokenKey(t)) { continue }
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
