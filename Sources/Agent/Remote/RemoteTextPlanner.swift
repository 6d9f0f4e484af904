import Engine
import Foundation
import Grounding
import Imaging

// MARK: - Mode 2 over HTTP: a served language model plans, the loop's locator grounds

/// A language model behind an OpenAI-compatible server that plans from the task, the history
/// and, when a ``ScreenParser`` is given, the elements it read on the screen. It names targets
/// by element number (`{"element_id": 3}`, clicked at that element's centre) or by description,
/// which the loop's ``ElementLocator`` (a local grounding model) turns into a point.
public final class RemoteTextPlanner: ActionPlanner {
  public let client: ChatClient
  /// The served model's name, sent as `model`.
  public let model: String
  /// Reads the screen into the element list the prompt shows; nil: the prompt has none.
  public let parser: (any ScreenParser)?
  public var name: String { "\(model) at \(client.endpoint.url.absoluteString)" }

  public init(client: ChatClient, model: String, parser: (any ScreenParser)? = nil) {
    self.client = client
    self.model = model
    self.parser = parser
  }

  public func next(_ context: PlannerContext) throws -> PlannerOutput? {
    let image = context.screenshot
    var parse: ScreenParse?
    if let parser {
      parse = try parser.parse(image, area: PixelRect(x: 0, y: 0, width: image.width, height: image.height))
    }
    let targets: AgentPrompt.Targets = parse.map { .listedElements($0.promptLines()) } ?? .elements
    let prompt = AgentPrompt.render(task: context.task, history: context.history, feedback: context.feedback,
                                    screenWidth: image.width, screenHeight: image.height, targets: targets)
    let request = ChatRequest(model: model, messages: [.user(.text(prompt))],
                              maxTokens: context.maxAnswerTokens + (context.thinkBudget ?? 0))
    let completion = try client.complete(request, deadline: context.deadline)
    var out = remoteOutput(completion, pointSpace: .screen)
    out.parse = parse
    if let parse { out.latencies["parse"] = parse.milliseconds }
    return out
  }
}

/// A completion as a planner's output: the content is what the loop parses; the server's
/// separate reasoning, when it gives one, is kept beside it.
func remoteOutput(_ c: ChatCompletion, pointSpace: PointSpace) -> PlannerOutput {
  let tokens = c.promptTokens.flatMap { p in c.completionTokens.map { TokenCounts(prompt: p, completion: $0) } }
  var latencies = ["model": 1000 * c.seconds]
  if c.attempts > 1 { latencies["model_attempts"] = Double(c.attempts) }
  return PlannerOutput(rawOutput: c.content, answer: c.content, reasoning: c.reasoning, tokens: tokens,
                       latencies: latencies, pointSpace: pointSpace)
}
