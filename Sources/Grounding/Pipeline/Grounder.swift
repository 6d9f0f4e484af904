import Engine
import Foundation
import Imaging

/// Where an instruction points on a screenshot, in screen pixels, with what the model said.
public struct GroundingResult: Sendable {
  /// The click point in screen pixels; nil when the answer holds no usable coordinate.
  public var point: ScreenPoint?
  /// The box in screen pixels when the model gave one.
  public var box: PixelRect?
  /// The model's answer (after any reasoning), as text.
  public var answer: String
  /// The reasoning when thinking was on.
  public var reasoning: String
  /// Why there is no point, when there is none.
  public var noCoordinate: NoCoordinateReason?
  /// The AnyRes grid the screenshot was cut into.
  public var grid: AnyResGrid?
  /// Seconds per stage: preprocess, vision, prefill, then decode (text) or pointer (the head).
  public var timings: [String: Double]
  /// How the point was found: a text answer or the pointer head.
  public var method: GroundingMethod = .text
  /// Pointer head only: the best region's summed softmax mass (0...1), also when it is below
  /// the minimum and the result is "not found".
  public var score: Double? = nil
  /// Pointer head only: the point in original-image pixels before rounding (no origin added).
  public var imagePoint: ImagePoint? = nil

  /// Whether there is a point.
  public var found: Bool { point != nil }
}

/// How a grounding result was obtained.
public enum GroundingMethod: String, Sendable, Codable {
  /// The model wrote the coordinates as text (decoded and parsed).
  case text
  /// The pointer head scored the image tokens (one prefill, no decoding).
  case pointer
  /// Screen text (OCR) spelled the instruction's label; no model ran.
  case ocr
  /// Several OCR matches, the model chose among them (pointer mass in each box, else the
  /// distance of each box from the model's point).
  case hybrid
}

/// Instruction + screenshot -> screen point, through a vision-language model.
public struct Grounder: Sendable {
  public let pipeline: VisionLanguagePipeline
  /// The known model, convention and prompt this grounder uses, and why they were chosen.
  public let setup: GroundingSetup
  public var convention: CoordinateConvention { setup.convention }
  /// The user prompt; `{instruction}` stands for the instruction (see ``PromptTemplate``).
  public var promptTemplate: String { setup.template.user }
  /// Pointer head only: a best region scoring below this is "not found" (no point, the reason
  /// `belowMinimumScore`). 0 (the default) always answers. Text answers have no score.
  public var minimumScore: Double = 0
  /// The model's pointing pass and its token ids, when its checkpoint has a pointer head.
  let pointing: (model: any PointingModel, ids: PointerTokenIds)?

  /// `promptTemplate`: a known template's name or text with `{instruction}`; without it, the
  /// checkpoint's own (config.json `prompt_template`), else the known model's, else the bare
  /// instruction after the image.
  public init(model: LoadedModel, promptTemplate: String? = nil) throws(GroundingError) {
    try self.init(model: model, options: GroundingOptions(promptTemplate: promptTemplate))
  }

  /// Chooses the known model, convention and prompt from the model's folder and `options`
  /// (``GroundingSetup/choose(folder:family:checkpointTemplate:options:)``).
  public init(model: LoadedModel, options: GroundingOptions) throws(GroundingError) {
    guard model.vision != nil else { throw .modelTakesNoImages(family: model.family) }
    let setup = try GroundingSetup.choose(folder: model.path, family: model.family,
                                          checkpointTemplate: model.promptTemplate, options: options)
    try self.init(model: model, setup: setup)
  }

  public init(model: LoadedModel, setup: GroundingSetup) throws(GroundingError) {
    guard model.vision != nil else { throw .modelTakesNoImages(family: model.family) }
    self.pipeline = try VisionLanguagePipeline(model: model)
    self.setup = setup
    if let pointingModel = model.network as? any PointingModel, let ids = pointingModel.pointerTokenIds {
      pointing = (pointingModel, ids)
    } else {
      pointing = nil
    }
  }

  /// `.pointer` when the model has a pointer head (then `ground` uses it), else `.text`.
  public var method: GroundingMethod { pointing == nil ? .text : .pointer }

  /// Grounds `instruction` on `image`, a capture whose top-left lies at `origin` on the screen.
  public func ground(image: RGBImage, instruction: String, origin: ScreenPoint = .zero,
                     thinking: ThinkingMode = .default, maxTokens: Int = 48) throws(GroundingError) -> GroundingResult {
    if pointing != nil {
      guard thinking == .default else {
        throw .invalidArgument("this model grounds with its pointer head, without decoding: thinking (--think, --no-think, --think-budget) does not apply")
      }
      return try groundWithPointer(image: image, instruction: instruction, origin: origin)
    }
    let prepared = try prepare(instruction: instruction, image: image, thinking: thinking)
    let budget = thinking.budget ?? 0
    let completion: Completion
    do {
      completion = try pipeline.model.complete(
        promptIds: prepared.ids, imageEmbeddings: prepared.imageEmbeddings, imageGrids: prepared.imageGrids,
        maxTokens: maxTokens + budget, thinking: thinking)
    } catch { throw .engine(error) }
    let plan = prepared.plans.first
    // The size the model saw: the AnyRes canvas, or the native-resolution resize.
    let resizedWidth = plan?.resizedWidth ?? prepared.resizedSizes.first?.width
    let resizedHeight = plan?.resizedHeight ?? prepared.resizedSizes.first?.height
    let range = convention.validRange(resizedWidth: resizedWidth, resizedHeight: resizedHeight)
    let parsed = GroundingAnswer.parse(completion.answer, validRange: range)
    var result = GroundingResult(
      point: nil, box: nil, answer: completion.answer, reasoning: completion.reasoning, noCoordinate: nil,
      grid: plan?.grid,
      timings: ["preprocess": prepared.preprocessSeconds, "vision": prepared.visionSeconds,
                "prefill": completion.prefillSeconds, "decode": completion.decodeSeconds])
    func pixel(_ x: Double, _ y: Double) throws(GroundingError) -> ScreenPoint {
      try convention.screenPixel(x: x, y: y, imageWidth: image.width, imageHeight: image.height,
                                 resizedWidth: resizedWidth, resizedHeight: resizedHeight, origin: origin)
    }
    switch parsed {
    case let .noCoordinate(reason):
      result.noCoordinate = reason
    case let .point(x, y):
      result.point = try pixel(x, y)
    case let .box(x1, y1, x2, y2):
      let a = try pixel(min(x1, x2), min(y1, y2)), b = try pixel(max(x1, x2), max(y1, y2))
      result.box = PixelRect(x: a.x, y: a.y, width: b.x - a.x + 1, height: b.y - a.y + 1)
      if let c = parsed.clickPoint { result.point = try pixel(c.x, c.y) }
    }
    return result
  }

  /// The template filled in and the chat around it: the image where `{image}` stands (else
  /// before the text), the template's system message in place of the chat template's own (a
  /// template without ChatML markers gets it at the head of the user message).
  func prepare(instruction: String, image: RGBImage, thinking: ThinkingMode) throws(GroundingError) -> PreparedPrompt {
    let t = setup.template
    let size = t.needsSize ? try pipeline.inputSize(of: image) : nil
    let placeholder = pipeline.imagePlaceholder ?? ""
    func fill(_ part: String) -> String {
      t.fill(part.replacingOccurrences(of: "{image}", with: placeholder), instruction: instruction,
             width: size?.width, height: size?.height)
    }
    var user = fill(t.user)
    guard let system = t.system.map(fill) else {
      return try pipeline.prepare(prompt: user, images: [image], thinking: thinking)
    }
    if placeholder.isEmpty || !user.contains(placeholder) { user = placeholder + user }
    let model = pipeline.model
    var chat = model.template
    guard chat.user.hasPrefix("<|im_start|>") else {
      return try pipeline.prepare(prompt: system + "\n\n" + user, images: [image], thinking: thinking)
    }
    chat.preamble = "<|im_start|>system\n\(system)<|im_end|>\n"
    let text = chat.render(user, thinking: thinking, markers: model.thinkingMarkers)
    return try pipeline.prepare(prompt: text, images: [image], raw: true, thinking: thinking)
  }
}
