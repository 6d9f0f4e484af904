import Engine
import Foundation
import Grounding

/// `POST /v1/chat/completions`, as OpenAI's API has it: messages with text and `image_url` parts,
/// temperature / top_p / max_tokens / stop / seed, `stream: true` as server-sent events, usage.
/// Extensions: `think` and `think_budget` (reasoning comes back as `reasoning_content`, the field
/// DeepSeek-style clients read), `top_k`.
extension GUIAgentService {
  /// A parsed chat request.
  struct ChatRequest: Sendable {
    var promptIds: [Int]
    var imageEmbeddingsNeeded: Bool
    var sampling: SamplingParameters
    var maxTokens: Int
    var stop: [String]
    var thinking: ThinkingMode
    var stream: Bool
    var includeUsage: Bool
  }

  /// Fields the route honours; `model` and `user` are accepted and not used (one model is
  /// served; `user` is the client's own tag).
  static let chatFields: Set<String> = [
    "messages", "model", "user", "n", "temperature", "top_k", "top_p", "seed", "max_tokens",
    "max_completion_tokens", "stop", "stream", "stream_options", "think", "think_budget",
    "logprobs", "response_format", "frequency_penalty", "presence_penalty",
  ]

  /// Refuses a field the route does not know, and an OpenAI option it cannot honour given a
  /// value that asks for something (`logprobs: true`, a JSON `response_format`, a penalty):
  /// answering as if it were honoured would hand the client text that breaks its assumptions.
  func refuseUnhonoured(_ body: JSONFields) throws(RequestError) {
    for field in ["tools", "tool_choice", "functions", "function_call", "logit_bias", "top_logprobs"]
    where body.has(field) {
      throw .field(field, "is not supported by this server")
    }
    try body.rejectUnknown(Self.chatFields)
    if try body.bool("logprobs") == true { throw .field("logprobs", "is not supported by this server (only false)") }
    if let format = try body.objectField("response_format"), let type = try format.string("type"), type != "text" {
      throw .field("response_format", "type '\(type)' is not supported (only 'text'; the agent's JSON grammar "
                   + "is enforced by constrained decoding in the agent loop)")
    }
    for penalty in ["frequency_penalty", "presence_penalty"] {
      if let v = try body.double(penalty, in: -2...2), v != 0 { throw .field(penalty, "is not supported (only 0)") }
    }
  }

  func chat(_ request: HTTPRequest) throws -> HTTPResponse {
    let body = try JSONFields(body: request.body)
    try refuseUnhonoured(body)
    guard let messages = try body.array("messages") else { throw RequestError.field("messages", "is required") }
    if let n = try body.int("n", in: 0...1_000), n != 1 { throw RequestError.field("n", "only 1 choice is generated") }
    let thinking = try thinkingMode(body)
    let prompt = try ChatPrompt.render(messages: messages, model: model, imagePad: pipeline.imagePlaceholder,
                                       maxPixels: configuration.maxImagePixels, thinking: thinking)
    let maxTokens = try body.int("max_completion_tokens", in: 1...configuration.maxCompletionTokens)
      ?? body.int("max_tokens", in: 1...configuration.maxCompletionTokens) ?? 256
    let sampling = SamplingParameters(
      temperature: Float(try body.double("temperature", in: 0...2) ?? 0),
      topK: try body.int("top_k", in: 0...1_000_000) ?? 0,
      topP: Float(try body.double("top_p", in: 0.000_001...1) ?? 1),
      // Without a seed every request samples afresh; with one, the same request gives the same text.
      seed: try body.int("seed", in: Int(Int64.min)...Int(Int64.max)).map { UInt64(truncatingIfNeeded: $0) }
        ?? UInt64.random(in: 0...UInt64.max))
    let stop = try stopStrings(body)
    let stream = try body.bool("stream") ?? false
    let includeUsage = try body.objectField("stream_options")?.bool("include_usage") ?? false
    let id = "chatcmpl-" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    let created = Int(Date().timeIntervalSince1970)
    let pipeline = self.pipeline
    let prepare: @Sendable () throws -> PreparedPrompt = {
      do { return try pipeline.prepare(prompt: prompt.text, images: prompt.images, raw: true, thinking: thinking) } catch {
        throw RequestError(400, "messages: \(error.localizedDescription)")
      }
    }
    let model = self.model
    if !stream {
      let cancellation = request.cancellation
      let (prepared, completion) = try inQueue(cancellation) { () throws -> (PreparedPrompt, Completion) in
        let prepared = try prepare()
        // A client that hangs up stops the generation at its next piece of text.
        return (prepared, try model.complete(promptIds: prepared.ids, imageEmbeddings: prepared.imageEmbeddings, imageGrids: prepared.imageGrids,
                                             maxTokens: maxTokens, sampling: sampling, stopStrings: stop, thinking: thinking,
                                             onText: { _ in !cancellation.isCancelled }))
      }
      if completion.finishReason == .cancelled {
        counter.requestAbandoned()
        throw RequestError.clientGone
      }
      var message: [String: Any] = ["role": "assistant",
                                    "content": completion.reasoning.isEmpty ? completion.text : completion.answer]
      if !completion.reasoning.isEmpty { message["reasoning_content"] = completion.reasoning }
      return .json([
        "id": id, "object": "chat.completion", "created": created, "model": configuration.modelName,
        "choices": [["index": 0, "message": message, "finish_reason": completion.finishReasonName, "logprobs": NSNull()] as [String: Any]],
        "usage": usage(prompt: prepared.ids.count, completion: completion.ids.count),
      ])
    }
    return try streamChat(id: id, created: created, prepare: prepare, includeUsage: includeUsage, thinking: thinking) { ids, embeddings, grids, onText in
      try model.complete(promptIds: ids, imageEmbeddings: embeddings, imageGrids: grids, maxTokens: maxTokens, sampling: sampling,
                         stopStrings: stop, thinking: thinking, onText: onText)
    }
  }

  private func stopStrings(_ body: JSONFields) throws(RequestError) -> [String] {
    guard body.has("stop") else { return [] }
    if let s = body.object["stop"] as? String { return s.isEmpty ? [] : [s] }
    guard let list = body.object["stop"] as? [Any], list.count <= 16 else {
      throw .field("stop", "must be a string or an array of at most 16 strings")
    }
    var out: [String] = []
    for (i, item) in list.enumerated() {
      guard let s = item as? String else { throw .field("stop[\(i)]", "must be a string") }
      if !s.isEmpty { out.append(s) }
    }
    return out
  }

  func usage(prompt: Int, completion: Int) -> [String: Int] {
    ["prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion]
  }

  // MARK: - Streaming

  typealias Generate = @Sendable (_ ids: [Int], _ embeddings: [Float]?, _ grids: [ImageGrid], _ onText: (String) -> Bool) throws -> Completion

  /// Server-sent events: a role chunk, a chunk per piece of text (reasoning pieces as
  /// `reasoning_content`), a closing chunk with `finish_reason`, usage when asked, `[DONE]`.
  /// The queue admits the job before the 200 goes out, so a full line is still a plain 503.
  private func streamChat(id: String, created: Int, prepare: @escaping @Sendable () throws -> PreparedPrompt,
                          includeUsage: Bool, thinking: ThinkingMode, generate: @escaping Generate) throws -> HTTPResponse {
    let stream = ResponseStream()
    let modelName = configuration.modelName
    let markers = model.thinkingMarkers
    let startsInReasoning = thinking.startsInReasoning
    @Sendable func chunk(_ delta: [String: Any], finish: String? = nil) -> Data {
      let object: [String: Any] = [
        "id": id, "object": "chat.completion.chunk", "created": created, "model": modelName,
        "choices": [["index": 0, "delta": delta, "finish_reason": finish.map { $0 as Any } ?? NSNull()] as [String: Any]],
      ]
      return ServerSentEvents.event(object)
    }
    let usage = self.usage
    let counter = self.counter
    do {
      try queue.submit {
        // The client left while this waited in line: nothing to generate for.
        if stream.cancellation.isCancelled {
          counter.streamAbandoned()
          stream.finish()
          return
        }
        _ = stream.write(chunk(["role": "assistant", "content": ""]))
        do {
          let prepared = try prepare()
          var splitter = ReasoningSplitter(close: markers.close, startsInReasoning: startsInReasoning)
          let completion = try generate(prepared.ids, prepared.imageEmbeddings, prepared.imageGrids) { piece in
            let (reasoning, answer) = splitter.take(piece)
            var ok = true
            if !reasoning.isEmpty { ok = stream.write(chunk(["reasoning_content": reasoning])) && ok }
            if !answer.isEmpty { ok = stream.write(chunk(["content": answer])) && ok }
            return ok
          }
          // The client left and the generation stopped at its next piece.
          if completion.finishReason == .cancelled { counter.streamAbandoned() }
          let rest = splitter.finish()
          if !rest.isEmpty { stream.write(chunk([splitter.inReasoning ? "reasoning_content" : "content": rest])) }
          stream.write(chunk([:], finish: completion.finishReasonName))
          if includeUsage {
            stream.write(ServerSentEvents.event([
              "id": id, "object": "chat.completion.chunk", "created": created, "model": modelName, "choices": [],
              "usage": usage(prepared.ids.count, completion.ids.count)] as [String: Any]))
          }
        } catch {
          let message = (error as? RequestError)?.message ?? (error as? LocalizedError)?.errorDescription ?? "\(error)"
          stream.write(ServerSentEvents.event(["error": ["message": message, "type": "server_error"]]))
        }
        stream.write(Data("data: [DONE]\n\n".utf8))
        stream.finish()
      }
    } catch {
      throw error.requestError(retryAfter: queue.retryAfterSeconds)
    }
    return HTTPResponse(status: 200, headers: [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")],
                        body: .stream(stream))
  }
}

/// `data: <json>\n\n` lines.
enum ServerSentEvents {
  static func event(_ object: Any) -> Data {
    let json = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    return Data("data: ".utf8) + json + Data("\n\n".utf8)
  }
}
