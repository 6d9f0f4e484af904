import Engine
import Foundation

// MARK: - Token-level prefix filter

/// Greedy generation restricted to an ``ActionSchema``: at each step the most likely token
/// whose text keeps the output a prefix of the schema is taken, and generation stops as soon
/// as the output is a whole action. A small model then always emits a parseable action (unless
/// the token or time budget runs out first).
///
/// Tokens whose text is empty or holds U+FFFD (special tokens, bytes of a split character) are
/// never chosen, so string values are written from whole characters.
public final class ConstrainedDecoder {
  public let model: LoadedModel
  public let schema: ActionSchema
  /// Each id's text, decoded alone; nil for ids that may not be chosen.
  private let pieces: [String?]

  public init(model: LoadedModel, schema: ActionSchema) {
    self.model = model
    self.schema = schema
    let tokenizer = model.tokenizer
    let eos = model.eosIds
    pieces = (0..<model.network.vocabularySize).map { id -> String? in
      guard !eos.contains(id) else { return nil }
      let text = tokenizer.decode([id], skipSpecial: true)
      return text.isEmpty || text.contains("\u{FFFD}") ? nil : text
    }
  }

  /// The constrained text after `promptIds` (a prompt that ends where the action starts).
  public func generate(promptIds: [Int], imageEmbeddings: [Float]?, imageGrids: [ImageGrid] = [], maxTokens: Int,
                       deadline: ContinuousClock.Instant) throws -> (ids: [Int], text: String, complete: Bool) {
    let network = model.network
    var cache = network.makeCache(capacity: promptIds.count + max(1, maxTokens), precision: model.kvCache)
    var logits = try network.prefill(tokens: promptIds, imageEmbeddings: imageEmbeddings, imageGrids: imageGrids,
                                     imagePadId: model.vision?.tokenIds.imagePad ?? -1, cache: &cache)
    var ids: [Int] = []
    var text = ""
    while ids.count < maxTokens, ContinuousClock.now < deadline {
      guard let (id, match) = bestAllowed(logits, after: text), let piece = pieces[id] else { break }
      ids.append(id)
      text += piece
      if match == .complete { return (ids, text, true) }
      logits = try network.decode(token: id, cache: &cache)
    }
    return (ids, text, false)
  }

  /// The highest-logit id whose text extends `text` within the schema.
  private func bestAllowed(_ logits: [Float], after text: String) -> (Int, SchemaMatch)? {
    // Most steps accept one of the few likeliest ids: try the top 32 (one pass over the
    // (vocab,) logits), and sort the whole vocabulary only when none of them fits.
    if let hit = firstAllowed(Self.top(32, of: logits), after: text) { return hit }
    return firstAllowed(logits.indices.sorted { logits[$0] > logits[$1] }, after: text)
  }

  private func firstAllowed(_ order: [Int], after text: String) -> (Int, SchemaMatch)? {
    for id in order where id < pieces.count {
      guard let piece = pieces[id] else { continue }
      let m = schema.match(text + piece)
      if m != .invalid { return (id, m) }
    }
    return nil
  }

  /// The `n` ids of largest logit, largest first.
  static func top(_ n: Int, of logits: [Float]) -> [Int] {
    var best: [Int] = []
    best.reserveCapacity(n + 1)
    for (id, v) in logits.enumerated() where best.count < n || v > logits[best[best.count - 1]] {
      let at = best.firstIndex { v > logits[$0] } ?? best.count
      best.insert(id, at: at)
      if best.count > n { best.removeLast() }
    }
    return best
  }
}
