import Foundation

// The task prompt a grounding model was trained with, as text with placeholders.

/// A grounding prompt: an optional system message and the user message.
///
/// Placeholders, in both parts:
/// - `{instruction}`: the element to find ("the Save button");
/// - `{width}`, `{height}`: the size of the image the model sees (after its own resize);
/// - `{image}`: where the screenshot goes in the user message (default: before the text).
public struct PromptTemplate: Sendable, Hashable {
  /// The name `--prompt-template` and `--json` use: a known template's name, `custom` for text
  /// given by the user, `checkpoint` for the checkpoint's own `prompt_template`, `bare` for the
  /// instruction alone.
  public let name: String
  /// The system message, or nil to keep the chat template's own.
  public let system: String?
  public let user: String
  /// Answer tokens the model needs with this prompt (a reasoning part makes answers long);
  /// nil: the caller's default.
  public let maxTokens: Int?

  public init(name: String, system: String? = nil, user: String, maxTokens: Int? = nil) {
    self.name = name; self.system = system; self.user = user; self.maxTokens = maxTokens
  }

  /// The instruction alone, after the image.
  public static let bare = PromptTemplate(name: "bare", user: "{instruction}")

  /// `text` given by the user: it must name `{instruction}`, else the model would never see
  /// what to find.
  public static func custom(_ text: String) throws(GroundingError) -> PromptTemplate {
    guard text.contains("{instruction}") else {
      throw .invalidArgument("the prompt template '\(text)' has no {instruction} placeholder "
        + "(known template names: \(KnownModels.templateNames.joined(separator: ", ")))")
    }
    return PromptTemplate(name: "custom", user: text)
  }

  /// `part` with `{instruction}`, `{width}` and `{height}` filled in; `{image}` is left.
  public func fill(_ part: String, instruction: String, width: Int?, height: Int?) -> String {
    var s = part
    if let width { s = s.replacingOccurrences(of: "{width}", with: String(width)) }
    if let height { s = s.replacingOccurrences(of: "{height}", with: String(height)) }
    // The instruction last: its own text may hold braces that must stay as written.
    return s.replacingOccurrences(of: "{instruction}", with: instruction)
  }

  /// Whether the template needs the size the model sees.
  public var needsSize: Bool {
    [user, system ?? ""].contains { $0.contains("{width}") || $0.contains("{height}") }
  }
}
