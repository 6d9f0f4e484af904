import Testing
@testable import Engine

/// The reasoning/answer split and the budget, fed token texts as a model would produce them.
@Suite struct ThinkingTests {
  /// Feeds `pieces` in order, inserting the closing marker when the budget demands it, as the
  /// generator does; returns the tracker and the texts that were actually emitted.
  func run(_ pieces: [String], mode: ThinkingMode,
           markers: ThinkingMarkers = .thinkTags) -> (ThinkingTracker, [String]) {
    var t = ThinkingTracker(markers: markers, mode: mode)
    var emitted: [String] = []
    var i = 0
    while i < pieces.count {
      if t.mustClose {
        t.closeByBudget(markerTokenCount: 1)
        emitted.append(markers.close)
        continue
      }
      t.observe(text: pieces[i])
      emitted.append(pieces[i])
      i += 1
    }
    t.finish()
    return (t, emitted)
  }

  @Test func modelClosesEarly() {
    let (t, _) = run(["Let", " me", " see", ".", "</", "think", ">", "\n", "42"], mode: .think(budget: 100))
    #expect(t.reasoning == "Let me see.")
    #expect(t.reasoningTokens == 4)
    #expect(t.markerTokens == 3)
    #expect(t.answer == "\n42")
    #expect(t.answerTokens == 2)
    #expect(!t.closedByBudget)
  }

  @Test func budgetIsObeyedExactly() {
    for budget in [0, 1, 3, 7] {
      let pieces = (0..<20).map { " w\($0)" }
      let (t, emitted) = run(pieces, mode: .think(budget: budget))
      #expect(t.reasoningTokens == budget)
      #expect(t.closedByBudget)
      #expect(emitted[budget] == "</think>")
      #expect(t.reasoning == pieces[..<budget].joined())
      #expect(t.answer == pieces[budget...].joined())
      #expect(t.answerTokens == 20 - budget)
    }
  }

  @Test func neverClosesWithoutBudget() {
    let (t, _) = run(["a", "b", "</thi"], mode: .think(budget: nil))
    #expect(t.inReasoning)
    #expect(t.reasoning == "ab</thi")
    #expect(t.reasoningTokens == 3)
    #expect(t.answer.isEmpty)
  }

  @Test func markerInsideAnswerStaysAnswer() {
    let (t, _) = run(["x", "</think>", "y", "</think>", "z"], mode: .think(budget: nil))
    #expect(t.reasoning == "x")
    #expect(t.answer == "y</think>z")
    #expect(t.answerTokens == 3)
  }

  @Test func markerSharingATokenWithText() {
    // One token ends the reasoning, writes the marker and starts the answer.
    let (t, _) = run(["abc", "d</think>The", " end"], mode: .think(budget: nil))
    #expect(t.reasoning == "abcd")
    #expect(t.reasoningTokens == 1)
    #expect(t.markerTokens == 1)
    #expect(t.answer == "The end")
  }

  @Test func specialTokenMarkers() {
    let (t, _) = run(["plan", "[|/BlueThink|]", "(500,300)"], mode: .think(budget: 5), markers: .blueThink)
    #expect(t.reasoning == "plan")
    #expect(t.answer == "(500,300)")
  }

  @Test func defaultModeIsAllAnswer() {
    let (t, _) = run(["(1,2)"], mode: .default)
    #expect(t.answer == "(1,2)")
    #expect(t.reasoningTokens == 0)
  }

  @Test func templates() {
    #expect(ThinkingMode.think(budget: 3).assistantOpening(.thinkTags) == "<think>\n")
    #expect(ThinkingMode.noThink.assistantOpening(.blueThink) == "[|BlueThink|]\n\n[|/BlueThink|]\n\n")
    #expect(ThinkingMode.default.assistantOpening(.thinkTags) == "")
  }
}
