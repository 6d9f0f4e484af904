import Engine
import Foundation
import Grounding
import Imaging

/// An OpenAI chat conversation turned into one prompt for the model: the family's template
/// around each turn, the image-pad token where each `image_url` part stands, and the images in
/// the same order.
struct ChatPrompt {
  var text: String
  var images: [RGBImage]

  /// Renders `messages` (OpenAI's `messages` array) for `model`.
  ///
  /// System text opens the conversation (a ChatML system block when the template is ChatML, else
  /// a paragraph before the first user turn); earlier assistant turns end with the end-of-sequence
  /// token, as the model ended them; the prompt ends with the assistant opening and `thinking`'s.
  static func render(messages: [Any], model: LoadedModel, imagePad: String?, maxPixels: Int,
                     thinking: ThinkingMode) throws(RequestError) -> ChatPrompt {
    guard !messages.isEmpty else { throw .field("messages", "must hold at least one message") }
    let template = model.template
    let isChatML = template.user.contains("<|im_start|>")
    let eos = model.eosIds.sorted().first.flatMap { model.tokenizer.token(for: $0) } ?? ""
    var system: [String] = []
    var turns = ""
    var images: [RGBImage] = []
    var sawUser = false
    for (i, item) in messages.enumerated() {
      let path = "messages[\(i)]"
      guard let object = item as? [String: Any] else { throw .field(path, "must be an object") }
      let message = JSONFields(object, path: path)
      let role = try message.requiredString("role")
      let content = try contentText(message, imagePad: imagePad, maxPixels: maxPixels, images: &images)
      switch role {
      case "system", "developer":
        system.append(content)
      case "user":
        var body = content
        if !sawUser, !isChatML, !system.isEmpty { body = system.joined(separator: "\n") + "\n\n" + body }
        sawUser = true
        turns += template.user.replacingOccurrences(of: "{content}", with: body)
      case "assistant":
        turns += template.assistant + content + (isChatML ? "<|im_end|>\n" : eos)
      default:
        throw .field(message.name("role"), "'\(role)' is not supported (system, developer, user, assistant)")
      }
    }
    guard sawUser else { throw .field("messages", "must hold a message with role 'user'") }
    let opening = isChatML && !system.isEmpty
      ? "<|im_start|>system\n\(system.joined(separator: "\n"))<|im_end|>\n" : template.preamble
    let text = opening + turns + template.assistant + thinking.assistantOpening(model.thinkingMarkers)
    return ChatPrompt(text: text, images: images)
  }

  /// A message's `content`: a string, or an array of `text` and `image_url` parts. Images are
  /// decoded into `images` and replaced by the `imagePad` token text.
  private static func contentText(_ message: JSONFields, imagePad: String?, maxPixels: Int,
                                  images: inout [RGBImage]) throws(RequestError) -> String {
    guard message.has("content") else { throw .field(message.name("content"), "is required") }
    if let s = message.object["content"] as? String { return s }
    guard let parts = message.object["content"] as? [Any] else {
      throw .field(message.name("content"), "must be a string or an array of parts")
    }
    var text = ""
    for (j, item) in parts.enumerated() {
      let path = message.name("content") + "[\(j)]"
      guard let object = item as? [String: Any] else { throw .field(path, "must be an object") }
      let part = JSONFields(object, path: path)
      switch try part.requiredString("type") {
      case "text":
        text += try part.requiredString("text")
      case "image_url":
        guard let imagePad else { throw .field(path, "this model takes no images") }
        let url: String
        if let s = part.object["image_url"] as? String {
          url = s
        } else {
          guard let inner = try part.objectField("image_url") else { throw .field(part.name("image_url"), "is required") }
          url = try inner.requiredString("url")
        }
        let field = part.name("image_url.url")
        let bytes = try ImagePayload.bytes(url, field: field)
        do { images.append(try PNG.decode(bytes, maxPixels: maxPixels)) } catch {
          throw .field(field, "is not a readable PNG: \(error.localizedDescription)")
        }
        text += imagePad
      case let other:
        throw .field(part.name("type"), "'\(other)' is not supported (text, image_url)")
      }
    }
    return text
  }
}

/// Splits streamed text into reasoning and answer at the closing marker, holding back a tail
/// that might be the start of the marker so it is never sent in pieces on the wrong side.
struct ReasoningSplitter {
  let close: String
  private(set) var inReasoning: Bool
  private var held = ""

  init(close: String, startsInReasoning: Bool) { self.close = close; self.inReasoning = startsInReasoning }

  /// Takes a piece; returns (reasoning, answer) text ready to send.
  mutating func take(_ piece: String) -> (reasoning: String, answer: String) {
    guard inReasoning else { return ("", piece) }
    held += piece
    if let r = held.range(of: close) {
      let reasoning = String(held[..<r.lowerBound])
      let answer = String(held[r.upperBound...]).drop { $0.isWhitespace }
      held = ""
      inReasoning = false
      return (reasoning, String(answer))
    }
    // Keep the longest tail that is a prefix of the marker.
    var keep = min(held.count, close.count - 1)
    while keep > 0, !close.hasPrefix(held.suffix(keep)) { keep -= 1 }
    let reasoning = String(held.dropLast(keep))
    held = String(held.suffix(keep))
    return (reasoning, "")
  }

  /// What is still held at the end (reasoning cut off by the budget or the length limit).
  mutating func finish() -> String {
    defer { held = "" }
    return held
  }
}
