/// Thinking mode: the markers that open and close a model's reasoning, the budget that bounds it,
/// and the split of a generation into reasoning and answer.
///
/// A family either has marker tokens of its own (`[|BlueThink|]` / `[|/BlueThink|]` for bluelm_vl)
/// or uses the `<think>` / `</think>` text convention, which works with any tokenizer: the markers
/// are then token sequences, and the end of reasoning is found in the decoded text, whatever
/// tokenization the model chose for it.

// MARK: - Markers and modes

/// How one family writes the start and end of its reasoning.
public struct ThinkingMarkers: Sendable, Equatable {
  public var open: String
  public var close: String
  public init(open: String, close: String) { self.open = open; self.close = close }

  /// The convention of models without markers of their own (Qwen3, DeepSeek-R1 style).
  public static let thinkTags = ThinkingMarkers(open: "<think>", close: "</think>")
  /// The bluelm_vl special tokens.
  public static let blueThink = ThinkingMarkers(open: "[|BlueThink|]", close: "[|/BlueThink|]")
}

/// What the chat template does with reasoning.
public enum ThinkingMode: Sendable, Equatable {
  /// The family's plain template: no marker is written; a model may still think on its own.
  case `default`
  /// The assistant turn opens the reasoning; at most `budget` reasoning tokens (nil: unbounded).
  case think(budget: Int?)
  /// The assistant turn holds an empty, closed reasoning block, forcing a direct answer.
  case noThink

  /// The text appended after the assistant prefix of the chat template.
  public func assistantOpening(_ markers: ThinkingMarkers) -> String {
    switch self {
    case .default: ""
    case .think: markers.open + "\n"
    case .noThink: markers.open + "\n\n" + markers.close + "\n\n"
    }
  }

  /// Whether generation starts inside the reasoning block.
  public var startsInReasoning: Bool {
    if case .think = self { return true }
    return false
  }

  public var budget: Int? {
    if case let .think(budget) = self { return budget }
    return nil
  }
}

// MARK: - Tracking reasoning during generation

/// Follows a generation token by token: counts reasoning tokens, says when the budget forces the
/// closing marker, and keeps reasoning and answer apart.
///
/// The closing marker is searched in the decoded text (as Unicode scalars, which add up across
/// token boundaries where characters may not), so it is found whether the model wrote it as one
/// special token or as several ordinary ones. Everything after the first closing marker is answer,
/// further markers included.
public struct ThinkingTracker: Sendable {
  public let markers: ThinkingMarkers
  public let budget: Int?
  public private(set) var inReasoning: Bool
  /// Generated tokens of the reasoning (the closing marker's tokens excluded).
  public private(set) var reasoningTokens = 0
  /// Generated tokens after the closing marker.
  public private(set) var answerTokens = 0
  /// Tokens that wrote the closing marker, the model's or the budget's.
  public private(set) var markerTokens = 0
  public private(set) var reasoning = ""
  public private(set) var answer = ""
  /// Whether the budget ran out and the closing marker was inserted.
  public private(set) var closedByBudget = false

  /// Reasoning tokens held back because their text might be the start of the closing marker.
  private var pending: [[Unicode.Scalar]] = []
  private let close: [Unicode.Scalar]

  public init(markers: ThinkingMarkers, mode: ThinkingMode) {
    self.markers = markers
    self.budget = mode.budget
    self.inReasoning = mode.startsInReasoning
    self.close = Array(markers.close.unicodeScalars)
  }

  /// True when the reasoning has used its budget: the caller must now insert the closing marker
  /// (and call `closeByBudget`) instead of sampling.
  public var mustClose: Bool {
    guard inReasoning, let budget else { return false }
    return reasoningTokens + pending.count >= budget
  }

  /// Records one generated token by the text it decoded to (empty for a token that ends inside a
  /// UTF-8 sequence).
  public mutating func observe(text: String) {
    guard inReasoning else {
      answerTokens += 1
      answer += text
      return
    }
    pending.append(Array(text.unicodeScalars))
    let joined = pending.flatMap { $0 }
    if let start = firstIndex(of: close, in: joined) {
      // Tokens wholly before the marker are reasoning; the others wrote it (and maybe more).
      var offset = 0
      var k = 0
      while k < pending.count, offset + pending[k].count <= start {
        offset += pending[k].count
        k += 1
      }
      reasoning += String(scalars: joined[..<start])
      reasoningTokens += k
      markerTokens += pending.count - k
      answer += String(scalars: joined[(start + close.count)...])
      pending = []
      inReasoning = false
      return
    }
    // Flush the tokens that lie wholly before the tail that could still grow into the marker.
    let keep = longestSuffixThatPrefixes(joined, close)
    var flushable = joined.count - keep
    while let first = pending.first, first.count <= flushable {
      reasoning += String(scalars: first[...])
      reasoningTokens += 1
      flushable -= first.count
      pending.removeFirst()
    }
  }

  /// The budget closes the reasoning: held-back text is reasoning after all, and the caller feeds
  /// `markerTokenCount` tokens of the closing marker to the model. `heldText` is what the
  /// detokenizer still held of the last tokens (an unfinished character, shown as U+FFFD): the
  /// marker cuts it off, so it ends the reasoning without counting as a token.
  public mutating func closeByBudget(markerTokenCount: Int, heldText: String = "") {
    guard inReasoning else { return }
    flushPending()
    reasoning += heldText
    markerTokens += markerTokenCount
    closedByBudget = true
    inReasoning = false
  }

  /// Generation ended: text still held back is reasoning (the model never closed it).
  /// `heldText` is what the detokenizer flushed at the end (see `closeByBudget`); it joins the
  /// part in progress without counting as a token.
  public mutating func finish(heldText: String = "") {
    if inReasoning {
      flushPending()
      reasoning += heldText
    } else {
      answer += heldText
    }
  }

  private mutating func flushPending() {
    for p in pending { reasoning += String(scalars: p[...]) }
    reasoningTokens += pending.count
    pending = []
  }
}

// MARK: - Scalar helpers

/// The length of the longest suffix of `text` that is a proper prefix of `marker`.
func longestSuffixThatPrefixes(_ text: [Unicode.Scalar], _ marker: [Unicode.Scalar]) -> Int {
  var n = min(text.count, marker.count - 1)
  while n > 0 {
    if text[(text.count - n)...].elementsEqual(marker[..<n]) { return n }
    n -= 1
  }
  return 0
}

func firstIndex(of needle: [Unicode.Scalar], in haystack: [Unicode.Scalar]) -> Int? {
  guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
  for i in 0...(haystack.count - needle.count)
  where haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
  return nil
}

extension String {
  init(scalars: ArraySlice<Unicode.Scalar>) {
    var s = String.UnicodeScalarView()
    s.append(contentsOf: scalars)
    self = String(s)
  }
}
