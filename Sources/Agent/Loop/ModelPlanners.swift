import Engine
import Foundation
import Grounding
import Imaging

// MARK: - Mode 1: one VLM plans and points

/// A vision-language model that sees the screenshot, reasons (thinking mode when the settings
/// give a budget) and answers with an action whose points are in its own coordinate convention
/// (mapped to the screen through the AnyRes plan of the screenshot it saw).
public final class VisionPlanner: ActionPlanner {
  public let grounder: Grounder
  public var name: String { grounder.pipeline.model.path }
  public var weightsDigest: String? { grounder.pipeline.model.weightsDigest() }
  private var decoders = DecoderCache(points: true)

  /// `grounding` picks the known model and convention (`--model-name`, `--convention`); the
  /// prompt is the agent's own.
  /// - Throws: `GroundingError` when the model takes no images or has no known convention.
  public init(model: LoadedModel, grounding: GroundingOptions = .init()) throws {
    grounder = try Grounder(model: model, options: grounding)
  }

  public func next(_ context: PlannerContext) throws -> PlannerOutput? {
    let image = context.screenshot
    let prompt = AgentPrompt.render(task: context.task, history: context.history, feedback: context.feedback,
                                    screenWidth: image.width, screenHeight: image.height, targets: .pointsOrElements)
    let thinking = thinkingMode(context)
    let prepared = try grounder.pipeline.prepare(prompt: prompt, images: [image], thinking: thinking)
    let completion = try generate(grounder.pipeline.model, ids: prepared.ids, embeddings: prepared.imageEmbeddings, grids: prepared.imageGrids,
                                  thinking: thinking, context: context, decoder: context.constrained ? decoders.decoder(grounder.pipeline.model, context) : nil)
    let plan = prepared.plans.first
    let convention = grounder.convention
    let (width, height) = (image.width, image.height)
    // The size the model saw: the AnyRes canvas, or the native-resolution resize.
    let resizedWidth = plan?.resizedWidth ?? prepared.resizedSizes.first?.width
    let resizedHeight = plan?.resizedHeight ?? prepared.resizedSizes.first?.height
    let toScreen: @Sendable (ModelPoint) throws -> ScreenPoint = { p in
      try convention.screenPixel(x: p.x, y: p.y, imageWidth: width, imageHeight: height,
                                 resizedWidth: resizedWidth, resizedHeight: resizedHeight)
    }
    var out = output(completion, promptTokens: prepared.ids.count, pointSpace: .model(toScreen))
    out.latencies["vision"] = 1000 * (prepared.preprocessSeconds + prepared.visionSeconds)
    return out
  }
}

// MARK: - Mode 2: a text planner names elements

/// A language model (any family `ModelLoader` opens, e.g. a GGUF chat model) that does not see
/// the screen: it plans from the task and history and names targets by description, which the
/// loop's ``ElementLocator`` (a grounding VLM) turns into points.
public final class TextPlanner: ActionPlanner {
  public let model: LoadedModel
  /// Reads the screen into the numbered element list the prompt shows (the planner may then
  /// answer with an element number); nil: the prompt has none.
  public let parser: (any ScreenParser)?
  public var name: String { model.path }
  public var weightsDigest: String? { model.weightsDigest() }
  private var decoders = DecoderCache(points: false)

  public init(model: LoadedModel, parser: (any ScreenParser)? = nil) {
    self.model = model
    self.parser = parser
  }

  public func next(_ context: PlannerContext) throws -> PlannerOutput? {
    let image = context.screenshot
    let parse = try parser?.parse(image, area: PixelRect(x: 0, y: 0, width: image.width, height: image.height))
    let targets: AgentPrompt.Targets = parse.map { .listedElements($0.promptLines()) } ?? .elements
    let prompt = AgentPrompt.render(task: context.task, history: context.history, feedback: context.feedback,
                                    screenWidth: image.width, screenHeight: image.height, targets: targets)
    let thinking = thinkingMode(context)
    let ids = model.promptIds(prompt, thinking: thinking)
    // The constrained grammar has no element-number target; a constrained planner names elements.
    let completion = try generate(model, ids: ids, embeddings: nil, thinking: thinking, context: context,
                                  decoder: context.constrained ? decoders.decoder(model, context) : nil)
    // Told the screen size, a text planner that gives a point anyway means screen pixels.
    var out = output(completion, promptTokens: ids.count, pointSpace: .screen)
    out.parse = parse
    if let parse { out.latencies["parse"] = parse.milliseconds }
    return out
  }
}

// MARK: - Grounding elements

/// Locates element descriptions with a grounding VLM (``Grounder``) on the step's screenshot.
public final class GrounderLocator: ElementLocator {
  public let grounder: Grounder
  public var name: String { grounder.pipeline.model.path }
  public var weightsDigest: String? { grounder.pipeline.model.weightsDigest() }

  /// `grounding`: the known model, convention and prompt (`--model-name`, `--convention`,
  /// `--prompt-template`); by default chosen from the model's folder.
  public init(model: LoadedModel, grounding: GroundingOptions = .init()) throws {
    grounder = try Grounder(model: model, options: grounding)
  }

  public func locate(_ description: String, in screenshot: RGBImage) throws -> Located {
    let r = try grounder.ground(image: screenshot, instruction: description)
    let ms = 1000 * r.timings.values.reduce(0, +)
    let why = r.point == nil ? "no coordinate in the grounding answer '\(r.answer)'"
      + (r.noCoordinate.map { " (\($0))" } ?? "") : nil
    return Located(point: r.point, box: r.point == nil ? nil : r.box, why: why, milliseconds: ms)
  }
}

// MARK: - Shared

private func thinkingMode(_ context: PlannerContext) -> ThinkingMode {
  context.thinkBudget.map { .think(budget: $0) } ?? .default
}

/// One planner call's text, split as `Completion` splits it.
struct Generated {
  var text: String
  var reasoning: String
  var answer: String
  var completionTokens: Int
  var seconds: Double
}

/// The constrained decoder for a planner, remade when the answer's token budget changes so
/// that its string limit lets every action finish within the budget.
private struct DecoderCache {
  let points: Bool
  private var cached: ConstrainedDecoder?

  init(points: Bool) { self.points = points }

  mutating func decoder(_ model: LoadedModel, _ context: PlannerContext) -> ConstrainedDecoder {
    let length = ActionSchema.stringLength(fitting: context.maxAnswerTokens)
    if let d = cached, d.schema.maxStringLength == length { return d }
    let d = ConstrainedDecoder(model: model, schema: ActionSchema(points: points, maxStringLength: length))
    cached = d
    return d
  }
}

/// Greedy generation that stops at the step's deadline (the answer is then cut short and
/// most likely fails to parse, which the loop records). With a `decoder`, the reasoning (when
/// thinking) is generated freely up to its closing marker, then the answer under the schema.
private func generate(_ model: LoadedModel, ids: [Int], embeddings: [Float]?, grids: [ImageGrid] = [], thinking: ThinkingMode,
                      context: PlannerContext, decoder: ConstrainedDecoder?) throws -> Generated {
  let deadline = context.deadline
  let clock = ContinuousClock()
  let start = clock.now
  guard let decoder else {
    let c = try model.complete(promptIds: ids, imageEmbeddings: embeddings, imageGrids: grids,
                               maxTokens: context.maxAnswerTokens + (context.thinkBudget ?? 0),
                               thinking: thinking, onText: { _ in ContinuousClock.now < deadline })
    return Generated(text: c.text, reasoning: c.reasoning, answer: c.answer, completionTokens: c.ids.count,
                     seconds: c.prefillSeconds + c.decodeSeconds)
  }
  var prefix = ids
  var text = ""
  var reasoning = ""
  var tokens = 0
  if let budget = context.thinkBudget {
    let close = model.thinkingMarkers.close
    let closeIds = model.tokenizer.encode(close)
    let c = try model.complete(promptIds: ids, imageEmbeddings: embeddings, imageGrids: grids, maxTokens: budget + closeIds.count + 1,
                               stopStrings: [close], thinking: thinking, onText: { _ in ContinuousClock.now < deadline })
    reasoning = c.reasoning
    prefix += c.ids.filter { !model.eosIds.contains($0) }
    text = c.text
    tokens = c.ids.count
    if !c.text.contains(close) { prefix += closeIds; text += close }
    // The layout the template gives a closed reasoning block (ThinkingMode.noThink).
    prefix += model.tokenizer.encode("\n\n")
    text += "\n\n"
  }
  let answer = try decoder.generate(promptIds: prefix, imageEmbeddings: embeddings, imageGrids: grids, maxTokens: context.maxAnswerTokens,
                                    deadline: deadline)
  return Generated(text: text + answer.text, reasoning: reasoning, answer: answer.text,
                   completionTokens: tokens + answer.ids.count, seconds: ms(clock.now - start) / 1000)
}

private func output(_ g: Generated, promptTokens: Int, pointSpace: PointSpace) -> PlannerOutput {
  PlannerOutput(rawOutput: g.text, answer: g.answer, reasoning: g.reasoning.isEmpty ? nil : g.reasoning,
                tokens: TokenCounts(prompt: promptTokens, completion: g.completionTokens),
                latencies: ["model": 1000 * g.seconds], pointSpace: pointSpace)
}
