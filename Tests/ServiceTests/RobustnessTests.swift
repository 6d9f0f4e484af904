import Foundation
@testable import Service
import Testing

/// Auth, the bounded queue, body limits, clients that go away, and shutdown under load.
@Suite(.serialized) struct RobustnessTests {
  static let token = "s3cret-token-0123456789"

  // MARK: - Auth

  @Test func bearerTokenGuardsEveryRouteButThePage() throws {
    let s = try RunningService { $0.token = Self.token }
    for path in ["/healthz", "/v1/models", "/openapi.json", "/v1/episodes"] {
      let none = try s.client.get(path)
      #expect(none.status == 401, "\(path)")
      #expect(none.headers["www-authenticate"] == "Bearer")
      #expect(try s.client.get(path, headers: ["Authorization": "Bearer wrong"]).status == 401)
      #expect(try s.client.get(path, headers: ["Authorization": "Bearer \(Self.token)x"]).status == 401)
      #expect(try s.client.get(path, headers: ["Authorization": "Basic \(Self.token)"]).status == 401)
    }
    let ok = try s.client.get("/healthz", headers: ["Authorization": "Bearer \(Self.token)"])
    #expect(ok.status == 200)
    // A POST without the token is refused before its body is looked at.
    #expect(try s.client.post("/v1/ground", raw: "{").status == 401)
    // The static page holds no data and is served without the token.
    let page = try s.client.get("/")
    #expect(page.status == 200)
    #expect(page.headers["content-type"]?.hasPrefix("text/html") == true)
  }

  @Test func withoutTokenEverythingIsOpenOnLoopback() throws {
    let s = try RunningService()
    #expect(try s.client.get("/healthz").status == 200)
    #expect(try s.client.get("/healthz", headers: ["Authorization": "Bearer anything"]).status == 200)
  }

  @Test func nonLoopbackNeedsAToken() throws {
    var c = ServiceConfiguration()
    for host in ["0.0.0.0", "192.168.1.20", "::", "10.0.0.1"] {
      c.host = host
      c.token = nil
      #expect(throws: ServiceError.tokenRequired(address: try ListenAddress(host: host, port: 8080).description)) {
        try c.listenAddress()
      }
      c.token = Self.token
      #expect(try !c.listenAddress().isLoopback)
    }
    for host in ["127.0.0.1", "127.4.5.6", "::1", "localhost", "::ffff:127.0.0.1"] {
      c.host = host
      c.token = nil
      #expect(try c.listenAddress().isLoopback, "\(host)")
    }
    c.host = "example.com"
    #expect(throws: ServiceError.self) { try c.listenAddress() }
    c.host = "0.0.0.0"
    c.token = "short"
    #expect(throws: ServiceError.self) { try c.listenAddress() }
  }

  @Test func constantTimeComparison() {
    let a = Array("abcdef".utf8)
    #expect(BearerAuth.constantTimeEqual(a, a))
    #expect(!BearerAuth.constantTimeEqual(a, Array("abcdeg".utf8)))
    #expect(!BearerAuth.constantTimeEqual(a, Array("abcde".utf8)))
    #expect(!BearerAuth.constantTimeEqual(a, Array("abcdef\0".utf8)))
    #expect(!BearerAuth.constantTimeEqual([], a))
    #expect(BearerAuth.constantTimeEqual([], []))
  }

  // MARK: - Queue

  /// With the runner busy and the line full, model requests get 503 with Retry-After; other
  /// routes still answer; once the line moves, requests succeed again.
  @Test func fullQueueAnswers503() throws {
    let s = try RunningService { $0.queueCapacity = 1 }
    let release = DispatchSemaphore(value: 0)
    let running = DispatchSemaphore(value: 0)
    try s.service.queue.submit { running.signal(); release.wait() }   // runs
    running.wait()
    try s.service.queue.submit { release.wait() }                    // waits: the line is full
    let png = try Fixtures.screenshotPNG().base64EncodedString()
    let refused = try s.client.post("/v1/ground", json: ["image": png, "instruction": "OK"])
    #expect(refused.status == 503)
    #expect(Int(refused.headers["retry-after"] ?? "") ?? 0 >= 1)
    let chat = try s.client.post("/v1/chat/completions", json: ["messages": [["role": "user", "content": "hi"]], "stream": true])
    #expect(chat.status == 503)
    #expect(try s.client.get("/healthz").status == 200)
    release.signal()
    release.signal()
    #expect(s.service.queue.drain(timeout: 10))
    #expect(try s.client.post("/v1/ground", json: ["image": png, "instruction": "OK"]).status == 200)
  }

  // MARK: - Body limit

  @Test func bodyOverTheLimitIs413() throws {
    let s = try RunningService { $0.maxBodyBytes = 4096 }
    let big = Data(repeating: UInt8(ascii: "a"), count: 10_000)
    // Content-Length over the limit: answered before the body is read.
    let fd = try s.client.connect()
    defer { close(fd) }
    try RawHTTPClient.send(fd, RawHTTPClient.head("POST", "/v1/ground", headers: [:], bodyLength: big.count))
    let early = try RawHTTPClient.parse(RawHTTPClient.readAll(fd))
    #expect(early.status == 413)
    #expect(early.errorMessage.contains("4096"))
    // Chunked, no length: counted as it arrives.
    let fd2 = try s.client.connect()
    defer { close(fd2) }
    var chunked = RawHTTPClient.head("POST", "/v1/chat/completions", headers: ["Transfer-Encoding": "chunked"], bodyLength: nil)
    for _ in 0..<5 { chunked += Data(String(2000, radix: 16).utf8) + Data("\r\n".utf8) + big.prefix(2000) + Data("\r\n".utf8) }
    chunked += Data("0\r\n\r\n".utf8)
    try RawHTTPClient.send(fd2, chunked)
    #expect(try RawHTTPClient.parse(RawHTTPClient.readAll(fd2)).status == 413)
    // Under the limit is fine.
    #expect(try s.client.post("/v1/chat/completions", raw: "{}").status == 400)
    #expect(try s.client.get("/healthz").status == 200)
  }

  // MARK: - Clients that go away

  @Test func disconnectingClientsDoNotDisturbTheServer() throws {
    let s = try RunningService()
    // Mid-upload: half a body, then gone.
    for _ in 0..<5 {
      let fd = try s.client.connect()
      try RawHTTPClient.send(fd, RawHTTPClient.head("POST", "/v1/ground", headers: [:], bodyLength: 1000) + Data(repeating: 32, count: 100))
      close(fd)
    }
    // A whole request, then gone before the answer.
    let png = try Fixtures.screenshotPNG().base64EncodedString()
    let body = try JSONSerialization.data(withJSONObject: ["image": png, "instruction": "OK"])
    for _ in 0..<3 {
      let fd = try s.client.connect()
      try RawHTTPClient.send(fd, RawHTTPClient.head("POST", "/v1/ground", headers: [:], bodyLength: body.count) + body)
      close(fd)
    }
    // A stream, dropped after its first event: the generation stops and the runner frees up.
    let chat = try JSONSerialization.data(withJSONObject: [
      "messages": [["role": "user", "content": "Tell a long story"]], "max_tokens": 4000, "stream": true,
    ] as [String: Any])
    let fd = try s.client.connect()
    try RawHTTPClient.send(fd, RawHTTPClient.head("POST", "/v1/chat/completions", headers: [:], bodyLength: chat.count) + chat)
    let first = try RawHTTPClient.read(fd, until: "data: ")
    #expect(String(decoding: first, as: UTF8.self).contains("200 OK"))
    close(fd)
    #expect(s.service.queue.drain(timeout: 30))
    let health = try s.client.get("/healthz")
    #expect(health.status == 200)
    // The generation noticed: it stopped early instead of writing 4000 tokens to nobody.
    #expect(try health.json()["streams_abandoned"] as? Int == 1)
    #expect(try s.client.post("/v1/ground", json: ["image": png, "instruction": "OK"]).status == 200)
  }

  /// A stream whose connection closed refuses further writes, so the producer stops.
  @Test func closedStreamRefusesWrites() {
    let stream = ResponseStream()
    #expect(stream.write(Data("a".utf8)))
    stream.close()
    #expect(!stream.write(Data("b".utf8)))
    #expect(stream.cancellation.isCancelled)
  }

  // MARK: - Shutdown

  /// Shutdown while a request waits in the queue: that request still gets its answer, then the
  /// port stops accepting.
  @Test func shutdownDrainsWorkInFlight() throws {
    let s = try RunningService()
    let release = DispatchSemaphore(value: 0)
    let running = DispatchSemaphore(value: 0)
    try s.service.queue.submit { running.signal(); release.wait() }
    running.wait()
    let png = try Fixtures.screenshotPNG().base64EncodedString()
    let answered = ResultBox()
    let client = s.client
    let requester = Thread {
      answered.status = (try? client.post("/v1/ground", json: ["image": png, "instruction": "OK"]))?.status
      answered.done.signal()
    }
    requester.start()
    // Wait until the request is in line behind the blocker.
    for _ in 0..<500 where s.service.queue.state.waiting == 0 { usleep(10_000) }
    #expect(s.service.queue.state.waiting == 1)
    let stopped = DispatchSemaphore(value: 0)
    let service = s.service
    Thread { service.shutdown(timeout: 30); stopped.signal() }.start()
    // Release the blocker only once shutdown has closed the queue, so the waiting request is
    // answered by the drain, not before it.
    let closing = Date().addingTimeInterval(30)
    while !service.queue.isClosed, Date() < closing { usleep(1_000) }
    #expect(service.queue.isClosed)
    release.signal()
    #expect(answered.done.wait(timeout: .now() + 30) == .success)
    #expect(answered.status == 200)
    #expect(stopped.wait(timeout: .now() + 30) == .success)
    #expect(throws: (any Error).self) { try client.get("/healthz") }
  }
}

final class ResultBox: @unchecked Sendable {
  var status: Int?
  let done = DispatchSemaphore(value: 0)
}
