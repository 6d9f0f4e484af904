import Foundation

/// An OpenAI-compatible chat endpoint of a test's own: a plain HTTP/1.1 server on 127.0.0.1 at
/// a kernel-chosen port that records every request and answers each with what the test's
/// `reply` closure gives for it (a scripted completion, an HTTP error, a slow answer, garbage).
/// One connection at a time, `Connection: close` after each answer. The serving thread holds
/// the server until ``stop()``, which every test calls.
public final class FakeChatServer: @unchecked Sendable {
  /// One request as it arrived.
  public struct Request: Sendable {
    public var method: String
    public var path: String
    /// Header names in lower case.
    public var headers: [String: String]
    public var body: Data

    public var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
    /// The `model` field.
    public var model: String? { json?["model"] as? String }
    /// Every `image_url` part's URL, in order.
    public var imageURLs: [String] {
      let messages = json?["messages"] as? [[String: Any]] ?? []
      return messages.flatMap { ($0["content"] as? [[String: Any]]) ?? [] }
        .compactMap { ($0["image_url"] as? [String: Any])?["url"] as? String }
    }
    /// Every text, from string contents and `text` parts, joined by newlines.
    public var text: String {
      let messages = json?["messages"] as? [[String: Any]] ?? []
      return messages.flatMap { m -> [String] in
        if let s = m["content"] as? String { return [s] }
        return ((m["content"] as? [[String: Any]]) ?? []).compactMap { $0["text"] as? String }
      }.joined(separator: "\n")
    }
  }

  /// What to answer.
  public struct Reply: Sendable {
    public var status: Int
    public var body: Data
    /// Seconds to wait before answering.
    public var delay: Double

    public init(status: Int = 200, body: Data, delay: Double = 0) {
      self.status = status
      self.body = body
      self.delay = delay
    }

    /// A chat completion whose message holds `content` (and `reasoning_content` when given).
    public static func completion(_ content: String, reasoning: String? = nil) -> Reply {
      var message: [String: Any] = ["role": "assistant", "content": content]
      if let reasoning { message["reasoning_content"] = reasoning }
      let object: [String: Any] = [
        "id": "chatcmpl-test", "object": "chat.completion", "model": "fake",
        "choices": [["index": 0, "message": message, "finish_reason": "stop"]],
        "usage": ["prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120],
      ]
      return Reply(body: (try? JSONSerialization.data(withJSONObject: object)) ?? Data())
    }

    public static func error(_ status: Int, _ message: String) -> Reply {
      let object = ["error": ["message": message, "type": "test"]]
      return Reply(status: status, body: (try? JSONSerialization.data(withJSONObject: object)) ?? Data())
    }

    public static func raw(_ text: String, status: Int = 200) -> Reply { Reply(status: status, body: Data(text.utf8)) }
  }

  public let port: UInt16
  /// The base URL clients are given: `http://127.0.0.1:PORT/v1`.
  public var url: String { "http://127.0.0.1:\(port)/v1" }

  private let listener: Int32
  private let reply: @Sendable (Request, Int) -> Reply
  private let lock = NSLock()
  private var received: [Request] = []
  private var stopping = false
  private let finished = DispatchSemaphore(value: 0)

  /// Starts listening; `reply` gets each request and its 0-based number.
  public init(reply: @escaping @Sendable (Request, Int) -> Reply) throws {
    self.reply = reply
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw FakeServerError("socket() failed (errno \(errno))") }
    var yes: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
        bind(fd, p, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, p, &length) == 0
      }
    }
    guard bound else { close(fd); throw FakeServerError("cannot listen on 127.0.0.1 (errno \(errno))") }
    listener = fd
    port = UInt16(bigEndian: addr.sin_port)
    Thread.detachNewThread { [self] in serve() }
  }

  /// A scripted server: request i gets `replies[i]`, later ones the last reply.
  public convenience init(replies: [Reply]) throws {
    try self.init { _, i in replies[min(i, replies.count - 1)] }
  }

  /// The requests so far, in order.
  public var requests: [Request] { lock.withLock { received } }

  /// Stops accepting and waits for the serving thread to end.
  public func stop() {
    let first = lock.withLock { () -> Bool in
      defer { stopping = true }
      return !stopping
    }
    guard first else { return }
    shutdown(listener, Int32(SHUT_RDWR))
    finished.wait()
    close(listener)
  }

  /// A port on which nothing listens (bound, then released), for "endpoint down" tests.
  public static func closedPort() throws -> UInt16 {
    let server = try FakeChatServer { _, _ in .raw("") }
    let port = server.port
    server.stop()
    return port
  }

  // MARK: - Serving

  private func serve() {
    defer { finished.signal() }
    while true {
      var pfd = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
      let ready = poll(&pfd, 1, 100)
      if lock.withLock({ stopping }) { return }
      guard ready > 0 else { continue }
      let client = accept(listener, nil, nil)
      guard client >= 0 else { continue }
      handle(client)
      close(client)
    }
  }

  private func handle(_ fd: Int32) {
    var tv = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var data = Data()
    var buffer = [UInt8](repeating: 0, count: 65536)
    func readMore() -> Bool {
      let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      guard n > 0 else { return false }
      data.append(contentsOf: buffer[0..<n])
      return true
    }
    let separator = Data("\r\n\r\n".utf8)
    var headEnd: Range<Data.Index>?
    while headEnd == nil {
      guard readMore() else { return }
      headEnd = data.range(of: separator)
    }
    guard let end = headEnd else { return }
    let lines = String(decoding: data[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
    let requestLine = lines.first?.split(separator: " ").map(String.init) ?? []
    var headers: [String: String] = [:]
    for line in lines.dropFirst() {
      guard let colon = line.firstIndex(of: ":") else { continue }
      headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    // libcurl asks before sending a large body.
    if headers["expect"]?.lowercased() == "100-continue" { send(fd, Data("HTTP/1.1 100 Continue\r\n\r\n".utf8)) }
    let length = Int(headers["content-length"] ?? "0") ?? 0
    var body = Data(data[end.upperBound...])
    while body.count < length {
      let before = data.count
      guard readMore() else { break }
      body.append(data[before...])
    }
    let request = Request(method: requestLine.first ?? "", path: requestLine.count > 1 ? requestLine[1] : "",
                          headers: headers, body: body)
    let index = lock.withLock { () -> Int in
      received.append(request)
      return received.count - 1
    }
    let answer = reply(request, index)
    if answer.delay > 0 {
      // Sleep in slices so that stop() is not held up by a slow answer.
      let until = Date().addingTimeInterval(answer.delay)
      while Date() < until, !lock.withLock({ stopping }) { usleep(20_000) }
    }
    let head = "HTTP/1.1 \(answer.status) \(answer.status == 200 ? "OK" : "Status")\r\nContent-Type: application/json\r\n"
      + "Content-Length: \(answer.body.count)\r\nConnection: close\r\n\r\n"
    send(fd, Data(head.utf8) + answer.body)
  }

  private func send(_ fd: Int32, _ data: Data) {
    var sent = 0
    while sent < data.count {
      let n = data.withUnsafeBytes { Foundation.send(fd, $0.baseAddress! + sent, data.count - sent, Int32(MSG_NOSIGNAL)) }
      guard n > 0 else { return }
      sent += n
    }
  }
}

/// The fake server could not start.
public struct FakeServerError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}
