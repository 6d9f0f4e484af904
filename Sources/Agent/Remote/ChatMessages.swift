import Foundation

// MARK: - OpenAI chat completions: what is sent and what comes back
//
// The subset of POST /v1/chat/completions that vLLM, llama.cpp's llama-server, ollama and
// `gui-agent serve` all read: messages whose content is a list of `text` and `image_url` parts
// (the image as a data: URL), `model`, `max_tokens`, `temperature`.

/// One part of a message's content.
public enum ChatPart: Sendable, Equatable {
  case text(String)
  /// A PNG file's bytes, sent as `data:image/png;base64,...`.
  case png(Data)
}

/// One chat message: a role (`system`, `user`, `assistant`) and its parts.
public struct ChatMessage: Sendable, Equatable {
  public var role: String
  public var parts: [ChatPart]

  public init(role: String, parts: [ChatPart]) {
    self.role = role
    self.parts = parts
  }

  public static func user(_ parts: ChatPart...) -> ChatMessage { ChatMessage(role: "user", parts: parts) }
  public static func system(_ text: String) -> ChatMessage { ChatMessage(role: "system", parts: [.text(text)]) }
}

/// A chat completion request, sampled greedily unless `temperature` says otherwise.
public struct ChatRequest: Sendable, Equatable {
  /// The served model's name (`--served-model-name` of vLLM, the id in `/v1/models`).
  public var model: String
  public var messages: [ChatMessage]
  public var maxTokens: Int
  public var temperature: Double

  public init(model: String, messages: [ChatMessage], maxTokens: Int, temperature: Double = 0) {
    self.model = model
    self.messages = messages
    self.maxTokens = maxTokens
    self.temperature = temperature
  }

  /// The JSON body. A message of text alone is sent as a plain string, which text-only servers
  /// (llama-server without a projector) require.
  public func body() throws -> Data {
    let messages: [[String: Any]] = messages.map { m in
      if m.parts.count == 1, case let .text(t) = m.parts[0] { return ["role": m.role, "content": t] }
      let parts: [[String: Any]] = m.parts.map { part in
        switch part {
        case let .text(t): ["type": "text", "text": t]
        case let .png(data):
          ["type": "image_url", "image_url": ["url": "data:image/png;base64," + data.base64EncodedString()]]
        }
      }
      return ["role": m.role, "content": parts]
    }
    let object: [String: Any] = ["model": model, "messages": messages, "max_tokens": maxTokens,
                                 "temperature": temperature, "stream": false]
    return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
  }
}

/// What a chat completion answered.
public struct ChatCompletion: Sendable, Equatable {
  /// `choices[0].message.content`.
  public var content: String
  /// `choices[0].message.reasoning_content` (vLLM's and llama-server's reasoning parsers), when present.
  public var reasoning: String?
  /// `usage.prompt_tokens` and `usage.completion_tokens`, when the server counts them.
  public var promptTokens: Int?
  public var completionTokens: Int?
  /// `choices[0].finish_reason` (`stop`, `length`).
  public var finishReason: String?
  /// Wall-clock seconds of the call, retries included, and how many requests it took.
  public var seconds: Double = 0
  public var attempts: Int = 1

  public init(content: String, reasoning: String? = nil, promptTokens: Int? = nil, completionTokens: Int? = nil,
              finishReason: String? = nil) {
    self.content = content
    self.reasoning = reasoning
    self.promptTokens = promptTokens
    self.completionTokens = completionTokens
    self.finishReason = finishReason
  }

  /// Reads a response body; the message names what is missing (the caller adds the URL).
  public static func decode(_ body: Data) -> Result<ChatCompletion, ChatDecodeFailure> {
    guard let object = try? JSONSerialization.jsonObject(with: body) else {
      return .failure(ChatDecodeFailure("the answer is not JSON: \(excerpt(body))"))
    }
    guard let root = object as? [String: Any] else {
      return .failure(ChatDecodeFailure("the answer is not a JSON object: \(excerpt(body))"))
    }
    guard let choices = root["choices"] as? [[String: Any]], let first = choices.first else {
      return .failure(ChatDecodeFailure("the answer has no choices: \(excerpt(body))"))
    }
    guard let message = first["message"] as? [String: Any] else {
      return .failure(ChatDecodeFailure("choices[0] has no message: \(excerpt(body))"))
    }
    let reasoning = (message["reasoning_content"] as? String).flatMap { $0.isEmpty ? nil : $0 }
    let content: String
    if let text = message["content"] as? String {
      content = text
    } else if let parts = message["content"] as? [[String: Any]] {
      content = parts.compactMap { $0["text"] as? String }.joined()
    } else if reasoning != nil {
      // A reasoning model cut off before its answer: the reasoning is all there is.
      content = ""
    } else {
      return .failure(ChatDecodeFailure("choices[0].message has no content: \(excerpt(body))"))
    }
    let usage = root["usage"] as? [String: Any]
    return .success(ChatCompletion(content: content, reasoning: reasoning,
                                   promptTokens: usage?["prompt_tokens"] as? Int,
                                   completionTokens: usage?["completion_tokens"] as? Int,
                                   finishReason: first["finish_reason"] as? String))
  }
}

/// Why a response body is not a chat completion.
public struct ChatDecodeFailure: Error {
  public var message: String
  init(_ message: String) { self.message = message }
}

/// The first `limit` characters of a body, on one line, for error messages.
func excerpt(_ body: Data, limit: Int = 300) -> String {
  let text = String(decoding: body.prefix(4 * limit), as: UTF8.self)
    .replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
  if text.isEmpty { return "(empty body)" }
  return text.count > limit ? "'\(text.prefix(limit))...'" : "'\(text)'"
}
