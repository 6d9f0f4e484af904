import Foundation

/// One generation's result in the terms users read: ids, text, the reasoning and the answer.
public struct Completion: Sendable, Equatable {
  /// Generated ids (an end-of-sequence id included).
  public var ids: [Int]
  /// The whole generation, decoded (the end-of-sequence token left out).
  public var text: String
  /// The reasoning when thinking was on or the model opened it on its own; else empty.
  public var reasoning: String
  /// The text after the reasoning (all of it when there was none), trimmed.
  public var answer: String
  public var reasoningTokens: Int
  public var answerTokens: Int
  public var finishReason: FinishReason
  /// Whether the thinking budget ran out and closed the reasoning.
  public var closedByBudget: Bool
  /// (vocab,) logits at the last prompt position.
  public var promptLogits: [Float]
  /// Seconds of prefill (the prompt) and of decoding (the generated tokens).
  public var prefillSeconds: Double
  public var decodeSeconds: Double

  /// `stop` or `length`, the names OpenAI-style consumers use.
  public var finishReasonName: String {
    switch finishReason {
    case .length: "length"
    case .eos, .stopString, .cancelled: "stop"
    }
  }
}

extension LoadedModel {
  /// The prompt's ids: the chat template around `prompt` (with the thinking opening), or the
  /// prompt as it is when `raw`. Special tokens written in the text are matched as such.
  public func promptIds(_ prompt: String, raw: Bool = false, thinking: ThinkingMode = .default) -> [Int] {
    tokenizer.encode(raw ? prompt : template.render(prompt, thinking: thinking, markers: thinkingMarkers))
  }

  /// Generates after `promptIds`, streaming decoded text through `onText` (return false to
  /// stop). With `thinking` set to `.think(budget:)`, the closing marker is inserted once the
  /// reasoning has used its budget, and the result separates reasoning from answer.
  public func complete(
    promptIds: [Int], imageEmbeddings: [Float]? = nil, imageGrids: [ImageGrid] = [], maxTokens: Int = 256,
    sampling: SamplingParameters = .greedy, stopStrings: [String] = [],
    thinking: ThinkingMode = .default, onText: (String) -> Bool = { _ in true }
  ) throws(EngineError) -> Completion {
    let closeIds = tokenizer.encode(thinkingMarkers.close)
    guard !closeIds.isEmpty else { throw .tokenizer("the closing thinking marker '\(thinkingMarkers.close)' encodes to nothing") }
    var tracker = ThinkingTracker(markers: thinkingMarkers, mode: thinking)
    var stream = tokenizer.streamingDecoder()
    var forcedQueue: [Int] = []
    var lastWasForced = false
    var text = ""
    let clock = ContinuousClock()
    let start = clock.now
    var firstToken: ContinuousClock.Instant? = nil
    let generator = Generator(model: network, parameters: GenerationParameters(
      maxTokens: maxTokens, sampling: sampling, eosTokenIds: eosIds, stopStrings: stopStrings, kvCache: kvCache))
    let result = try generator.generate(
      prompt: promptIds, imageEmbeddings: imageEmbeddings, imageGrids: imageGrids,
      imagePadId: vision?.tokenIds.imagePad ?? -1,
      force: { _ in
        if forcedQueue.isEmpty, tracker.mustClose {
          forcedQueue = closeIds
          // Bytes of an unfinished character before the marker end the reasoning (as U+FFFD,
          // as a whole-sequence decode shows them), not the marker's text.
          let held = stream.flush() ?? ""
          if !held.isEmpty { text += held; _ = onText(held) }
          tracker.closeByBudget(markerTokenCount: closeIds.count, heldText: held)
        }
        lastWasForced = !forcedQueue.isEmpty
        return forcedQueue.isEmpty ? nil : forcedQueue.removeFirst()
      },
      detokenize: stopStrings.isEmpty ? nil : { [tokenizer] ids in tokenizer.decode(ids) },
      onToken: { id in
        if firstToken == nil { firstToken = clock.now }
        if eosIds.contains(id) { return true }
        let piece = stream.step(id) ?? ""
        text += piece
        if !lastWasForced { tracker.observe(text: piece) }
        return onText(piece)
      })
    // Bytes of an unfinished character at the end show as U+FFFD, in the text, the stream and the
    // part (reasoning or answer) they end, as a decode of that part's ids shows them.
    let rest = stream.finish() ?? ""
    if !rest.isEmpty { text += rest; _ = onText(rest) }
    tracker.finish(heldText: rest)
    let end = clock.now
    let prefillEnd = firstToken ?? end
    return Completion(
      ids: result.tokens, text: text, reasoning: tracker.reasoning.trimmingCharacters(in: .whitespacesAndNewlines),
      answer: tracker.answer.trimmingCharacters(in: .whitespacesAndNewlines),
      reasoningTokens: tracker.reasoningTokens, answerTokens: tracker.answerTokens,
      finishReason: result.finishReason, closedByBudget: tracker.closedByBudget,
      promptLogits: result.promptLogits, prefillSeconds: (prefillEnd - start).seconds,
      decodeSeconds: (end - prefillEnd).seconds)
  }
}
