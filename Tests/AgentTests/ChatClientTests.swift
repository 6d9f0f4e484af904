import Foundation
import Testing
import TestSupport
@testable import Agent

/// The OpenAI-compatible chat client against a fake endpoint on 127.0.0.1: what it sends, and
/// each way an endpoint can fail.
@Suite struct ChatClientTests {
  static let request = ChatRequest(model: "served-model", messages: [.user(.png(Data([1, 2, 3])), .text("hello"))], maxTokens: 64)

  static func client(_ url: String, key: String? = nil, timeout: Double = 10, retries: Int = 2) throws -> ChatClient {
    ChatClient(endpoint: try ChatEndpoint(baseURL: url, apiKey: key, timeoutSeconds: timeout, retries: retries, backoffSeconds: 0.05))
  }

  /// The message text of an endpoint error.
  static func endpointError(_ body: () throws -> Void) -> (url: String, message: String)? {
    do { try body() } catch let AgentError.endpoint(url, message) { return (url, message) } catch { return nil }
    return nil
  }

  @Test func sendsTheRequestAndReadsTheAnswer() throws {
    let server = try FakeChatServer(replies: [.completion("Action: finished()", reasoning: "thinking it over")])
    defer { server.stop() }
    let answer = try Self.client(server.url, key: "sk-test-1").complete(Self.request)
    #expect(answer.content == "Action: finished()")
    #expect(answer.reasoning == "thinking it over")
    #expect(answer.promptTokens == 100 && answer.completionTokens == 20 && answer.attempts == 1)
    let got = try #require(server.requests.first)
    #expect(got.method == "POST" && got.path == "/v1/chat/completions")
    #expect(got.headers["authorization"] == "Bearer sk-test-1")
    #expect(got.model == "served-model")
    let json = try #require(got.json)
    #expect(json["max_tokens"] as? Int == 64 && json["temperature"] as? Double == 0)
    #expect(got.imageURLs == ["data:image/png;base64,AQID"])
    #expect(got.text == "hello")
  }

  @Test func keyComesFromTheNamedEnvironmentVariable() throws {
    #expect(ChatEndpoint.key(fromEnvironment: "MY_KEY", environment: ["MY_KEY": "k-42"]) == "k-42")
    #expect(ChatEndpoint.key(fromEnvironment: "MY_KEY", environment: ["MY_KEY": ""]) == nil)
    #expect(ChatEndpoint.key(environment: ["GUI_AGENT_API_KEY": "default-var"]) == "default-var")
    let server = try FakeChatServer(replies: [.completion("ok"), .completion("ok")])
    defer { server.stop() }
    _ = try Self.client(server.url, key: ChatEndpoint.key(fromEnvironment: "MY_KEY", environment: ["MY_KEY": "k-42"])).complete(Self.request)
    _ = try Self.client(server.url, key: nil).complete(Self.request)
    #expect(server.requests.map { $0.headers["authorization"] } == ["Bearer k-42", nil])
  }

  @Test func urlForms() throws {
    #expect(try ChatEndpoint(baseURL: "http://h:8000/v1").url.absoluteString == "http://h:8000/v1/chat/completions")
    #expect(try ChatEndpoint(baseURL: "http://h:8000/v1/").url.absoluteString == "http://h:8000/v1/chat/completions")
    #expect(try ChatEndpoint(baseURL: "https://h/v1/chat/completions").url.absoluteString == "https://h/v1/chat/completions")
    #expect(throws: AgentError.self) { try ChatEndpoint(baseURL: "ftp://h/v1") }
    #expect(throws: AgentError.self) { try ChatEndpoint(baseURL: "not a url") }
  }

  @Test func endpointDownIsRetriedThenNamed() throws {
    let port = try FakeChatServer.closedPort()
    let url = "http://127.0.0.1:\(port)/v1"
    let error = try #require(Self.endpointError { _ = try Self.client(url, retries: 2).complete(Self.request) })
    #expect(error.url == url + "/chat/completions")
    #expect(error.message.contains("cannot connect") && error.message.contains("after 3 attempts"), "\(error.message)")
  }

  @Test func timeoutIsNamedAndNotRetried() throws {
    let server = try FakeChatServer(replies: [FakeChatServer.Reply(body: Data(), delay: 5)])
    defer { server.stop() }
    let start = Date()
    let error = try #require(Self.endpointError { _ = try Self.client(server.url, timeout: 1).complete(Self.request) })
    #expect(error.message.contains("timed out"), "\(error.message)")
    #expect(Date().timeIntervalSince(start) < 4.5)
    #expect(server.requests.count == 1)
  }

  @Test func serverErrorThenSuccessIsRetried() throws {
    let server = try FakeChatServer(replies: [.error(500, "overloaded"), .error(503, "warming up"), .completion("fine")])
    defer { server.stop() }
    let answer = try Self.client(server.url, retries: 2).complete(Self.request)
    #expect(answer.content == "fine" && answer.attempts == 3)
    #expect(server.requests.count == 3)
  }

  @Test func tooManyRequestsIsRetried() throws {
    let server = try FakeChatServer(replies: [.error(429, "slow down"), .completion("fine")])
    defer { server.stop() }
    #expect(try Self.client(server.url).complete(Self.request).content == "fine")
  }

  @Test func retriesRunOut() throws {
    let server = try FakeChatServer(replies: [.error(500, "broken for good")])
    defer { server.stop() }
    let error = try #require(Self.endpointError { _ = try Self.client(server.url, retries: 1).complete(Self.request) })
    #expect(error.message.contains("HTTP 500") && error.message.contains("broken for good") && error.message.contains("after 2 attempts"))
    #expect(server.requests.count == 2)
  }

  @Test func clientErrorIsNotRetried() throws {
    let server = try FakeChatServer(replies: [.error(400, "messages: unknown model 'served-model'"), .completion("never")])
    defer { server.stop() }
    let error = try #require(Self.endpointError { _ = try Self.client(server.url).complete(Self.request) })
    #expect(error.message.contains("HTTP 400") && error.message.contains("unknown model"), "\(error.message)")
    #expect(server.requests.count == 1)
  }

  @Test func nonJSONBodyIsNamed() throws {
    let server = try FakeChatServer(replies: [.raw("<html>gateway page</html>")])
    defer { server.stop() }
    let error = try #require(Self.endpointError { _ = try Self.client(server.url).complete(Self.request) })
    #expect(error.message.contains("not JSON") && error.message.contains("gateway page"), "\(error.message)")
    #expect(server.requests.count == 1)
  }

  @Test func missingChoicesOrContentIsNamed() throws {
    let server = try FakeChatServer(replies: [.raw(#"{"object": "chat.completion", "choices": []}"#),
                                              .raw(#"{"choices": [{"message": {"role": "assistant"}}]}"#)])
    defer { server.stop() }
    let client = try Self.client(server.url)
    let none = try #require(Self.endpointError { _ = try client.complete(Self.request) })
    #expect(none.message.contains("no choices"), "\(none.message)")
    let empty = try #require(Self.endpointError { _ = try client.complete(Self.request) })
    #expect(empty.message.contains("no content"), "\(empty.message)")
  }

  @Test func deadlineStopsRetries() throws {
    let server = try FakeChatServer(replies: [.error(500, "down")])
    defer { server.stop() }
    let client = ChatClient(endpoint: try ChatEndpoint(baseURL: server.url, retries: 10, backoffSeconds: 0.3))
    let start = ContinuousClock.now
    #expect(throws: AgentError.self) { _ = try client.complete(Self.request, deadline: start + .seconds(1)) }
    #expect(ContinuousClock.now - start < .seconds(2))
    #expect(server.requests.count < 5)
  }
}
