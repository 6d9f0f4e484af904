import Engine
import Foundation
import Grounding
import Imaging

// MARK: - Mode 1 over HTTP: a served VLM sees the screen, plans and points

/// How a served vision-language model is talked to: which known model its name is, the
/// coordinate convention of its answers, the grammar it writes actions in, and the size the
/// screenshot is sent at.
public struct RemoteVisionModel: Sendable {
  /// The served name, sent as `model`.
  public var name: String
  /// The row of the known-models table the name matches, if any.
  public var knownModel: KnownModel?
  public var convention: CoordinateConvention
  /// UI-TARS' `Thought:`/`Action:` for the UI-TARS rows; the JSON action grammar (which also
  /// reads Qwen's computer-use tool calls) for the others.
  public var grammar: ActionGrammar
  /// Set for `resizedPixels` models: the screenshot is sent already at smart_resize's size, so
  /// the server's own smart_resize leaves it as it is and the model's pixels are the sent image's.
  public var resize: SmartResize?

  /// Qwen2.5-VL's processor bounds (preprocessor_config.json: min_pixels 56*56, max_pixels
  /// 16384*28*28), which UI-TARS-1.5's deployment notes keep.
  public static let qwen25Resize = SmartResize(patchSize: 14, mergeSize: 2, minPixels: 56 * 56, maxPixels: 16384 * 28 * 28)

  /// The model `servedName` names (``KnownModels/recognise(servedName:)``); `convention`
  /// overrides the row's.
  /// - Throws: `AgentError.invalidArgument` when the name matches no known model and no
  ///   convention is given.
  public init(servedName: String, convention: CoordinateConvention? = nil) throws {
    name = servedName
    knownModel = KnownModels.recognise(servedName: servedName)
    guard let chosen = convention ?? knownModel?.convention else {
      throw AgentError.invalidArgument("'\(servedName)' names no known model (known: \(KnownModels.all.map(\.id).joined(separator: ", "))); "
        + "give its coordinate convention with --convention")
    }
    self.convention = chosen
    grammar = knownModel?.answer == .uiTarsAction ? .uiTars : .json
    resize = chosen == .resizedPixels ? Self.qwen25Resize : nil
  }

  /// The screenshot as the model is to see it.
  public func input(_ screenshot: RGBImage) throws -> RGBImage {
    guard let resize else { return screenshot }
    let size = try resize.targetSize(height: screenshot.height, width: screenshot.width)
    return try screenshot.resized(width: size.width, height: size.height, filter: .bicubic)
  }

  /// Maps a point of an answer about `sent` (the image the model saw) to a screen pixel of
  /// `screen`; a point outside the image is an error rather than clamped onto its edge.
  public func screenPoint(_ p: ModelPoint, sent: (width: Int, height: Int), screen: (width: Int, height: Int)) throws -> ScreenPoint {
    let (xMax, yMax): (Double, Double) = switch convention {
    case .norm1000: (1000, 1000)
    case .unitInterval: (1, 1)
    case .resizedPixels: (Double(sent.width), Double(sent.height))
    }
    guard p.x.isFinite, p.y.isFinite, (0...xMax).contains(p.x), (0...yMax).contains(p.y) else {
      throw AgentError.invalidArgument("(\(p.x), \(p.y)) lies outside the image the model saw "
        + "(\(convention.optionName): x 0...\(Int(xMax)), y 0...\(Int(yMax)))")
    }
    return try convention.screenPixel(x: p.x, y: p.y, imageWidth: screen.width, imageHeight: screen.height,
                                      resizedWidth: sent.width, resizedHeight: sent.height)
  }
}

/// A vision-language model behind an OpenAI-compatible server (vLLM, llama-server, ollama,
/// `gui-agent serve`): each step it gets the screenshot as an `image_url` and answers with an
/// action in its family's grammar, whose points the model's convention maps to the screen.
public final class RemoteVisionPlanner: ActionPlanner {
  public let client: ChatClient
  public let model: RemoteVisionModel
  public var name: String { "\(model.name) at \(client.endpoint.url.absoluteString)" }

  public init(client: ChatClient, model: RemoteVisionModel) {
    self.client = client
    self.model = model
  }

  public func next(_ context: PlannerContext) throws -> PlannerOutput? {
    let clock = ContinuousClock()
    let t0 = clock.now
    let screen = context.screenshot
    let sent = try model.input(screen)
    let png = try PNG.encode(sent, compression: .fast)
    let prepared = (clock.now - t0).milliseconds
    var messages: [ChatMessage] = []
    switch model.grammar {
    case .uiTars:
      let template = model.knownModel?.template ?? PromptTemplate.bare
      let instruction = uiTarsInstruction(context)
      if let system = template.system {
        messages.append(.system(template.fill(system, instruction: instruction, width: sent.width, height: sent.height)))
      }
      let text = template.fill(template.user, instruction: instruction, width: sent.width, height: sent.height)
      // UI-TARS' prompts put the screenshot after the text ({image}); others before it.
      let parts: [ChatPart] = text.contains("{image}")
        ? [.text(text.replacingOccurrences(of: "{image}", with: "")), .png(png)] : [.png(png), .text(text)]
      messages.append(ChatMessage(role: "user", parts: parts))
    case .json:
      let prompt = AgentPrompt.render(task: context.task, history: context.history, feedback: context.feedback,
                                      screenWidth: sent.width, screenHeight: sent.height, targets: .pointsOrElements)
      messages.append(.user(.png(png), .text(prompt)))
    }
    let maxTokens = max(context.maxAnswerTokens, model.knownModel?.template?.maxTokens ?? 0) + (context.thinkBudget ?? 0)
    let completion = try client.complete(ChatRequest(model: model.name, messages: messages, maxTokens: maxTokens),
                                         deadline: context.deadline)
    let vlm = model
    let sentSize = (sent.width, sent.height), screenSize = (screen.width, screen.height)
    var out = remoteOutput(completion, pointSpace: .model { p in try vlm.screenPoint(p, sent: sentSize, screen: screenSize) })
    if model.grammar == .json, let translated = QwenComputerUse.translate(completion.content) { out.answer = translated }
    out.latencies["vision"] = prepared
    return out
  }

  /// The task, the steps so far and the last failure, as UI-TARS' `{instruction}`.
  private func uiTarsInstruction(_ context: PlannerContext) -> String {
    var out = context.task
    if !context.history.isEmpty {
      out += "\n\nPrevious steps, oldest first:"
      for (i, h) in context.history.enumerated() {
        out += "\n\(i + 1). " + (h.thought.map { "Thought: \($0) " } ?? "") + "Action: \(h.action) Result: \(h.result)"
      }
    }
    if let feedback = context.feedback { out += "\n\nYour last answer could not be used: \(feedback)" }
    return out
  }
}
