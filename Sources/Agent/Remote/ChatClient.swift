import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Engine
import Synchronization

/// Where a remote planner's model is served: an OpenAI-compatible server's base URL
/// (`http://host:8000/v1`), the key it wants, and how patiently to ask it.
public struct ChatEndpoint: Sendable {
  /// The chat completions URL: the base URL with `/chat/completions` appended, or the URL
  /// itself when it already ends so.
  public var url: URL
  /// Sent as `Authorization: Bearer KEY`; nil sends no header.
  public var apiKey: String?
  /// Seconds one request may take, from connecting to the last byte of the answer.
  public var timeoutSeconds: Double
  /// Further tries after a failed connection, a 429 or a 5xx (not after a timeout or a 4xx).
  public var retries: Int
  /// The wait before the first retry; each later one waits twice as long (at most 30 s).
  public var backoffSeconds: Double

  /// The environment variable the key is read from unless `--api-key-env` names another.
  public static let defaultKeyVariable = "GUI_AGENT_API_KEY"

  /// - Throws: `AgentError.invalidArgument` when `baseURL` is not an http(s) URL.
  public init(baseURL: String, apiKey: String? = nil, timeoutSeconds: Double = 120, retries: Int = 2,
              backoffSeconds: Double = 0.5) throws {
    guard let base = URL(string: baseURL), let scheme = base.scheme?.lowercased(), ["http", "https"].contains(scheme),
          base.host != nil else {
      throw AgentError.invalidArgument("'\(baseURL)' is not an http:// or https:// URL of an OpenAI-compatible server")
    }
    let trimmed = base.absoluteString.hasSuffix("/") ? String(base.absoluteString.dropLast()) : base.absoluteString
    let full = trimmed.hasSuffix("/chat/completions") ? trimmed : trimmed + "/chat/completions"
    guard let url = URL(string: full) else { throw AgentError.invalidArgument("'\(baseURL)' does not make a URL with /chat/completions") }
    self.url = url
    self.apiKey = apiKey.flatMap { $0.isEmpty ? nil : $0 }
    self.timeoutSeconds = timeoutSeconds
    self.retries = max(0, retries)
    self.backoffSeconds = backoffSeconds
  }

  /// The key from the environment variable `name`; nil when unset or empty.
  public static func key(fromEnvironment name: String = defaultKeyVariable,
                         environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
    environment[name].flatMap { $0.isEmpty ? nil : $0 }
  }
}

/// A synchronous client of one OpenAI-compatible chat completions endpoint.
///
/// Each call blocks its thread until the answer, a final failure, or `deadline`. Connection
/// failures, 429 and 5xx answers are retried with exponential backoff; a 4xx other than 429,
/// a timeout, or an answer that is not a chat completion fails at once. Every failure is an
/// `AgentError.endpoint` naming the URL.
public final class ChatClient: Sendable {
  public let endpoint: ChatEndpoint
  private let session: URLSession

  public init(endpoint: ChatEndpoint) {
    self.endpoint = endpoint
    let configuration = URLSessionConfiguration.ephemeral
    configuration.timeoutIntervalForRequest = endpoint.timeoutSeconds
    configuration.timeoutIntervalForResource = endpoint.timeoutSeconds
    configuration.httpMaximumConnectionsPerHost = 1
    session = URLSession(configuration: configuration)
  }

  deinit { session.invalidateAndCancel() }

  /// Sends `request`; gives up at `deadline` (no retry starts after it).
  public func complete(_ request: ChatRequest, deadline: ContinuousClock.Instant? = nil) throws -> ChatCompletion {
    let body = try request.body()
    let clock = ContinuousClock()
    let start = clock.now
    var wait = endpoint.backoffSeconds
    var attempt = 0
    while true {
      attempt += 1
      let left = deadline.map { ($0 - clock.now).seconds } ?? endpoint.timeoutSeconds
      guard left > 0 else { throw failure("the step's time ran out before the request (attempt \(attempt))") }
      switch send(body, timeout: min(endpoint.timeoutSeconds, left)) {
      case let .success(completion):
        var c = completion
        c.seconds = (clock.now - start).seconds
        c.attempts = attempt
        return c
      case let .failure(f):
        let afterWait = deadline.map { clock.now + .seconds(wait) < $0 } ?? true
        guard f.retryable, attempt <= endpoint.retries, afterWait else {
          let tries = attempt > 1 ? " (after \(attempt) attempts)" : ""
          throw failure(f.message + tries)
        }
        Thread.sleep(forTimeInterval: wait)
        wait = min(30, wait * 2)
      }
    }
  }

  private func failure(_ message: String) -> AgentError { .endpoint(url: endpoint.url.absoluteString, message: message) }

  /// One request and its classified outcome.
  private func send(_ body: Data, timeout: Double) -> Result<ChatCompletion, Attempt> {
    var request = URLRequest(url: endpoint.url, timeoutInterval: timeout)
    request.httpMethod = "POST"
    request.httpBody = body
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    request.setValue("application/json", forHTTPHeaderField: "Accept")
    if let key = endpoint.apiKey { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
    let outcome = Mutex<(Data?, URLResponse?, (any Error)?)?>(nil)
    let done = DispatchSemaphore(value: 0)
    let task = session.dataTask(with: request) { data, response, error in
      outcome.withLock { $0 = (data, response, error) }
      done.signal()
    }
    task.resume()
    // URLSession enforces the timeout; the extra seconds only guard against a task that never ends.
    if done.wait(timeout: .now() + timeout + 5) == .timedOut {
      task.cancel()
      return .failure(Attempt("no answer within \(format(timeout)) s (timed out)", retryable: false))
    }
    guard let (data, response, error) = outcome.withLock({ $0 }) else {
      return .failure(Attempt("the request ended without an outcome", retryable: true))
    }
    if let error { return .failure(Self.classify(error, timeout: timeout)) }
    guard let http = response as? HTTPURLResponse else {
      return .failure(Attempt("the answer is not an HTTP response", retryable: true))
    }
    let bytes = data ?? Data()
    guard (200..<300).contains(http.statusCode) else {
      let retryable = http.statusCode == 429 || http.statusCode >= 500
      return .failure(Attempt("HTTP \(http.statusCode): \(Self.errorText(bytes))", retryable: retryable))
    }
    return ChatCompletion.decode(bytes).mapError { Attempt($0.message, retryable: false) }
  }

  /// A transport error as a message: the endpoint is down (retried) or too slow (not retried).
  private static func classify(_ error: any Error, timeout: Double) -> Attempt {
    guard let u = error as? URLError else { return Attempt("the request failed: \(error.localizedDescription)", retryable: true) }
    switch u.code {
    case .timedOut:
      return Attempt("no answer within \(format(timeout)) s (timed out)", retryable: false)
    case .cannotConnectToHost, .cannotFindHost, .networkConnectionLost, .notConnectedToInternet, .dnsLookupFailed:
      return Attempt("cannot connect: the endpoint is down or unreachable (\(u.localizedDescription))", retryable: true)
    default:
      return Attempt("the request failed: \(u.localizedDescription) (URLError \(u.code.rawValue))", retryable: true)
    }
  }

  /// An error body's message: OpenAI's `{"error": {"message": ...}}` when it is that, else an excerpt.
  private static func errorText(_ body: Data) -> String {
    if let root = try? JSONSerialization.jsonObject(with: body) as? [String: Any] {
      if let e = root["error"] as? [String: Any], let m = e["message"] as? String { return "'\(m)'" }
      if let m = root["error"] as? String { return "'\(m)'" }
    }
    return excerpt(body)
  }

  /// One failed attempt: what happened, and whether trying again may help.
  private struct Attempt: Error {
    var message: String
    var retryable: Bool
    init(_ message: String, retryable: Bool) {
      self.message = message
      self.retryable = retryable
    }
  }
}

private func format(_ seconds: Double) -> String {
  seconds == seconds.rounded() ? String(Int(seconds)) : String(format: "%.1f", seconds)
}

