import Engine
import Foundation
import Grounding
import Imaging
import ScreenCapture

/// `POST /v1/ground`: {image | capture [, monitor], instruction, think?, think_budget?, max_tokens?}
/// -> {x, y, box, answer, reasoning, no_coordinate, timings}.
extension GUIAgentService {
  static let groundFields: Set<String> = ["image", "capture", "monitor", "instruction", "think", "think_budget", "max_tokens"]

  func ground(_ request: HTTPRequest) throws -> HTTPResponse {
    let t0 = Date()
    let body = try JSONFields(body: request.body)
    try body.rejectUnknown(Self.groundFields)
    guard let grounder else {
      throw RequestError(400, "this model cannot ground: \(groundingUnavailable ?? "model family '\(model.family)'")")
    }
    let instruction = try body.requiredString("instruction")
    guard !instruction.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
      throw RequestError.field("instruction", "is empty")
    }
    let thinking = try thinkingMode(body)
    // The prompt's own answer length when it asks for reasoning first (UI-TARS), else 48.
    let maxTokens = try body.int("max_tokens", in: 1...4096) ?? grounder.setup.template.maxTokens ?? 48
    let (image, origin) = try screenshot(body)
    let decodeSeconds = Date().timeIntervalSince(t0)
    let t1 = Date()
    // Grounding is short and not interrupted; it is skipped when the
    // client has gone before its turn.
    let result: GroundingResult = try inQueue(request.cancellation) {
      try grounder.ground(image: image, instruction: instruction, origin: origin, thinking: thinking, maxTokens: maxTokens)
    }
    var timings = result.timings
    timings["input"] = decodeSeconds
    timings["total"] = Date().timeIntervalSince(t0)
    timings["queue"] = max(0, Date().timeIntervalSince(t1) - result.timings.values.reduce(0, +))
    var answer: [String: Any] = [
      "x": result.point.map { $0.x as Any } ?? NSNull(), "y": result.point.map { $0.y as Any } ?? NSNull(),
      "box": result.box.map { [$0.x, $0.y, $0.x + $0.width - 1, $0.y + $0.height - 1] as Any } ?? NSNull(),
      "answer": result.answer, "timings": timings,
      "no_coordinate": result.noCoordinate.map { $0.description as Any } ?? NSNull(),
      "image_size": [image.width, image.height],
    ]
    if !result.reasoning.isEmpty { answer["reasoning"] = result.reasoning }
    return .json(answer)
  }

  /// `think` / `think_budget` as a thinking mode (`think: false` asks for a direct answer).
  func thinkingMode(_ body: JSONFields) throws(RequestError) -> ThinkingMode {
    let budget = try body.int("think_budget", in: 0...100_000)
    switch try body.bool("think") {
    case false?:
      if budget != nil { throw .field("think_budget", "goes with think: true, not think: false") }
      return .noThink
    case true?: return .think(budget: budget)
    case nil: return budget.map { .think(budget: $0) } ?? .default
    }
  }

  /// The screenshot: a base64 PNG in `image`, or a capture of the screen or one `monitor`.
  func screenshot(_ body: JSONFields) throws -> (RGBImage, ScreenPoint) {
    let capture = try body.bool("capture") ?? false
    switch (try body.string("image"), capture) {
    case let (text?, false):
      if body.has("monitor") { throw RequestError.field("monitor", "goes with capture: true") }
      let bytes = try ImagePayload.bytes(text, field: "image")
      do { return (try PNG.decode(bytes, maxPixels: configuration.maxImagePixels), .zero) } catch {
        throw RequestError.field("image", "is not a readable PNG: \(error.localizedDescription)")
      }
    case (nil, true):
      let target = try monitorTarget(body)
      let display = try x11()
      do {
        let rect = try display.rect(of: target)
        return (try display.capture(target), ScreenPoint(x: rect.x, y: rect.y))
      } catch {
        throw RequestError(500, "screen capture failed: \(error.localizedDescription)")
      }
    case (_?, true): throw RequestError.field("capture", "give image or capture: true, not both")
    case (nil, false): throw RequestError.field("image", "is required (a base64 PNG), or capture: true")
    }
  }

  private func monitorTarget(_ body: JSONFields) throws(RequestError) -> CaptureTarget {
    guard body.has("monitor") else { return .screen }
    if let name = body.object["monitor"] as? String { return .monitorNamed(name) }
    guard let index = try body.int("monitor", in: 0...64) else { return .screen }
    return .monitor(index: index)
  }
}
