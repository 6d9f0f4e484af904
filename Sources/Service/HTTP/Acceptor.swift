import CMicroHTTPD
import Foundation

/// Limits on connections: how many at once, and how long each may keep the server waiting.
public struct ConnectionLimits: Sendable, Equatable {
  /// Connections served at once. One more is answered 503 with `Retry-After` and closed at once,
  /// without waiting for it to send anything.
  public var maxConnections = 256
  /// Seconds without a byte in either direction after which a connection is closed (a client
  /// that stops reading its answer, an idle connection).
  public var idleTimeoutSeconds = 120
  /// Seconds a request may take to arrive whole (request line, headers and body), counted from
  /// when the server starts waiting for it (the connection opened, or the previous answer went
  /// out). Bytes trickled in reset the idle timeout, never this one: past it the connection is
  /// closed. A body earns one more second per `bodyBytesPerSecond` received, so a large upload
  /// at a reasonable rate is not cut.
  public var requestReadSeconds = 60
  /// See `requestReadSeconds`.
  public var bodyBytesPerSecond = 64 << 10

  public init() {}
}

/// What the connection layer has seen, for `/healthz`.
public struct ConnectionCounts: Sendable, Equatable {
  /// Connections handed to libmicrohttpd and not yet closed.
  public var open: Int
  /// Connections answered 503 because `maxConnections` were open.
  public var refused: Int
  /// Connections closed because a request did not arrive whole within its read deadline.
  public var timedOut: Int
}

// MARK: - Connection table

/// Connections handed to libmicrohttpd: how many (against the limit) and, for each, whether it is
/// waiting for a request (since when, how much body has come) or handling one. The accept thread
/// closes the ones whose request is late.
///
/// libmicrohttpd reports a connection's end (`closed`) before it closes the socket, and both that
/// report and the cut (`cutLate`) hold `lock`, so a cut never reaches a socket number reused by a
/// later connection.
final class ConnectionTable: @unchecked Sendable {
  private struct Entry {
    let fd: Int32
    var waitingSince: Double
    var bodyBytes = 0
    var handling = false
    var cut = false
  }

  let limits: ConnectionLimits
  private let lock = NSLock()
  /// Accepted and handed over, not yet reported closed (counts those not yet reported open).
  private var admitted = 0
  private var entries: [OpaquePointer: Entry] = [:]
  private var refused = 0
  private var timedOut = 0

  init(limits: ConnectionLimits) { self.limits = limits }

  var counts: ConnectionCounts {
    lock.withLock { ConnectionCounts(open: admitted, refused: refused, timedOut: timedOut) }
  }

  /// Takes a place for a new connection; false (and counted as refused) when all are taken.
  func admit() -> Bool {
    lock.withLock {
      guard admitted < limits.maxConnections else { refused += 1; return false }
      admitted += 1
      return true
    }
  }

  /// Gives back a place taken by `admit` for a connection libmicrohttpd did not take.
  func release() { lock.withLock { admitted -= 1 } }

  func opened(_ connection: OpaquePointer, fd: Int32) {
    lock.withLock { entries[connection] = Entry(fd: fd, waitingSince: Monotonic.now) }
  }

  func closed(_ connection: OpaquePointer) {
    lock.withLock {
      if entries.removeValue(forKey: connection) != nil { admitted -= 1 }
    }
  }

  func bodyReceived(_ connection: OpaquePointer, bytes: Int) {
    lock.withLock { entries[connection]?.bodyBytes += bytes }
  }

  /// The request has been read whole: no deadline while it is handled and answered.
  func handling(_ connection: OpaquePointer) {
    lock.withLock { entries[connection]?.handling = true }
  }

  /// The answer went out (or the request failed): the connection waits for its next request.
  func waiting(_ connection: OpaquePointer) {
    lock.withLock {
      guard var entry = entries[connection] else { return }
      entry.handling = false
      entry.bodyBytes = 0
      entry.waitingSince = Monotonic.now
      entries[connection] = entry
    }
  }

  private func deadline(_ entry: Entry) -> Double {
    entry.waitingSince + Double(limits.requestReadSeconds) + Double(entry.bodyBytes) / Double(max(1, limits.bodyBytesPerSecond))
  }

  /// The earliest read deadline of a connection waiting for its request.
  func nextDeadline() -> Double? {
    lock.withLock { entries.values.lazy.filter { !$0.handling && !$0.cut }.map(deadline).min() }
  }

  /// Shuts down the sockets of connections whose request is past its deadline: libmicrohttpd's
  /// thread for it then reads the end and closes it.
  func cutLate(now: Double) {
    lock.withLock {
      for (connection, entry) in entries where !entry.handling && !entry.cut && deadline(entry) <= now {
        shutdown(entry.fd, Int32(SHUT_RDWR))
        entries[connection]?.cut = true
        timedOut += 1
      }
    }
  }
}

enum Monotonic {
  /// Seconds on a clock that does not jump with the wall clock.
  static var now: Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
  }
}

// MARK: - Acceptor

/// The listening socket and the thread that accepts from it.
///
/// libmicrohttpd, at its connection limit, stops accepting: new clients then wait in the kernel's
/// backlog until some connection ends, up to the idle timeout. Here every connection is accepted
/// at once; one over the limit, or any once the server is shutting down, is answered 503 and
/// closed without reading its request. The same thread enforces the request read deadline.
final class Acceptor: @unchecked Sendable {
  /// Hands an accepted socket to libmicrohttpd; false when it was not taken (the socket is closed).
  typealias HandOver = (Int32, UnsafePointer<sockaddr>, socklen_t) -> Bool

  let listenFD: Int32
  let port: UInt16
  private let table: ConnectionTable
  private let handOver: HandOver
  private let wakeRead: Int32
  private let wakeWrite: Int32
  private let lock = NSLock()
  private var stopping = false
  /// The answer every new connection gets while the server shuts down.
  private var shutdownAnswer: [UInt8]?
  private let tooManyAnswer: [UInt8]
  private let finished = DispatchSemaphore(value: 0)
  private var started = false

  /// Refused connections kept open (read and discarded) for a moment after their 503 so that
  /// closing them does not reset the connection and destroy the answer before the client reads it.
  private var lingering: [(fd: Int32, until: Double)] = []
  static let lingerSeconds = 2.0
  static let maxLingering = 512

  /// Binds and listens on `address`. Throws when the address cannot be bound.
  init(address: ListenAddress, table: ConnectionTable, handOver: @escaping HandOver) throws(ServiceError) {
    let family: Int32
    if case .v6 = address.socketAddress { family = AF_INET6 } else { family = AF_INET }
    let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw .bind("cannot make a socket for \(address): \(String(cString: strerror(errno)))") }
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    if family == AF_INET6 { setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size)) }
    let length = socklen_t(family == AF_INET6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
    let bound = address.withSockaddr { bind(fd, $0, length) } == 0 && listen(fd, SOMAXCONN) == 0
    guard bound else {
      let reason = String(cString: strerror(errno))
      close(fd)
      throw .bind("cannot listen on \(address): \(reason) (the port may be in use or the address not local)")
    }
    var storage = sockaddr_storage()
    var storageLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
    _ = withUnsafeMutablePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &storageLength) }
    }
    port = withUnsafeBytes(of: storage) { raw in
      // sin_port and sin6_port sit at the same offset, in network order.
      UInt16(bigEndian: raw.load(fromByteOffset: MemoryLayout<sa_family_t>.size, as: UInt16.self))
    }
    var pipeEnds: [Int32] = [-1, -1]
    guard pipe(&pipeEnds) == 0 else {
      close(fd)
      throw .bind("cannot make the accept thread's wake-up pipe: \(String(cString: strerror(errno)))")
    }
    for end in pipeEnds { Self.makeNonBlocking(end) }
    listenFD = fd
    wakeRead = pipeEnds[0]
    wakeWrite = pipeEnds[1]
    self.table = table
    self.handOver = handOver
    tooManyAnswer = Self.rawAnswer(.error(503, "too many connections: \(table.limits.maxConnections) are open; retry later",
                                          headers: [("Retry-After", "1")]))
  }

  /// Starts the accept thread.
  func start() {
    let thread = Thread { [self] in run() }
    thread.name = "gui-agent accept"
    lock.withLock { started = true }
    thread.start()
  }

  /// From now on every new connection is answered 503 (`message`) and closed.
  func refuseAll(_ message: String) {
    let answer = Self.rawAnswer(.error(503, message, headers: [("Retry-After", "5")]))
    lock.withLock { shutdownAnswer = answer }
  }

  /// Stops the accept thread and closes the listening socket: connecting is refused from now on.
  /// Safe to call twice.
  func stop() {
    let (wake, first) = lock.withLock { () -> (Bool, Bool) in
      defer { stopping = true }
      return (started && !stopping, !stopping)
    }
    if wake {
      var byte: UInt8 = 1
      _ = write(wakeWrite, &byte, 1)
      finished.wait()
    }
    if first {
      close(listenFD)
      close(wakeRead)
      close(wakeWrite)
    }
  }

  deinit { stop() }

  // MARK: - The accept thread

  private func run() {
    var pausedUntil = 0.0  // out of file descriptors: the listener rests a moment
    while !lock.withLock({ stopping }) {
      let now = Monotonic.now
      let listening = now >= pausedUntil
      var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
      if listening { fds.append(pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)) }
      let lingerBase = fds.count
      fds += lingering.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
      var wake = min(table.nextDeadline() ?? now + 1, now + 1)
      for l in lingering { wake = min(wake, l.until) }
      if !listening { wake = min(wake, pausedUntil) }
      let timeout = Int32(max(0, ((wake - now) * 1000).rounded(.up)))
      if poll(&fds, nfds_t(fds.count), timeout) < 0 && errno != EINTR { usleep(10_000); continue }
      if fds[0].revents != 0 {
        var sink = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &sink, sink.count) > 0 {}
      }
      if lock.withLock({ stopping }) { break }
      serviceLingering(fds[lingerBase...], now: Monotonic.now)
      if listening && fds[1].revents != 0, !acceptAll() { pausedUntil = Monotonic.now + 0.1 }
      table.cutLate(now: Monotonic.now)
    }
    for l in lingering { close(l.fd) }
    lingering = []
    finished.signal()
  }

  /// Accepts until the backlog is empty. Returns false when out of file descriptors or memory.
  private func acceptAll() -> Bool {
    while true {
      var storage = sockaddr_storage()
      var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
      let fd = withUnsafeMutablePointer(to: &storage) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          accept(listenFD, $0, &length)
        }
      }
      if fd >= 0 { Self.makeNonBlocking(fd) }
      if fd < 0 {
        switch errno {
        case EINTR, ECONNABORTED: continue
        case EMFILE, ENFILE, ENOBUFS, ENOMEM: return false
        default: return true  // EAGAIN: the backlog is empty
        }
      }
      if let answer = lock.withLock({ shutdownAnswer }) {
        refuse(fd, answer)
      } else if !table.admit() {
        refuse(fd, tooManyAnswer)
      } else {
        let taken = withUnsafePointer(to: &storage) {
          $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { handOver(fd, $0, length) }
        }
        if !taken { table.release() }
      }
    }
  }

  /// Sends `answer` (it fits the empty send buffer of a new socket), ends the sending side and
  /// keeps the socket a moment to read what the client still sends.
  private func refuse(_ fd: Int32, _ answer: [UInt8]) {
    _ = answer.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
    shutdown(fd, Int32(SHUT_WR))
    if lingering.count < Self.maxLingering {
      lingering.append((fd, Monotonic.now + Self.lingerSeconds))
    } else {
      close(fd)
    }
  }

  private func serviceLingering(_ polled: ArraySlice<pollfd>, now: Double) {
    var sink = [UInt8](repeating: 0, count: 4096)
    var keep: [(fd: Int32, until: Double)] = []
    for (l, p) in zip(lingering, polled) {
      var done = now >= l.until
      if !done && p.revents != 0 {
        let n = recv(l.fd, &sink, sink.count, Int32(MSG_DONTWAIT))
        done = n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)
      }
      if done { close(l.fd) } else { keep.append(l) }
    }
    // Sockets refused during this pass were appended after the polled ones.
    keep += lingering.dropFirst(polled.count)
    lingering = keep
  }

  /// Non-blocking and closed on exec (accept4 and pipe2 are not visible to Swift's Glibc module).
  static func makeNonBlocking(_ fd: Int32) {
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
  }

  /// A whole HTTP/1.1 answer that closes the connection.
  static func rawAnswer(_ response: HTTPResponse) -> [UInt8] {
    guard case let .bytes(body) = response.body else { return [] }
    var head = "HTTP/1.1 \(response.status) \(HTTPResponse.reason(response.status))\r\n"
    for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
    head += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
    return Array(head.utf8) + Array(body)
  }
}
