import Foundation

// The JSON form of actions (docs/actions.md). Decoding errors are `ParseFailure`s so that
// `JSONActionGrammar` can report them as they are: "action 'type' is missing argument 'text'".

// MARK: - Targets

extension ActionTarget: Codable {
  private enum Key: String, CodingKey { case point, box, element, elementID = "element_id" }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Key.self)
    if c.contains(.element) {
      self = .element(try c.decode(String.self, forKey: .element))
      return
    }
    if c.contains(.elementID) {
      // Some models quote numbers: "3" reads as 3.
      let n: Int
      if let number = try? c.decode(Int.self, forKey: .elementID) {
        n = number
      } else {
        n = Int(try c.decode(String.self, forKey: .elementID).trimmingCharacters(in: .whitespaces)) ?? 0
      }
      guard n >= 1 else {
        throw ParseFailure(.badArgument(action: "target", argument: "element_id", value: "\(n)"),
                           "target element_id must be an element's number (1 or more), got \(n)")
      }
      self = .elementNumber(n)
      return
    }
    var box: ModelBox?
    if c.contains(.box) {
      let v = try c.decode([Double].self, forKey: .box)
      guard v.count == 4 else {
        throw ParseFailure(.badArgument(action: "target", argument: "box", value: "\(v)"),
                           "target box must have 4 numbers [x1,y1,x2,y2], got \(v.count)")
      }
      box = ModelBox(x1: v[0], y1: v[1], x2: v[2], y2: v[3])
    }
    if c.contains(.point) {
      let v = try c.decode([Double].self, forKey: .point)
      guard v.count == 2 else {
        throw ParseFailure(.badArgument(action: "target", argument: "point", value: "\(v)"),
                           "target point must have 2 numbers [x,y], got \(v.count)")
      }
      var p = ModelPoint(x: v[0], y: v[1])
      p.box = box
      self = .point(p)
    } else if let box {
      self = .point(ModelPoint(box: box))
    } else {
      throw ParseFailure(.missingArgument(action: "target", argument: "point"),
                         "target needs \"point\": [x,y], \"box\": [x1,y1,x2,y2], \"element\": \"...\" or \"element_id\": N")
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Key.self)
    switch self {
    case let .element(text):
      try c.encode(text, forKey: .element)
    case let .elementNumber(n):
      try c.encode(n, forKey: .elementID)
    case let .point(p):
      try c.encode([p.x, p.y], forKey: .point)
      if let b = p.box { try c.encode([b.x1, b.y1, b.x2, b.y2], forKey: .box) }
    }
  }
}

// MARK: - Actions

extension AgentAction: Codable {
  private enum Key: String, CodingKey {
    case action, target, from, to, direction, amount, text, keys, seconds, summary, question
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Key.self)
    guard c.contains(.action) else {
      throw ParseFailure(.missingArgument(action: "", argument: "action"), "object has no \"action\" field")
    }
    let name = try c.decode(String.self, forKey: .action)
    guard let kind = ActionKind(spelling: name) else {
      throw ParseFailure(.unknownAction(name), "unknown action '\(name)'")
    }
    func required<T: Decodable>(_ key: Key, _ type: T.Type) throws -> T {
      guard c.contains(key) else {
        throw ParseFailure(.missingArgument(action: name, argument: key.stringValue),
                           "action '\(name)' is missing argument '\(key.stringValue)'")
      }
      return try c.decode(type, forKey: key)
    }
    switch kind {
    case .click: self = .click(try required(.target, ActionTarget.self))
    case .doubleClick: self = .doubleClick(try required(.target, ActionTarget.self))
    case .rightClick: self = .rightClick(try required(.target, ActionTarget.self))
    case .drag:
      self = .drag(from: try required(.from, ActionTarget.self), to: try required(.to, ActionTarget.self))
    case .scroll:
      let text = try required(.direction, String.self)
      guard let direction = ScrollDirection(rawValue: text.lowercased()) else {
        throw ParseFailure(.badArgument(action: name, argument: "direction", value: text),
                           "action 'scroll' has direction '\(text)', expected up, down, left or right")
      }
      self = .scroll(at: try c.decodeIfPresent(ActionTarget.self, forKey: .target), direction: direction,
                     amount: try c.decodeIfPresent(Int.self, forKey: .amount) ?? AgentAction.defaultScrollAmount)
    case .type: self = .type(try required(.text, String.self))
    case .hotkey: self = .hotkey(try required(.keys, [String].self))
    case .wait: self = .wait(seconds: try c.decodeIfPresent(Double.self, forKey: .seconds) ?? AgentAction.defaultWaitSeconds)
    case .finished: self = .finished(summary: try c.decodeIfPresent(String.self, forKey: .summary) ?? "")
    case .callUser: self = .callUser(question: try c.decodeIfPresent(String.self, forKey: .question) ?? "")
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Key.self)
    try c.encode(name, forKey: .action)
    switch self {
    case let .click(t), let .doubleClick(t), let .rightClick(t):
      try c.encode(t, forKey: .target)
    case let .drag(from, to):
      try c.encode(from, forKey: .from)
      try c.encode(to, forKey: .to)
    case let .scroll(at, direction, amount):
      try c.encodeIfPresent(at, forKey: .target)
      try c.encode(direction, forKey: .direction)
      try c.encode(amount, forKey: .amount)
    case let .type(text): try c.encode(text, forKey: .text)
    case let .hotkey(keys): try c.encode(keys, forKey: .keys)
    case let .wait(seconds): try c.encode(seconds, forKey: .seconds)
    case let .finished(summary): try c.encode(summary, forKey: .summary)
    case let .callUser(question): try c.encode(question, forKey: .question)
    }
  }
}
