import CMicroHTTPD
import Foundation

/// An HTTP/1.1 server on libmicrohttpd, one thread per connection: a route may block (waiting for
/// the inference queue, or feeding a stream) without holding up other clients.
///
/// The server reads each request's body up to `maxBodyBytes` (413 beyond it, before reading when
/// `Content-Length` says so), then calls `handler` on the connection's thread. Connections are
/// accepted by an `Acceptor` of its own and handed to libmicrohttpd, so that one over the limit is
/// answered 503 at once instead of waiting in the backlog, and a request that trickles in is cut
/// at its read deadline (`ConnectionLimits`).
public final class HTTPServer: @unchecked Sendable {
  public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse

  public let address: ListenAddress
  /// The port bound (the kernel's choice when asked for port 0).
  public private(set) var port: UInt16 = 0
  let maxBodyBytes: Int
  let handler: Handler
  private var daemon: OpaquePointer?
  private var acceptor: Acceptor?
  private(set) var table = ConnectionTable(limits: ConnectionLimits())
  private let lock = NSLock()
  /// Requests between their first byte and their last byte sent (or the client gone).
  private let active = NSCondition()
  private var activeRequests = 0

  public init(address: ListenAddress, maxBodyBytes: Int, handler: @escaping Handler) {
    self.address = address; self.maxBodyBytes = maxBodyBytes; self.handler = handler
  }

  // MARK: - Start and stop

  /// Binds and starts serving. Throws when the address cannot be bound.
  public func start(limits: ConnectionLimits = ConnectionLimits()) throws(ServiceError) {
    guard limits.maxConnections >= 1, limits.idleTimeoutSeconds >= 1, limits.requestReadSeconds >= 1 else {
      throw .invalidArgument("connection limits must be at least 1 (connections \(limits.maxConnections), "
                             + "idle timeout \(limits.idleTimeoutSeconds) s, request read \(limits.requestReadSeconds) s)")
    }
    table = ConnectionTable(limits: limits)
    let me = Unmanaged.passUnretained(self).toOpaque()
    // No MHD_USE_ERROR_LOG: it reports every client that hangs up early, which is normal here.
    // MHD_USE_POLL: select() would refuse sockets numbered past FD_SETSIZE (1024).
    var flags = UInt32(MHD_USE_THREAD_PER_CONNECTION.rawValue | MHD_USE_INTERNAL_POLLING_THREAD.rawValue
                       | MHD_USE_ITC.rawValue | MHD_USE_POLL.rawValue | MHD_USE_NO_LISTEN_SOCKET.rawValue)
    if case .v6 = address.socketAddress { flags |= UInt32(MHD_USE_IPv6.rawValue) }
    // libmicrohttpd's own limit sits above ours: the acceptor refuses first, with an answer.
    guard let started = gui_agent_mhd_start_unbound(flags, accessHandler, me, requestCompleted, me, connectionNotice, me,
                                                    UInt32(limits.idleTimeoutSeconds), UInt32(limits.maxConnections + 16)) else {
      throw .bind("cannot start the HTTP daemon (libmicrohttpd refused the options)")
    }
    let table = self.table
    let acceptor: Acceptor
    do throws(ServiceError) {
      acceptor = try Acceptor(address: address, table: table) { fd, address, length in
        MHD_add_connection(started, fd, address, length) == .YES
      }
    } catch {
      MHD_stop_daemon(started)
      throw error
    }
    lock.withLock { daemon = started; self.acceptor = acceptor }
    port = acceptor.port
    acceptor.start()
  }

  /// Stops taking requests on new connections: each is answered 503 (`message`) and closed.
  /// Requests already read, and new ones on connections already open, run to their end.
  public func quiesce(_ message: String = "the server is shutting down") {
    lock.withLock { acceptor }?.refuseAll(message)
  }

  /// Connections open, refused at the limit, and cut at their read deadline.
  public var connections: ConnectionCounts { table.counts }

  /// Waits (bounded by `timeout` seconds) until no request is being read, handled or sent.
  /// Returns whether the server went idle.
  @discardableResult
  public func waitIdle(timeout: Double) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    active.lock()
    defer { active.unlock() }
    while activeRequests > 0 {
      if !active.wait(until: deadline) { return false }
    }
    return true
  }

  func requestBegan() { active.withLock { activeRequests += 1 } }

  func requestEnded() {
    active.withLock {
      activeRequests -= 1
      active.broadcast()
    }
  }

  /// Stops the server: closes the listening socket (connecting is refused from then on), closes
  /// every connection (call `waitIdle` first to let answers go out) and joins their threads.
  /// Safe to call twice.
  public func stop() {
    let (d, a) = lock.withLock { () -> (OpaquePointer?, Acceptor?) in
      defer { daemon = nil; acceptor = nil }
      return (daemon, acceptor)
    }
    a?.stop()
    if let d { MHD_stop_daemon(d) }
  }

  deinit { stop() }
}

// MARK: - Per-request state

/// What a connection accumulates between libmicrohttpd's calls for one request.
final class PendingRequest {
  var method = ""
  var path = "/"
  var headers: [String: String] = [:]
  var query: [String: String] = [:]
  var body = Data()
  var tooLarge = false
  /// An answer decided from the head alone (a 400 for bytes that are not UTF-8).
  var refusal: HTTPResponse?
  let cancellation = Cancellation()
}

// MARK: - libmicrohttpd callbacks

/// libmicrohttpd calls this once with the headers, then once per body piece, then once with
/// `*uploadSize == 0` when the request is complete: that last call answers.
private let accessHandler: MHD_AccessHandlerCallback = { cls, connection, url, method, _, upload, uploadSize, state in
  guard let cls, let connection, let state, let uploadSize else { return .NO }
  let server = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue()
  guard let raw = state.pointee else {
    let pending = PendingRequest()
    server.requestBegan()
    state.pointee = Unmanaged.passRetained(pending).toOpaque()
    do throws(RequestError) {
      try pending.readHead(connection, url: url, method: method)
    } catch {
      // Answer before reading a body: the head is already wrong. libmicrohttpd then closes.
      let refusal = error.response
      pending.refusal = refusal
      server.table.handling(connection)
      return queue(refusal, on: connection)
    }
    if let length = pending.headers["content-length"].flatMap(Int.init), length > server.maxBodyBytes {
      // Answer before reading a body we would refuse; libmicrohttpd then closes the connection.
      pending.tooLarge = true
      server.table.handling(connection)
      return queue(server.tooLarge(), on: connection)
    }
    return .YES
  }
  let pending = Unmanaged<PendingRequest>.fromOpaque(raw).takeUnretainedValue()
  if uploadSize.pointee > 0 {
    server.table.bodyReceived(connection, bytes: uploadSize.pointee)
    if !pending.tooLarge, pending.refusal == nil, let upload {
      if pending.body.count + uploadSize.pointee > server.maxBodyBytes {
        pending.tooLarge = true
        pending.body = Data()
      } else {
        pending.body.append(UnsafeRawPointer(upload).assumingMemoryBound(to: UInt8.self), count: uploadSize.pointee)
      }
    }
    uploadSize.pointee = 0
    return .YES
  }
  server.table.handling(connection)
  if let refusal = pending.refusal { return queue(refusal, on: connection) }
  if pending.tooLarge { return queue(server.tooLarge(), on: connection) }
  let request = HTTPRequest(method: pending.method, path: pending.path, headers: pending.headers, query: pending.query,
                            body: pending.body, cancellation: pending.cancellation)
  pending.body = Data()
  // While the handler runs, this thread does not read the socket: a client that hangs up is seen
  // only by asking the socket (the route's long work polls `cancellation`). The socket stays
  // open until the handler returns, and the probe is removed before that.
  let fd = gui_agent_mhd_connection_fd(connection)
  if fd >= 0 { pending.cancellation.watch { peerHungUp(fd) } }
  let response = server.handler(request)
  pending.cancellation.watch(nil)
  return queue(response, on: connection)
}

/// The request is over (answered, failed or the client went away): release its state; the
/// connection waits for its next request.
private let requestCompleted: MHD_RequestCompletedCallback = { cls, connection, state, _ in
  guard let cls else { return }
  let server = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue()
  if let connection { server.table.waiting(connection) }
  guard let state, let raw = state.pointee else { return }
  let pending = Unmanaged<PendingRequest>.fromOpaque(raw).takeRetainedValue()
  pending.cancellation.cancel()
  state.pointee = nil
  server.requestEnded()
}

/// A connection starts (before its thread) or ends (before its socket is closed).
private let connectionNotice: MHD_NotifyConnectionCallback = { cls, connection, _, code in
  guard let cls, let connection else { return }
  let table = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue().table
  switch code.rawValue {
  case 0: table.opened(connection, fd: gui_agent_mhd_connection_fd(connection))  // MHD_CONNECTION_NOTIFY_STARTED
  case 1: table.closed(connection)  // MHD_CONNECTION_NOTIFY_CLOSED
  default: break
  }
}

extension HTTPServer {
  func tooLarge() -> HTTPResponse {
    .error(413, "the request body exceeds the limit of \(maxBodyBytes) bytes")
  }
}

/// Whether the client closed or reset its side of `fd` (nothing is consumed). A client that only
/// half-closes after sending its request reads as gone too, as in Go's net/http.
func peerHungUp(_ fd: Int32) -> Bool {
  var byte: UInt8 = 0
  let n = recv(fd, &byte, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT))
  if n == 0 { return true }
  return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
}

extension PendingRequest {
  /// Method, path, headers (names lowercased) and query arguments as strings; a 400 naming the
  /// part that is not UTF-8 (libmicrohttpd has already decoded percent-escapes in the path and
  /// the query).
  func readHead(_ connection: OpaquePointer, url: UnsafePointer<CChar>?, method: UnsafePointer<CChar>?) throws(RequestError) {
    guard let m = method.map({ String(validatingCString: $0) }) ?? "" else {
      throw RequestError(400, "the request method is not valid UTF-8")
    }
    guard let p = url.map({ String(validatingCString: $0) }) ?? "/" else {
      throw RequestError(400, "the request path is not valid UTF-8 (after decoding its %-escapes)")
    }
    self.method = m
    path = p
    headers = try connectionValues(connection, .HEADER_KIND, what: "header", lowercased: true)
    query = try connectionValues(connection, .GET_ARGUMENT_KIND, what: "query argument", lowercased: false)
  }
}

/// Headers (names lowercased) or query arguments of the request on `connection`; a 400 naming the
/// first one that is not UTF-8.
private func connectionValues(_ connection: OpaquePointer, _ kind: MHD_ValueKind, what: String,
                              lowercased: Bool) throws(RequestError) -> [String: String] {
  final class Box { var values: [String: String] = [:]; var lowercased = false; var what = ""; var invalid: String? }
  let box = Box()
  box.lowercased = lowercased
  box.what = what
  _ = MHD_get_connection_values(connection, kind, { cls, _, key, value in
    guard let cls, let key else { return .YES }
    let box = Unmanaged<Box>.fromOpaque(cls).takeUnretainedValue()
    guard let name = String(validatingCString: key) else {
      box.invalid = box.invalid ?? "a \(box.what) name is not valid UTF-8"
      return .NO
    }
    guard let text = value.map({ String(validatingCString: $0) }) ?? "" else {
      box.invalid = box.invalid ?? "\(box.what) '\(name)' is not valid UTF-8"
      return .NO
    }
    box.values[box.lowercased ? name.lowercased() : name] = text
    return .YES
  }, Unmanaged.passUnretained(box).toOpaque())
  if let invalid = box.invalid { throw RequestError(400, invalid) }
  return box.values
}

// MARK: - Sending responses

private func queue(_ response: HTTPResponse, on connection: OpaquePointer) -> MHD_Result {
  let mhd: OpaquePointer?
  switch response.body {
  case let .bytes(data):
    mhd = data.withUnsafeBytes { bytes in
      gui_agent_mhd_response_copy(bytes.count, bytes.baseAddress)
    }
  case let .stream(stream):
    let context = Unmanaged.passRetained(stream).toOpaque()
    mhd = MHD_create_response_from_callback(UInt64.max /* MHD_SIZE_UNKNOWN: chunked */, 16 * 1024, { cls, _, buffer, max in
      guard let cls, let buffer else { return -2 /* MHD_CONTENT_READER_END_WITH_ERROR */ }
      let stream = Unmanaged<ResponseStream>.fromOpaque(cls).takeUnretainedValue()
      switch stream.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: max)) {
      case nil: return -2  // MHD_CONTENT_READER_END_WITH_ERROR
      case 0?: return -1  // MHD_CONTENT_READER_END_OF_STREAM
      case let n?: return n
      }
    }, context, { cls in
      // The connection is done with the stream (sent, or the client left): stop the producer.
      guard let cls else { return }
      Unmanaged<ResponseStream>.fromOpaque(cls).takeRetainedValue().close()
    })
    if mhd == nil { Unmanaged<ResponseStream>.fromOpaque(context).release() }
  }
  guard let mhd else { return .NO }
  defer { MHD_destroy_response(mhd) }
  for (name, value) in response.headers { _ = MHD_add_response_header(mhd, name, value) }
  return MHD_queue_response(connection, UInt32(response.status), mhd)
}
