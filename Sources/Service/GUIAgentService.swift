import Agent
import Engine
import Foundation
import Grounding
import ScreenCapture

/// gui-agent over HTTP: grounding, OpenAI-compatible chat, agent episodes and a trace viewer,
/// around one model loaded once.
///
/// Requests run on libmicrohttpd's connection threads; model work goes through `queue` (one at a
/// time, a bounded line behind it). `shutdown()` refuses new connections, lets work in flight
/// finish, stops a running episode and closes the store.
public final class GUIAgentService: @unchecked Sendable {
  public let configuration: ServiceConfiguration
  public let model: LoadedModel
  let grounder: Grounder?
  /// Why `grounder` is nil (a family without images or without a coordinate convention).
  let groundingUnavailable: String?
  let pipeline: VisionLanguagePipeline
  public let queue: InferenceQueue
  let episodes: EpisodeManager?
  let auth: BearerAuth?
  let started = Date()
  private var server: HTTPServer?
  private var router = Router()
  private let displayLock = NSLock()
  private var display: X11Display?
  let counter = RequestCounter()
  let ocrParsers = OCRParsers()

  /// - Parameters:
  ///   - store: where episodes are recorded; nil turns the episode routes into 503s.
  ///   - launcher: makes what runs episodes, given the service's inference queue (the episode's
  ///     model calls share it); nil: episodes can be read, not started.
  ///     `AgentLoopLauncher.factory(model:display:)` gives the agent loop.
  public init(model: LoadedModel, configuration: ServiceConfiguration, store: EpisodeStore?,
              launcher: ((InferenceQueue) -> EpisodeLauncher)? = nil) throws(ServiceError) {
    self.configuration = configuration
    self.model = model
    do { pipeline = try VisionLanguagePipeline(model: model) } catch { throw .model(error.localizedDescription) }
    do {
      grounder = try Grounder(model: model, options: configuration.grounding)
      groundingUnavailable = nil
    } catch {
      grounder = nil
      groundingUnavailable = error.localizedDescription
    }
    queue = InferenceQueue(capacity: configuration.queueCapacity)
    episodes = store.map { [queue] in EpisodeManager(store: $0, launcher: launcher?(queue)) }
    auth = configuration.token.flatMap { $0.isEmpty ? nil : BearerAuth(token: $0) }
    router = makeRouter()
  }

  // MARK: - Lifecycle

  /// Binds and serves. Throws for a non-loopback address without a token, or a taken port.
  public func start() throws(ServiceError) {
    let address = try configuration.listenAddress()
    let server = HTTPServer(address: address, maxBodyBytes: configuration.maxBodyBytes) { [weak self] request in
      self?.handle(request) ?? .error(503, "the server is shutting down")
    }
    try server.start(limits: configuration.connectionLimits)
    self.server = server
  }

  /// The bound port (after `start()`).
  public var port: UInt16 { server?.port ?? 0 }

  /// Connections open, refused at the limit and cut at their read deadline (zeros before `start()`).
  public var connections: ConnectionCounts { server?.connections ?? ConnectionCounts(open: 0, refused: 0, timedOut: 0) }

  /// Answers new connections 503 ("shutting down"), waits (up to `timeout` seconds) for inference
  /// in flight and for a running episode to stop, then stops the server (the port closes) and
  /// closes the episode store.
  public func shutdown(timeout: Double = 30) {
    server?.quiesce()
    episodes?.stopRunning(timeout: timeout)
    queue.close()
    queue.drain(timeout: timeout)
    // The last answers may still be on their way out: stopping the daemon would cut them.
    server?.waitIdle(timeout: timeout)
    server?.stop()
    episodes?.close()
  }

  /// Every route as `METHOD /pattern`.
  public var routeTable: [String] { router.table }

  // MARK: - Requests

  /// Auth, then the route. `GET /` (the static viewer page, which holds no data) is served
  /// without a token: a browser cannot send one when it opens the page; the page sends it on its
  /// own API calls.
  public func handle(_ request: HTTPRequest) -> HTTPResponse {
    counter.add()
    if let auth, !(request.method == "GET" && request.path == "/"), !auth.allows(request.header("authorization")) {
      return .error(401, "missing or wrong bearer token (send 'Authorization: Bearer <token>')",
                    headers: [("WWW-Authenticate", "Bearer")])
    }
    return router.respond(request)
  }

  private func makeRouter() -> Router {
    var r = Router()
    r.add("GET", "/") { [unowned self] _, _ in self.viewerPage() }
    r.add("GET", "/healthz") { [unowned self] _, _ in self.health() }
    r.add("GET", "/openapi.json") { _, _ in OpenAPIDocument.response() }
    r.add("GET", "/v1/models") { [unowned self] _, _ in self.models() }
    r.add("POST", "/v1/ground") { [unowned self] request, _ in try self.ground(request) }
    r.add("POST", "/v1/parse") { [unowned self] request, _ in try self.parse(request) }
    r.add("POST", "/v1/chat/completions") { [unowned self] request, _ in try self.chat(request) }
    r.add("GET", "/v1/episodes") { [unowned self] _, _ in try self.episodeManager().list() }
    r.add("POST", "/v1/episodes") { [unowned self] request, _ in try self.episodeManager().start(request) }
    r.add("GET", "/v1/episodes/{id}") { [unowned self] _, c in try self.episodeManager().show(c) }
    r.add("POST", "/v1/episodes/{id}/stop") { [unowned self] _, c in try self.episodeManager().stop(c) }
    r.add("GET", "/v1/episodes/{id}/steps/{n}/screenshot.png") { [unowned self] request, c in
      try self.episodeManager().screenshot(c, request: request)
    }
    return r
  }

  private func episodeManager() throws(RequestError) -> EpisodeManager {
    guard let episodes else { throw RequestError(503, "this server runs without an episode store") }
    return episodes
  }

  private func health() -> HTTPResponse {
    let q = queue.state
    let c = connections
    return .json(["status": "ok", "model": configuration.modelName, "family": model.family,
                  "queue": ["waiting": q.waiting, "running": q.running, "capacity": queue.capacity],
                  "connections": ["open": c.open, "limit": configuration.connectionLimits.maxConnections,
                                  "refused": c.refused, "timed_out": c.timedOut],
                  "uptime_seconds": Date().timeIntervalSince(started), "requests": counter.value,
                  "streams_abandoned": counter.abandonedStreams, "requests_abandoned": counter.abandonedRequests])
  }

  private func models() -> HTTPResponse {
    .json(["object": "list", "data": [[
      "id": configuration.modelName, "object": "model", "created": Int(started.timeIntervalSince1970),
      "owned_by": "gui-agent", "family": model.family, "vision": model.vision != nil,
    ] as [String: Any]]])
  }

  // MARK: - Shared helpers

  /// Runs model work in the queue; a full line is 503 with Retry-After. When its turn comes and
  /// the client has gone (`cancellation`), the work is skipped.
  func inQueue<T: Sendable>(_ cancellation: Cancellation, _ work: @escaping @Sendable () throws -> T) throws -> T {
    let counter = self.counter
    do {
      return try queue.run { () throws -> T in
        if cancellation.isCancelled {
          counter.requestAbandoned()
          throw RequestError.clientGone
        }
        return try work()
      }
    } catch let refusal as QueueRefusal {
      throw refusal.requestError(retryAfter: queue.retryAfterSeconds)
    }
  }

  /// The X display, opened on first use and kept.
  func x11() throws(RequestError) -> X11Display {
    displayLock.lock()
    defer { displayLock.unlock() }
    if let display { return display }
    do {
      let d = try X11Display(display: configuration.display)
      display = d
      return d
    } catch {
      throw RequestError(500, "screen capture is unavailable: \(error.localizedDescription)")
    }
  }
}

extension QueueRefusal {
  func requestError(retryAfter: Int) -> RequestError {
    switch self {
    case .full: RequestError(503, "the inference queue is full; retry after \(retryAfter) s",
                             headers: [("Retry-After", String(retryAfter))])
    case .closed: RequestError(503, "the server is shutting down", headers: [("Retry-After", "5")])
    }
  }
}

/// Requests served, and streams and model requests the client left early, for /healthz.
final class RequestCounter: @unchecked Sendable {
  private let lock = NSLock()
  private var count = 0
  private var abandoned = 0
  private var abandonedModelRequests = 0
  func add() { lock.withLock { count += 1 } }
  func streamAbandoned() { lock.withLock { abandoned += 1 } }
  /// A model request (not streamed) whose client left before its turn or during generation.
  func requestAbandoned() { lock.withLock { abandonedModelRequests += 1 } }
  var value: Int { lock.withLock { count } }
  var abandonedStreams: Int { lock.withLock { abandoned } }
  var abandonedRequests: Int { lock.withLock { abandonedModelRequests } }
}
