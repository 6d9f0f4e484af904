import Synchronization

// MARK: - BPE model

/// Byte-pair encoding of one pre-tokenized word; tokenizers' `models::bpe::BPE`
/// (`merge_word` + `Word::merge_all`), with its word cache.
public final class BPEModel: Sendable {
  /// token -> id, by exact bytes. Ids need not be dense.
  private let vocab: [TokenKey: Int]
  /// id -> token.
  let idToToken: [Int: String]
  /// (left id, right id) packed in 64 bits -> (rank, merged id).
  private let merges: [UInt64: (rank: Int32, id: Int32)]
  /// Single-character tokens, the starting symbols of a word.
  private let charIds: [Unicode.Scalar: Int]
  /// `<0xNN>` ids for byte fallback, when enabled. (256,)
  private let byteIds: [Int]?
  private let unkId: Int?
  private let fuseUnk: Bool
  /// Llama-3: a word found whole in the vocabulary is one token, whatever the merges say.
  private let ignoreMerges: Bool
  private let cache = Mutex<[TokenKey: [Int]]>([:])
  /// tokenizers' DEFAULT_CACHE_CAPACITY; words are cached while the cache is below it.
  private static let cacheCapacity = 10_000

  /// A model from a token list where a token's id is its index (GGUF's `tokenizer.ggml.tokens`).
  public convenience init(tokens: [String], merges: [(String, String)], unkToken: String? = nil, fuseUnk: Bool = false,
                          byteFallback: Bool = false, ignoreMerges: Bool = false) throws {
    try self.init(entries: tokens.enumerated().map { ($1, $0) }, merges: merges, unkToken: unkToken, fuseUnk: fuseUnk,
                  byteFallback: byteFallback, ignoreMerges: ignoreMerges)
  }

  /// A model from a token -> id dictionary (tokenizer.json's `model.vocab`).
  public convenience init(vocab: [String: Int], merges: [(String, String)], unkToken: String? = nil, fuseUnk: Bool = false,
                          byteFallback: Bool = false, ignoreMerges: Bool = false) throws {
    try self.init(entries: vocab.map { ($0.key, $0.value) }, merges: merges, unkToken: unkToken, fuseUnk: fuseUnk,
                  byteFallback: byteFallback, ignoreMerges: ignoreMerges)
  }

  /// - Parameters:
  ///   - entries: (token, id) pairs; tokens are told apart by their exact bytes.
  ///   - merges: in rank order; a later duplicate overrides an earlier one, as in tokenizers.
  ///   - unkToken: the token for characters absent from the vocabulary (none: they are dropped).
  ///   - byteFallback: spell absent characters as `<0xNN>` byte tokens (Llama-2 / SentencePiece).
  /// - Throws: when a merge names a token absent from the vocabulary, or unkToken is absent.
  public init(entries: [(String, Int)], merges: [(String, String)], unkToken: String? = nil, fuseUnk: Bool = false,
              byteFallback: Bool = false, ignoreMerges: Bool = false) throws {
    var vocab: [TokenKey: Int] = [:]
    vocab.reserveCapacity(entries.count)
    var reverse: [Int: String] = [:]
    var chars: [Unicode.Scalar: Int] = [:]
    for (token, id) in entries {
      vocab[TokenKey(token)] = id
      reverse[id] = token
      var it = token.unicodeScalars.makeIterator()
      if let first = it.next(), it.next() == nil { chars[first] = id }
    }
    self.vocab = vocab
    idToToken = reverse
    charIds = chars
    var table: [UInt64: (rank: Int32, id: Int32)] = [:]
    table.reserveCapacity(merges.count)
    for (rank, (a, b)) in merges.enumerated() {
      guard let ia = vocab[TokenKey(a)] else { throw EngineError.tokenizer("merge \(rank) '\(a) \(b)': '\(a)' is not in the vocabulary") }
      guard let ib = vocab[TokenKey(b)] else { throw EngineError.tokenizer("merge \(rank) '\(a) \(b)': '\(b)' is not in the vocabulary") }
      guard let merged = vocab[TokenKey(a + b)] else {
        throw EngineError.tokenizer("merge \(rank) '\(a) \(b)': '\(a + b)' is not in the vocabulary")
      }
      guard let ria = Int32(exactly: ia), let rib = Int32(exactly: ib), let rm = Int32(exactly: merged) else {
        throw EngineError.tokenizer("merge \(rank) '\(a) \(b)': token id out of range")
      }
      table[Self.pairKey(ria, rib)] = (Int32(truncatingIfNeeded: rank), rm)
    }
    self.merges = table
    if byteFallback {
      byteIds = (0..<256).map { vocab[TokenKey("<0x" + Self.hex2($0) + ">")] ?? -1 }
    } else {
      byteIds = nil
    }
    if let unkToken {
      guard let id = vocab[TokenKey(unkToken)] else { throw EngineError.tokenizer("unk_token '\(unkToken)' is not in the vocabulary") }
      unkId = id
    } else {
      unkId = nil
    }
    self.fuseUnk = fuseUnk
    self.ignoreMerges = ignoreMerges
  }

  private static func pairKey(_ a: Int32, _ b: Int32) -> UInt64 {
    UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
  }

  private static func hex2(_ b: Int) -> String {
    let digits = Array("0123456789ABCDEF")
    return String([digits[b >> 4], digits[b & 15]])
  }

  /// The id of a token (exact bytes).
  public func id(of token: String) -> Int? { vocab[TokenKey(token)] }

  /// Number of tokens in the model's vocabulary.
  public var count: Int { vocab.count }

  // MARK: - Tokenize

  /// The ids of one word (a piece after pre-tokenization).
  public func tokenize(_ word: [Unicode.Scalar]) -> [Int] {
    if word.isEmpty { return [] }
    let key = TokenKey(word)
    if ignoreMerges, let id = vocab[key] { return [id] }
    if let hit = cache.withLock({ $0[key] }) { return hit }
    let ids = mergeWord(word)
    cache.withLock { c in
      if c.count < Self.cacheCapacity { c[key] = ids }
    }
    return ids
  }

  /// Starting symbols (one per character, byte tokens or unk for absent ones), then merges.
  private func mergeWord(_ word: [Unicode.Scalar]) -> [Int] {
    var symbols: [Int32] = []
    symbols.reserveCapacity(word.count)
    var pendingUnk = false
    for c in word {
      if let id = charIds[c] {
        if pendingUnk, let unkId { symbols.append(Int32(truncatingIfNeeded: unkId)) }
        pendingUnk = false
        symbols.append(Int32(truncatingIfNeeded: id))
        continue
      }
      if let byteIds {
        let bytes = Array(String(Character(c)).utf8)
        let ids = bytes.map { byteIds[Int($0)] }
        if ids.allSatisfy({ $0 >= 0 }) {
          // tokenizers leaves a pending unk pending here (it lands after these bytes).
          symbols.append(contentsOf: ids.map { Int32(truncatingIfNeeded: $0) })
          continue
        }
      }
      guard let unkId else { continue }  // tokenizers drops the character when there is no unk token
      if pendingUnk && !fuseUnk { symbols.append(Int32(truncatingIfNeeded: unkId)) }
      pendingUnk = true
    }
    if pendingUnk, let unkId { symbols.append(Int32(truncatingIfNeeded: unkId)) }
    return mergeAll(symbols).map(Int.init)
  }

  /// tokenizers' `Word::merge_all`: a queue of candidate merges ordered by (rank, position);
  /// stale entries are skipped when the pair at that position no longer yields the same token.
  private func mergeAll(_ start: [Int32]) -> [Int32] {
    let n = start.count
    if n < 2 { return start }
    // Doubly linked symbols: id, prev, next; a merged-away symbol has id -1. (n,)
    var ids = start
    var prev = (0..<n).map { $0 - 1 }
    var next = (0..<n).map { $0 + 1 < n ? $0 + 1 : -1 }
    var queue = MergeQueue()
    for i in 0..<(n - 1) {
      if let m = merges[Self.pairKey(ids[i], ids[i + 1])] { queue.push(.init(rank: m.rank, pos: Int32(i), id: m.id)) }
    }
    while let top = queue.pop() {
      let p = Int(top.pos)
      guard ids[p] >= 0, next[p] >= 0 else { continue }
      let q = next[p]
      guard let m = merges[Self.pairKey(ids[p], ids[q])], m.id == top.id else { continue }
      // Merge q into p.
      ids[p] = top.id
      ids[q] = -1
      next[p] = next[q]
      if next[q] >= 0 { prev[next[q]] = p }
      if prev[p] >= 0, let m = merges[Self.pairKey(ids[prev[p]], ids[p])] {
        queue.push(.init(rank: m.rank, pos: Int32(prev[p]), id: m.id))
      }
      if next[p] >= 0, let m = merges[Self.pairKey(ids[p], ids[next[p]])] {
        queue.push(.init(rank: m.rank, pos: Int32(p), id: m.id))
      }
    }
    var out: [Int32] = []
    var i = 0
    while i >= 0 {
      out.append(ids[i])
      i = next[i]
    }
    return out
  }
}

// MARK: - Merge queue

/// A binary min-heap of candidate merges, lowest rank first, then leftmost.
private struct MergeQueue {
  struct Entry {
    var rank: Int32, pos: Int32, id: Int32
    func before(_ o: Entry) -> Bool { rank != o.rank ? rank < o.rank : pos < o.pos }
  }
  private var heap: [Entry] = []

  mutating func push(_ e: Entry) {
    heap.append(e)
    var i = heap.count - 1
    while i > 0 {
      let parent = (i - 1) / 2
      guard heap[i].before(heap[parent]) else { break }
      heap.swapAt(i, parent)
      i = parent
    }
  }

  mutating func pop() -> Entry? {
    guard let top = heap.first else { return nil }
    let last = heap.removeLast()
    if heap.isEmpty { return top }
    heap[0] = last
    var i = 0
    while true {
      let l = 2 * i + 1, r = l + 1
      var best = i
      if l < heap.count, heap[l].before(heap[best]) { best = l }
      if r < heap.count, heap[r].before(heap[best]) { best = r }
      if best == i { break }
      heap.swapAt(i, best)
      i = best
    }
    return top
  }
}
