import Testing
@testable import Agent

// parse(serialize(a)) == a for every kind of action in both grammars, and no input at all makes
// a parser trap: every prefix of valid outputs and seeded random mutations of them.
@Suite struct ActionRoundTripTests {
  static let box = ModelBox(x1: 10, y1: 20.5, x2: 30, y2: 41)
  static let samples: [AgentAction] = [
    .click(.at(512, 300)),
    .click(.point(ModelPoint(box: box))),
    .click(.element("the 'Save' button")),
    .doubleClick(.at(0.125, 0.75)),
    .rightClick(.element("report.pdf")),
    .drag(from: .at(1, 2), to: .point(ModelPoint(box: box))),
    .drag(from: .element("a file"), to: .element("the Trash")),
    .scroll(at: .at(5, 6), direction: .down, amount: 3),
    .scroll(at: nil, direction: .left, amount: AgentAction.defaultScrollAmount),
    .scroll(at: .element("the list"), direction: .up, amount: 5),
    .type("it's a \"test\"\nwith \\ backslash, tab\t, (parens) and ünïcode ✓"),
    .type(""),
    .hotkey(["ctrl", "shift", "s"]),
    .wait(seconds: 1.5),
    .wait(seconds: AgentAction.defaultWaitSeconds),
    .finished(summary: "Saved the file as 'report.pdf'."),
    .finished(summary: ""),
    .callUser(question: "Which printer, A or B?"),
    .callUser(question: ""),
  ]

  @Test(arguments: ActionGrammar.allCases)
  func everyActionRoundTrips(grammar: ActionGrammar) throws {
    for action in Self.samples {
      let response = ParsedResponse(thought: "Reason (with 'quotes').", actions: [action])
      let text = grammar.serialize(response)
      #expect(try grammar.parse(text).get() == response, "\(text)")
    }
  }

  @Test(arguments: ActionGrammar.allCases)
  func severalActionsRoundTrip(grammar: ActionGrammar) throws {
    let response = ParsedResponse(thought: "Several.", actions: Array(Self.samples.prefix(6)))
    #expect(try grammar.parse(grammar.serialize(response)).get() == response)
  }

  @Test func uiTarsSectionsAndBoxTokensRoundTrip() throws {
    let response = ParsedResponse(thought: "t", reflection: "r", actionSummary: "s", actions: Self.samples)
    for tokens in [false, true] {
      #expect(try UITARSGrammar.parse(UITARSGrammar.serialize(response, boxTokens: tokens)).get() == response)
    }
    #expect(UITARSGrammar.serialize(.click(.at(1, 2)), boxTokens: true) == "click(start_box='<|box_start|>(1,2)<|box_end|>')")
    #expect(JSONActionGrammar.serialize(.click(.at(1, 2))) == #"{"action":"click","target":{"point":[1,2]}}"#)
  }

  /// Every prefix and 3000 seeded mutations of valid outputs: parsing must return, and a
  /// failure must say something.
  @Test(arguments: ActionGrammar.allCases)
  func garbageNeverTraps(grammar: ActionGrammar) {
    let valid = Self.samples.map { grammar.serialize(ParsedResponse(thought: "x", actions: [$0])) }
      + [grammar.serialize(ParsedResponse(thought: "t", reflection: "r", actionSummary: "s", actions: Self.samples))]
    var inputs: [String] = []
    for text in valid {
      for n in 0...text.count { inputs.append(String(text.prefix(n))) }
    }
    var rng = SplitMix64(seed: 42)
    let alphabet = Array("'\"\\()[]{},:= \n<>|_abc0123456789.-Action:")
    for _ in 0..<3000 {
      var chars = Array(valid[Int(rng.next() % UInt64(valid.count))])
      for _ in 0..<(1 + Int(rng.next() % 4)) {
        let i = chars.isEmpty ? 0 : Int(rng.next() % UInt64(chars.count))
        switch rng.next() % 3 {
        case 0: if !chars.isEmpty { chars.remove(at: i) }
        case 1: chars.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: i)
        default: if !chars.isEmpty { chars[i] = alphabet[Int(rng.next() % UInt64(alphabet.count))] }
        }
      }
      inputs.append(String(chars))
    }
    for input in inputs {
      for parse in [grammar.parse, ActionGrammar.parseAny] {
        switch parse(input) {
        case let .success(r): #expect(!r.actions.isEmpty, "\(input)")
        case let .failure(f): #expect(!f.message.isEmpty, "\(input)")
        }
      }
    }
  }
}

/// A small deterministic generator (SplitMix64) so that the fuzz inputs are the same every run.
struct SplitMix64: RandomNumberGenerator {
  private var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
