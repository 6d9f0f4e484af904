import Foundation

// MARK: - Request

/// One HTTP request as a route sees it: the whole body already read (and within the limit).
public struct HTTPRequest: Sendable {
  /// `GET`, `POST`, … as the client sent it.
  public var method: String
  /// The path without the query string, percent-escapes as sent.
  public var path: String
  /// Header values by lowercased name (the last one wins for repeated names).
  public var headers: [String: String]
  /// Query arguments, decoded.
  public var query: [String: String]
  public var body: Data
  /// Set when the client went away; long work checks it and stops early.
  public var cancellation: Cancellation

  public init(method: String, path: String, headers: [String: String] = [:], query: [String: String] = [:],
              body: Data = Data(), cancellation: Cancellation = Cancellation()) {
    self.method = method; self.path = path; self.headers = headers; self.query = query; self.body = body
    self.cancellation = cancellation
  }

  /// A header by name, any case.
  public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

// MARK: - Response

/// A status, headers and either a whole body or a stream written while the response is sent.
public struct HTTPResponse: Sendable {
  public var status: Int
  public var headers: [(String, String)]
  public var body: Body

  public enum Body: Sendable {
    case bytes(Data)
    /// Sent with chunked transfer encoding as the producer writes to it.
    case stream(ResponseStream)
  }

  public init(status: Int, headers: [(String, String)] = [], body: Body = .bytes(Data())) {
    self.status = status; self.headers = headers; self.body = body
  }

  /// A JSON body (keys sorted, so answers are stable for clients and tests).
  public static func json(_ object: Any, status: Int = 200) -> HTTPResponse {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
      ?? Data(#"{"error":{"message":"the response could not be encoded as JSON"}}"#.utf8)
    return HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: .bytes(data))
  }

  /// The error shape OpenAI clients read: `{"error": {"message", "type", "code"}}`.
  public static func error(_ status: Int, _ message: String, headers: [(String, String)] = []) -> HTTPResponse {
    var r = json(["error": ["message": message, "type": errorType(status), "code": status]], status: status)
    r.headers += headers
    return r
  }

  static func errorType(_ status: Int) -> String {
    switch status {
    case 400: "invalid_request_error"
    case 401: "authentication_error"
    case 404: "not_found_error"
    case 405: "method_not_allowed"
    case 409: "conflict_error"
    case 413: "request_too_large"
    case 503: "overloaded_error"
    default: status >= 500 ? "server_error" : "invalid_request_error"
    }
  }

  /// The reason phrase of the statuses this server sends.
  public static func reason(_ status: Int) -> String {
    switch status {
    case 200: "OK"
    case 202: "Accepted"
    case 400: "Bad Request"
    case 401: "Unauthorized"
    case 404: "Not Found"
    case 405: "Method Not Allowed"
    case 409: "Conflict"
    case 413: "Content Too Large"
    case 499: "Client Closed Request"
    case 500: "Internal Server Error"
    case 503: "Service Unavailable"
    default: "Status \(status)"
    }
  }
}

// MARK: - Cancellation

/// A flag one side sets and the other polls: the client went away, or the server is stopping.
public final class Cancellation: @unchecked Sendable {
  private let lock = NSLock()
  private var cancelled = false
  /// Asked by `isCancelled` while set: has the client hung up? (The server sets it while the
  /// request's handler runs.)
  private var probe: (() -> Bool)?
  public init() {}
  public var isCancelled: Bool {
    lock.withLock {
      if !cancelled, let probe, probe() { cancelled = true }
      return cancelled
    }
  }
  public func cancel() { lock.withLock { cancelled = true } }
  /// Sets (or, with nil, removes) the probe `isCancelled` asks.
  func watch(_ probe: (() -> Bool)?) { lock.withLock { self.probe = probe } }
}

// MARK: - Streaming

/// Bytes produced on one thread (a generation) and sent on another (the connection's). The
/// sender blocks until bytes or the end arrive; when the client goes away the stream is cancelled
/// and further writes are dropped, so the producer can stop at its next check.
public final class ResponseStream: @unchecked Sendable {
  private let condition = NSCondition()
  private var pending = Data()
  private var finished = false
  /// Set when the connection closed before the end was sent.
  public let cancellation = Cancellation()

  public init() {}

  /// Appends bytes; returns false when the client is gone (stop producing).
  @discardableResult
  public func write(_ data: Data) -> Bool {
    if cancellation.isCancelled { return false }
    condition.lock()
    pending.append(data)
    condition.signal()
    condition.unlock()
    return true
  }

  /// Marks the end: the sender sends what is left, then ends the chunked body.
  public func finish() {
    condition.lock()
    finished = true
    condition.signal()
    condition.unlock()
  }

  /// Waits for bytes and moves up to `max` of them into `buffer`. Returns the count, 0 when the
  /// stream ended (nothing left), or nil when it was cancelled.
  func read(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
    condition.lock()
    defer { condition.unlock() }
    while pending.isEmpty && !finished && !cancellation.isCancelled { condition.wait() }
    if cancellation.isCancelled { return nil }
    if pending.isEmpty { return 0 }
    let n = min(buffer.count, pending.count)
    pending.copyBytes(to: buffer.bindMemory(to: UInt8.self), count: n)
    pending.removeFirst(n)
    if pending.isEmpty { pending = Data() }  // a fresh buffer: removeFirst keeps capacity and offsets
    return n
  }

  /// The connection ended: wake the sender and make the producer's writes fail.
  func close() {
    condition.lock()
    cancellation.cancel()
    condition.broadcast()
    condition.unlock()
  }
}
