import Foundation

// MARK: - Sampling parameters

/// How the next token is chosen from logits. The processing order and semantics follow
/// transformers' `generate`: repetition penalty, then temperature, top-k, top-p, min-p.
public struct SamplingParameters: Sendable, Equatable {
  /// 0 (or less) means greedy: the arg-max after the repetition penalty.
  public var temperature: Float
  /// Keep the k highest logits (ties with the k-th kept); 0 disables.
  public var topK: Int
  /// Keep the smallest set of most likely tokens whose probability reaches p; 1 disables.
  public var topP: Float
  /// Drop tokens whose probability is below minP * (highest probability); 0 disables.
  public var minP: Float
  /// CTRL-style penalty on tokens already in the context: positive logits divided by it,
  /// negative ones multiplied; 1 disables.
  public var repetitionPenalty: Float
  /// Seed of the sampler's `SeededGenerator`.
  public var seed: UInt64

  public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, minP: Float = 0,
              repetitionPenalty: Float = 1, seed: UInt64 = 0) {
    self.temperature = temperature; self.topK = topK; self.topP = topP; self.minP = minP
    self.repetitionPenalty = repetitionPenalty; self.seed = seed
  }

  /// Greedy decoding.
  public static let greedy = SamplingParameters()

  /// Throws for values outside their ranges, naming the parameter.
  public func validate() throws(EngineError) {
    guard temperature.isFinite else { throw .invalidArgument("temperature \(temperature) is not finite") }
    guard topK >= 0 else { throw .invalidArgument("top_k \(topK) is negative") }
    guard topP > 0, topP <= 1 else { throw .invalidArgument("top_p \(topP) is not in (0, 1]") }
    guard minP >= 0, minP <= 1 else { throw .invalidArgument("min_p \(minP) is not in [0, 1]") }
    guard repetitionPenalty > 0, repetitionPenalty.isFinite else {
      throw .invalidArgument("repetition_penalty \(repetitionPenalty) is not positive")
    }
  }
}

// MARK: - Sampler

/// Picks next tokens; holds the seeded random state, so one sampler per generation.
public struct Sampler: Sendable {
  public let parameters: SamplingParameters
  private var random: SeededGenerator

  public init(_ parameters: SamplingParameters) throws(EngineError) {
    try parameters.validate()
    self.parameters = parameters
    random = SeededGenerator(seed: parameters.seed)
  }

  /// The next token for `logits` (vocab,) given the ids seen so far (prompt + generated).
  public mutating func sample(logits: [Float], context: [Int]) -> Int {
    let scores = processedLogits(logits, context: context)
    if parameters.temperature <= 0 { return Self.argmax(scores) }
    let probabilities = Self.softmax(scores)
    let u = random.nextUnit()
    var cumulative = 0.0
    var lastKept = Self.argmax(scores)
    for (i, p) in probabilities.enumerated() where p > 0 {
      cumulative += Double(p)
      lastKept = i
      if u < cumulative { return i }
    }
    return lastKept  // rounding left u above the total
  }

  /// Logits after the penalty and (when sampling) the warpers; removed tokens are -inf.
  /// Matches transformers' RepetitionPenaltyLogitsProcessor, TemperatureLogitsWarper,
  /// TopKLogitsWarper, TopPLogitsWarper and MinPLogitsWarper applied in that order.
  public func processedLogits(_ logits: [Float], context: [Int]) -> [Float] {
    var scores = logits
    let p = parameters
    if p.repetitionPenalty != 1 {
      for id in Set(context) where id >= 0 && id < scores.count {
        scores[id] = scores[id] < 0 ? scores[id] * p.repetitionPenalty : scores[id] / p.repetitionPenalty
      }
    }
    guard p.temperature > 0 else { return scores }
    if p.temperature != 1 { scores = scores.map { $0 / p.temperature } }
    if p.topK > 0 && p.topK < scores.count {
      let threshold = scores.sorted(by: >)[p.topK - 1]
      scores = scores.map { $0 < threshold ? -.infinity : $0 }
    }
    if p.topP < 1 {
      // Ascending order; drop the low tail whose cumulative probability is <= 1 - top_p,
      // always keeping the most likely token.
      let order = scores.indices.sorted { (scores[$0], $0) < (scores[$1], $1) }
      let probabilities = Self.softmax(order.map { scores[$0] })
      var cumulative: Float = 0
      for (rank, index) in order.enumerated() where rank < order.count - 1 {
        cumulative += probabilities[rank]
        if cumulative <= 1 - p.topP { scores[index] = -.infinity }
      }
    }
    if p.minP > 0 {
      let probabilities = Self.softmax(scores)
      let threshold = (probabilities.max() ?? 0) * p.minP
      for i in scores.indices where probabilities[i] < threshold { scores[i] = -.infinity }
    }
    return scores
  }

  /// Index of the first maximum (torch.argmax's rule).
  static func argmax(_ x: [Float]) -> Int {
    var best = 0
    for i in x.indices where x[i] > x[best] { best = i }
    return best
  }

  /// Softmax in float32 with -inf mapped to 0.
  static func softmax(_ x: [Float]) -> [Float] {
    let m = x.max() ?? 0
    guard m.isFinite else { return x.map { _ in 1 / Float(max(1, x.count)) } }
    let e = x.map { Foundation.exp($0 - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
  }
}
