import Foundation
@testable import Service
import Testing

/// Clients that misbehave, against a real server: bytes trickled, hundreds of idle connections,
/// oversized heads, bytes that are not UTF-8, requests during shutdown, a client that leaves
/// while the model works. The server must keep answering the others, within its memory, and say
/// what it refused. Each test prints its measured figures ("fault figure: ..."), which
/// docs/service.md ("Faults and limits") records.
///
/// Bounds on time are generous (the machine may be busy); the tests wait on state, not sleeps.
@Suite(.serialized) struct ServiceFaultTests {
  // MARK: - Slow clients

  /// Four clients trickle a byte every 250 ms (two in the head, two in a body), each byte well
  /// inside the 2 s idle timeout: the read deadline (3 s) cuts them, and other clients are
  /// answered promptly throughout.
  @Test func tricklingClientsAreCutAtTheReadDeadline() throws {
    let s = try RunningService {
      $0.connectionLimits.idleTimeoutSeconds = 2
      $0.connectionLimits.requestReadSeconds = 3
    }
    let head = Data("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".utf8) + Data(repeating: UInt8(ascii: "a"), count: 4096)
    let bodyHead = RawHTTPClient.head("POST", "/v1/chat/completions", headers: ["Content-Type": "application/json"], bodyLength: 100_000)
    let results = TrickleResults()
    let group = DispatchGroup()
    for i in 0..<4 {
      let fd = try s.client.connect()
      if i >= 2 { try RawHTTPClient.send(fd, bodyHead) }
      group.enter()
      Thread {
        let r = FaultClient.trickle(fd, i < 2 ? head : Data(repeating: UInt8(ascii: " "), count: 100_000), interval: 0.25, limit: 30)
        close(fd)
        results.add(r.closedAfter, sent: r.sent)
        group.leave()
      }.start()
    }
    // Meanwhile other clients ask for /healthz, each on a new connection.
    var latencies: [Double] = []
    repeat {
      let start = FaultClient.now
      let r = try s.client.get("/healthz")
      latencies.append(FaultClient.now - start)
      #expect(r.status == 200)
      usleep(100_000)
    } while group.wait(timeout: .now()) == .timedOut
    let cut = results.closedAfter
    #expect(cut.count == 4 && cut.allSatisfy { $0 != nil }, "a trickler was never cut: \(cut)")
    for seconds in cut.compactMap({ $0 }) {
      // Past the idle timeout (bytes kept it alive) and close to the read deadline.
      #expect(seconds > 2.5 && seconds < 3 + 7, "cut after \(seconds) s")
    }
    // The bytes kept coming: about four a second until the cut.
    #expect(results.sent.allSatisfy { $0 >= 8 }, "\(results.sent)")
    #expect(s.service.connections.timedOut == 4)
    #expect(latencies.count >= 5)
    #expect(latencies.max() ?? 99 < 2, "slowest /healthz under attack: \(latencies.max() ?? 0) s")
    let sorted = latencies.sorted()
    FaultClient.figure(String(format: "slowloris x4 (1 byte/250 ms, idle 2 s, read deadline 3 s): cut after %.2f-%.2f s; "
                              + "/healthz meanwhile: %d requests, median %.1f ms, max %.1f ms",
                              cut.compactMap { $0 }.min() ?? 0, cut.compactMap { $0 }.max() ?? 0, latencies.count,
                              sorted[sorted.count / 2] * 1000, (sorted.last ?? 0) * 1000))
    // The cut connections are gone from the count; the server still serves.
    #expect(FaultClient.wait(timeout: 10) { s.service.connections.open == 0 })
    #expect(try s.client.get("/healthz").status == 200)
  }

  // MARK: - Hundreds of idle connections

  /// 300 idle connections to `gui-agent serve` (limit 256): the 44 beyond the limit are answered
  /// 503 at once, a new client too (never left waiting), the server's memory stays bounded, the
  /// idle ones are closed after the idle timeout, and then new clients are served again.
  /// A child process, so that its resident memory is the server's alone.
  @Test func idleConnectionsBeyondTheLimit() throws {
    let idle = 5
    let server = try ServeCommandTests.ServerProcess(["--no-episodes", "--idle-timeout", "\(idle)"])
    let pid = server.process.processIdentifier
    let client = RawHTTPClient(port: UInt16(server.port))
    let limit = try #require((try client.get("/healthz").json()["connections"] as? [String: Any])?["limit"] as? Int)
    #expect(limit == 256)
    let rssBefore = FaultClient.residentBytes(pid)
    let opened = FaultClient.now
    var fds: [Int32] = []
    defer { for fd in fds { close(fd) } }
    for _ in 0..<300 { fds.append(try client.connect()) }
    // The ones beyond the limit have their answer at once; the others wait, silent.
    #expect(FaultClient.wait(timeout: Double(idle) - 1) { fds.filter(FaultClient.readable).count >= 300 - limit })
    let answeredAt = FaultClient.now - opened
    // A new client while the limit is reached: refused at once, with the reason.
    let start = FaultClient.now
    let late = try client.get("/healthz")
    let lateSeconds = FaultClient.now - start
    #expect(late.status == 503)
    #expect(late.errorMessage.contains("too many connections"))
    #expect(late.headers["retry-after"] == "1")
    #expect(lateSeconds < 2)
    let rssHeld = FaultClient.residentBytes(pid)
    let heldAt = FaultClient.now - opened
    #expect(heldAt < Double(idle), "the machine was too slow to measure before the idle timeout (\(heldAt) s)")
    // 256 connection threads and their buffers: about 19 MB measured (75 KB each); bound 64 MiB.
    #expect(rssHeld - rssBefore < 64 << 20, "RSS grew \((rssHeld - rssBefore) >> 20) MiB with \(limit) idle connections")
    // Every connection ends: the refused ones with their 503 at once, the others empty after the
    // idle timeout.
    var refused = 0
    var closedAfter: [Double] = []
    for fd in fds {
      let ending = FaultClient.waitForClose(fd, since: opened, timeout: Double(idle) + 30)
      #expect(ending.closed)
      if ending.data.isEmpty {
        closedAfter.append(ending.seconds)
      } else {
        let answer = try RawHTTPClient.parse(ending.data)
        #expect(answer.status == 503)
        #expect(answer.errorMessage.contains("too many connections: 256 are open"))
        refused += 1
      }
    }
    #expect(refused == 300 - limit)
    #expect(closedAfter.count == limit)
    #expect(closedAfter.min() ?? 0 >= Double(idle) - 0.5, "closed before the idle timeout: \(closedAfter.min() ?? 0) s")
    #expect(closedAfter.max() ?? 99 < Double(idle) + 15, "closed after \(closedAfter.max() ?? 0) s")
    for fd in fds { close(fd) }
    fds = []
    // Served again; the server counts what it refused.
    var counts: [String: Any] = [:]
    #expect(FaultClient.wait(timeout: 10) {
      counts = ((try? client.get("/healthz").json())?["connections"] as? [String: Any]) ?? [:]
      return counts["open"] as? Int == 1  // this request's own
    }, "\(counts)")
    #expect(counts["refused"] as? Int == 300 - limit + 1)
    let rssAfter = FaultClient.residentBytes(pid)
    #expect(rssAfter - rssBefore < 64 << 20)
    #expect(server.terminate() == 0)
    FaultClient.figure(String(format: "300 idle connections, limit %d, idle timeout %d s: %d answered 503 within %.2f s; "
                              + "a new client refused in %.1f ms; server RSS %.1f -> %.1f MB held (%.0f KB per connection) "
                              + "-> %.1f MB after; idle ones closed after %.2f-%.2f s",
                              limit, idle, 300 - limit, answeredAt, lateSeconds * 1000, Double(rssBefore) / 1e6,
                              Double(rssHeld) / 1e6, Double(rssHeld - rssBefore) / Double(limit) / 1e3, Double(rssAfter) / 1e6,
                              closedAfter.min() ?? 0, closedAfter.max() ?? 0))
  }

  // MARK: - Oversized heads

  /// A 1 MB header line, 10,000 headers, a 1 MB path: each is refused (431/414) or the
  /// connection closed, promptly, and the server keeps serving with its memory bounded.
  @Test func oversizedHeadsAreRefused() throws {
    let server = try ServeCommandTests.ServerProcess(["--no-episodes"])
    let pid = server.process.processIdentifier
    let client = RawHTTPClient(port: UInt16(server.port))
    #expect(try client.get("/healthz").status == 200)
    let rssBefore = FaultClient.residentBytes(pid)
    let longLine = Data("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ".utf8) + Data(repeating: UInt8(ascii: "a"), count: 1 << 20)
      + Data("\r\nConnection: close\r\n\r\n".utf8)
    let manyHeaders = Data(("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + (0..<10_000).map { "X-H\($0): v\r\n" }.joined()
                            + "Connection: close\r\n\r\n").utf8)
    let longPath = Data(("GET /" + String(repeating: "a", count: 1 << 20) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").utf8)
    for (name, request, statuses) in [("1 MB header line", longLine, [431]), ("10k headers", manyHeaders, [431]),
                                      ("1 MB path", longPath, [414, 431])] {
      let (answer, seconds) = try FaultClient.exchange(client, request)
      if let answer { #expect(statuses.contains(answer.status), "\(name): \(answer.status)") }
      #expect(seconds < 5, "\(name): \(seconds) s")
      FaultClient.figure("\(name): \(answer.map { "\($0.status)" } ?? "closed") in " + String(format: "%.1f ms", seconds * 1000))
      #expect(try client.get("/healthz").status == 200)
    }
    // Many at once: each connection's head lives in its own 32 KB buffer, refused when full.
    let group = DispatchGroup()
    let outcomes = StatusList()
    for _ in 0..<32 {
      group.enter()
      Thread {
        outcomes.add((try? FaultClient.exchange(client, longLine))?.response?.status ?? 0)
        group.leave()
      }.start()
    }
    #expect(group.wait(timeout: .now() + 60) == .success)
    #expect(outcomes.values.allSatisfy { $0 == 431 || $0 == 0 }, "\(outcomes.values)")
    #expect(try client.get("/healthz").status == 200)
    let grown = FaultClient.residentBytes(pid) - rssBefore
    #expect(grown < 64 << 20, "RSS grew \(grown >> 20) MiB")
    #expect(server.terminate() == 0)
    FaultClient.figure(String(format: "32 clients with 1 MB header lines at once: server RSS %.1f MB, +%.1f MB",
                              Double(rssBefore) / 1e6, Double(grown) / 1e6))
  }

  // MARK: - Bytes that are not UTF-8

  /// Paths, header values, query arguments and JSON bodies that are not UTF-8: a 400 that names
  /// the part, never a crash or a silently repaired string.
  @Test func invalidUTF8IsA400NamingThePart() throws {
    let s = try RunningService()
    func raw(_ head: [UInt8], body: [UInt8] = []) throws -> RawHTTPClient.Response {
      let fd = try s.client.connect()
      defer { close(fd) }
      try RawHTTPClient.send(fd, Data(head) + Data(body))
      return try RawHTTPClient.parse(RawHTTPClient.readAll(fd))
    }
    func line(_ s: String) -> [UInt8] { Array(s.utf8) }
    let tail = line(" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    let cases: [(String, [UInt8], String)] = [
      ("raw bytes in the path", line("GET /v1/") + [0xFF, 0xFE] + tail, "the request path is not valid UTF-8"),
      ("an escaped byte in the path", line("GET /v1/episodes/%FF") + tail, "the request path is not valid UTF-8"),
      ("a truncated sequence in the path", line("GET /v1/models%C3") + tail, "the request path is not valid UTF-8"),
      ("a query argument", line("GET /healthz?q=%C3%28") + tail, "query argument 'q' is not valid UTF-8"),
      ("a header value", line("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Name: ") + [0xC0, 0xAF]
        + line("\r\nConnection: close\r\n\r\n"), "header 'X-Name' is not valid UTF-8"),
    ]
    for (name, head, message) in cases {
      let r = try raw(head)
      #expect(r.status == 400, "\(name)")
      #expect(r.errorMessage.contains(message), "\(name): \(r.errorMessage)")
    }
    // JSON bodies: the byte is named by its offset.
    let prefix = line(#"{"messages":[{"role":"user","content":""#)
    let bodies: [(String, [UInt8], String)] = [
      ("an invalid byte", prefix + [0xFF] + line(#""}]}"#), "not valid UTF-8: a malformed sequence at byte \(prefix.count) (0xFF)"),
      ("an overlong encoding", prefix + [0xC0, 0x80] + line(#""}]}"#), "a malformed sequence at byte \(prefix.count) (0xC0)"),
      ("an encoded surrogate", prefix + [0xED, 0xA0, 0x80] + line(#""}]}"#), "a malformed sequence at byte \(prefix.count) (0xED)"),
      ("a truncated last character", line(#"{"messages":"#) + [0xE2, 0x82], "a malformed sequence at byte 12 (0xE2)"),
      ("a lone surrogate escape", line(#"{"messages":[{"role":"user","content":"\ud800"}]}"#), "surrogate"),
    ]
    for route in ["/v1/chat/completions", "/v1/ground"] {
      for (name, body, message) in bodies {
        let r = try raw(Array(RawHTTPClient.head("POST", route, headers: ["Content-Type": "application/json"], bodyLength: body.count)), body: body)
        #expect(r.status == 400, "\(route) \(name)")
        #expect(r.errorMessage.contains(message), "\(route) \(name): \(r.errorMessage)")
      }
    }
    #expect(try s.client.get("/healthz").status == 200)
  }

  // MARK: - Shutdown

  /// SIGTERM to `gui-agent serve` with three model requests in flight (one streamed) while new
  /// clients keep arriving: the three complete whole, the new ones are answered 503 ("shutting
  /// down") or find the port closed, none waits, and the process exits 0.
  @Test func sigtermFinishesInFlightAndRefusesNewcomers() throws {
    let server = try ServeCommandTests.ServerProcess(["--no-episodes"])
    let client = RawHTTPClient(port: UInt16(server.port))
    let chat: [String: Any] = ["messages": [["role": "user", "content": "Tell a long story"]], "max_tokens": 4000]
    var streamed = chat
    streamed["stream"] = true
    let inFlight = InFlight()
    let group = DispatchGroup()
    for (body, isStream) in [(try JSONSerialization.data(withJSONObject: chat), false), (try JSONSerialization.data(withJSONObject: chat), false),
                             (try JSONSerialization.data(withJSONObject: streamed), true)] {
      group.enter()
      Thread {
        do {
          let r = try client.request("POST", "/v1/chat/completions", body: body)
          // Whole: a non-streamed answer parses (its length matched); a stream ends with [DONE].
          let whole = isStream ? r.text.hasSuffix("data: [DONE]\n\n") : (try? r.json())?["choices"] != nil
          inFlight.add(r.status, whole: whole)
        } catch {
          inFlight.add(0, whole: false)
        }
        group.leave()
      }.start()
    }
    // SIGTERM once the server holds all three (running, in line, or already answered).
    #expect(FaultClient.wait(timeout: 60) {
      let queue = (try? client.get("/healthz").json())?["queue"] as? [String: Any]
      let held = (queue?["waiting"] as? Int ?? 0) + ((queue?["running"] as? Bool) == true ? 1 : 0)
      return held + inFlight.count >= 3
    })
    let signalled = FaultClient.now
    kill(server.process.processIdentifier, SIGTERM)
    // New clients until the process is gone: each answered or refused at once.
    var outcomes: [String] = []
    var slowest = 0.0
    while server.process.isRunning, FaultClient.now - signalled < 60 {
      let start = FaultClient.now
      let outcome: String
      do {
        let r = try client.get("/healthz")
        outcome = r.status == 503 && r.errorMessage.contains("shutting down") ? "503" : "\(r.status)"
      } catch {
        outcome = "refused"  // the port is closed (or the answer was cut by the exit)
      }
      slowest = max(slowest, FaultClient.now - start)
      if outcomes.last != outcome { outcomes.append(outcome) }
      usleep(20_000)
    }
    let exited = FaultClient.now - signalled
    let status: Int32
    if server.process.isRunning {
      kill(server.process.processIdentifier, SIGKILL)  // not gone within a minute: the test fails
      server.process.waitUntilExit()
      status = -1
    } else {
      server.process.waitUntilExit()
      status = server.process.terminationStatus
    }
    #expect(group.wait(timeout: .now() + 60) == .success)
    #expect(status == 0)
    #expect(inFlight.statuses == [200, 200, 200], "\(inFlight.statuses)")
    #expect(inFlight.allWhole)
    // Perhaps a 200 or two before the signal is taken, then only refusals: 503, then the port closed.
    let refusals = Array(outcomes.drop { $0 == "200" })
    #expect(refusals.contains("503"), "\(outcomes)")
    #expect(refusals.allSatisfy { $0 == "503" || $0 == "refused" }, "\(outcomes)")
    #expect(slowest < 5, "a new client waited \(slowest) s")
    FaultClient.figure(String(format: "SIGTERM with 3 chat requests in flight: all whole, exit 0 after %.2f s; ", exited)
                       + "new clients meanwhile: \(outcomes.joined(separator: " -> ")), "
                       + String(format: "slowest answer %.1f ms", slowest * 1000))
  }

  // MARK: - A client that leaves mid-inference

  /// With the embedded model generating a long answer for one client and another waiting in
  /// line: both hang up. The generation stops at its next token, the waiting one never runs,
  /// the queue is free at once, and the next request is served.
  @Test func clientLeavingMidInferenceFreesTheQueue() throws {
    let s = try RunningService(model: try Fixtures.endlessNano.get())
    let body = try JSONSerialization.data(withJSONObject: [
      "messages": [["role": "user", "content": "Tell a long story"]], "max_tokens": 4000,
    ] as [String: Any])
    let request = RawHTTPClient.head("POST", "/v1/chat/completions", headers: ["Content-Type": "application/json"],
                                     bodyLength: body.count) + body
    let running = try s.client.connect()
    try RawHTTPClient.send(running, request)
    #expect(FaultClient.wait(timeout: 30) { s.service.queue.state.running })
    let waiting = try s.client.connect()
    try RawHTTPClient.send(waiting, request)
    #expect(FaultClient.wait(timeout: 30) { s.service.queue.state.waiting == 1 })
    close(waiting)
    let left = FaultClient.now
    close(running)
    #expect(s.service.queue.drain(timeout: 60))
    let freed = FaultClient.now - left
    // 4,000 tokens take this model many seconds (24 s on one busy core); stopping takes one token.
    #expect(freed < 5, "the queue was busy \(freed) s after the clients left")
    let health = try s.client.get("/healthz").json()
    #expect(health["requests_abandoned"] as? Int == 2)
    let queue = health["queue"] as? [String: Any]
    #expect(queue?["waiting"] as? Int == 0)
    #expect(queue?["running"] as? Bool == false)
    let next = try s.client.post("/v1/chat/completions", json: ["messages": [["role": "user", "content": "hi"]], "max_tokens": 8] as [String: Any])
    #expect(next.status == 200)
    #expect(try next.json()["choices"] != nil)
    FaultClient.figure(String(format: "client gone mid-generation (bluelm-vl-nano, max_tokens 4000) and one gone while waiting: "
                              + "queue free %.0f ms after the hang-up", freed * 1000))
  }
}

/// What the trickling clients saw, filled from their threads.
final class TrickleResults: @unchecked Sendable {
  private let lock = NSLock()
  private var closed: [Double?] = []
  private var bytes: [Int] = []
  func add(_ closedAfter: Double?, sent: Int) { lock.withLock { closed.append(closedAfter); bytes.append(sent) } }
  var closedAfter: [Double?] { lock.withLock { closed } }
  var sent: [Int] { lock.withLock { bytes } }
}

/// The statuses of requests in flight at SIGTERM and whether each answer was whole.
final class InFlight: @unchecked Sendable {
  private let lock = NSLock()
  private var list: [Int] = []
  private var whole = true
  func add(_ status: Int, whole w: Bool) { lock.withLock { list.append(status); whole = whole && w } }
  var statuses: [Int] { lock.withLock { list.sorted() } }
  var count: Int { lock.withLock { list.count } }
  var allWhole: Bool { lock.withLock { whole } }
}
