/// A family's chat template, written out in code (no template engine): the text around one user
/// turn and the opening of the assistant's turn.
public struct ChatTemplate: Sendable, Equatable {
  /// Text before the first user turn (a system block), possibly empty.
  public var preamble: String
  /// The user turn; `{content}` stands for the prompt.
  public var user: String
  /// The opening of the assistant turn.
  public var assistant: String

  public init(preamble: String = "", user: String, assistant: String) {
    self.preamble = preamble; self.user = user; self.assistant = assistant
  }

  /// bluelm_vl: `[|Human|]:{content}[|AI|]:` from config.json's `chat`.
  public static func blueLM(_ chat: ChatConfig) -> ChatTemplate {
    ChatTemplate(user: chat.user, assistant: chat.assistant)
  }

  /// ChatML (`<|im_start|>role\n…<|im_end|>\n`), with an optional default system prompt, as
  /// SmolLM2 and Qwen2 write it.
  public static func chatML(system: String?) -> ChatTemplate {
    ChatTemplate(preamble: system.map { "<|im_start|>system\n\($0)<|im_end|>\n" } ?? "",
                 user: "<|im_start|>user\n{content}<|im_end|>\n",
                 assistant: "<|im_start|>assistant\n")
  }

  /// Recognises the template a GGUF file carries in `tokenizer.chat_template` (a Jinja text) by
  /// its markers, and takes its default system prompt when it writes one literally.
  /// Returns nil for templates of other shapes.
  public static func recognise(jinja: String) -> ChatTemplate? {
    guard jinja.contains("<|im_start|>") else { return nil }
    var system: String? = nil
    let opener = "<|im_start|>system\n"
    if let start = jinja.range(of: opener), let end = jinja.range(of: "<|im_end|>", range: start.upperBound..<jinja.endIndex) {
      let literal = String(jinja[start.upperBound..<end.lowerBound])
      // A literal prompt, not a template expression that inserts the message.
      if !literal.contains("{{") && !literal.contains("{%") && !literal.contains("'") { system = literal }
    }
    return chatML(system: system)
  }

  /// The whole prompt for one user message.
  public func render(_ prompt: String, thinking: ThinkingMode = .default,
                     markers: ThinkingMarkers = .thinkTags) -> String {
    preamble + user.replacingOccurrences(of: "{content}", with: prompt)
      + assistant + thinking.assistantOpening(markers)
  }
}
