import CMicroHTTPD
import Foundation

/// An HTTP/1.1 server on libmicrohttpd, one thread per connection: a route may block (waiting for
/// the inference queue, or feeding a stream) without holding up other clients.
///
/// The server reads each request's body up to `maxBodyBytes` (413 beyond it, before reading when
/// `Content-Length` says so), then calls `handler` on the connection's thread.
public final class HTTPServer: @unchecked Sendable {
  public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse

  public let address: ListenAddress
  /// The port bound (the kernel's choice when asked for port 0).
  public private(set) var port: UInt16 = 0
  let maxBodyBytes: Int
  let handler: Handler
  private var daemon: OpaquePointer?
  /// The listening socket once quiesced: libmicrohttpd hands it over, to be closed after stop.
  private var quiescedSocket: Int32 = -1
  private let lock = NSLock()
  /// Requests between their first byte and their last byte sent (or the client gone).
  private let active = NSCondition()
  private var activeRequests = 0

  public init(address: ListenAddress, maxBodyBytes: Int, handler: @escaping Handler) {
    self.address = address; self.maxBodyBytes = maxBodyBytes; self.handler = handler
  }

  // MARK: - Start and stop

  /// Binds and starts serving. Throws when the address cannot be bound.
  public func start(connectionLimit: Int = 256, idleTimeoutSeconds: Int = 120) throws(ServiceError) {
    let me = Unmanaged.passUnretained(self).toOpaque()
    // No MHD_USE_ERROR_LOG: it reports every client that hangs up early, which is normal here.
    var flags = UInt32(MHD_USE_THREAD_PER_CONNECTION.rawValue | MHD_USE_INTERNAL_POLLING_THREAD.rawValue
                       | MHD_USE_ITC.rawValue)
    if case .v6 = address.socketAddress { flags |= UInt32(MHD_USE_IPv6.rawValue) }
    let started: OpaquePointer? = address.withSockaddr { sa in
      gui_agent_mhd_start(flags, sa, accessHandler, me, requestCompleted, me,
                          UInt32(idleTimeoutSeconds), UInt32(connectionLimit))
    }
    guard let started else {
      throw .bind("cannot listen on \(address): the port may be in use or the address not local")
    }
    lock.withLock { daemon = started }
    port = gui_agent_mhd_bound_port(started)
  }

  /// Stops accepting new connections; requests already read run to their end.
  public func quiesce() {
    lock.withLock {
      if let daemon, quiescedSocket < 0 { quiescedSocket = MHD_quiesce_daemon(daemon) }
    }
  }

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

  /// Stops the server: closes every connection (call `waitIdle` first to let answers go out),
  /// joins their threads, then closes the listening socket. Safe to call twice.
  public func stop() {
    quiesce()
    let (d, socket) = lock.withLock { () -> (OpaquePointer?, Int32) in
      defer { daemon = nil; quiescedSocket = -1 }
      return (daemon, quiescedSocket)
    }
    if let d { MHD_stop_daemon(d) }
    if socket >= 0 { close(socket) }
  }

  deinit { stop() }
}

// MARK: - Per-request state

/// What a connection accumulates between libmicrohttpd's calls for one request.
final class PendingRequest {
  var headers: [String: String] = [:]
  var body = Data()
  var tooLarge = false
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
    pending.headers = connectionValues(connection, .HEADER_KIND, lowercased: true)
    state.pointee = Unmanaged.passRetained(pending).toOpaque()
    if let length = pending.headers["content-length"].flatMap(Int.init), length > server.maxBodyBytes {
      // Answer before reading a body we would refuse; libmicrohttpd then closes the connection.
      pending.tooLarge = true
      return queue(server.tooLarge(), on: connection)
    }
    return .YES
  }
  let pending = Unmanaged<PendingRequest>.fromOpaque(raw).takeUnretainedValue()
  if uploadSize.pointee > 0 {
    if !pending.tooLarge, let upload {
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
  if pending.tooLarge { return queue(server.tooLarge(), on: connection) }
  let request = HTTPRequest(method: method.map { String(cString: $0) } ?? "", path: url.map { String(cString: $0) } ?? "/",
                            headers: pending.headers, query: connectionValues(connection, .GET_ARGUMENT_KIND, lowercased: false),
                            body: pending.body, cancellation: pending.cancellation)
  pending.body = Data()
  return queue(server.handler(request), on: connection)
}

/// The request is over (answered, failed or the client went away): release its state.
private let requestCompleted: MHD_RequestCompletedCallback = { cls, _, state, _ in
  guard let cls, let state, let raw = state.pointee else { return }
  let pending = Unmanaged<PendingRequest>.fromOpaque(raw).takeRetainedValue()
  pending.cancellation.cancel()
  state.pointee = nil
  Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue().requestEnded()
}

extension HTTPServer {
  func tooLarge() -> HTTPResponse {
    .error(413, "the request body exceeds the limit of \(maxBodyBytes) bytes")
  }
}

/// Headers (names lowercased) or query arguments of the request on `connection`.
private func connectionValues(_ connection: OpaquePointer, _ kind: MHD_ValueKind, lowercased: Bool) -> [String: String] {
  final class Box { var values: [String: String] = [:]; var lowercased = false }
  let box = Box()
  box.lowercased = lowercased
  _ = MHD_get_connection_values(connection, kind, { cls, _, key, value in
    guard let cls, let key else { return .YES }
    let box = Unmanaged<Box>.fromOpaque(cls).takeUnretainedValue()
    let name = String(cString: key)
    box.values[box.lowercased ? name.lowercased() : name] = value.map { String(cString: $0) } ?? ""
    return .YES
  }, Unmanaged.passUnretained(box).toOpaque())
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
