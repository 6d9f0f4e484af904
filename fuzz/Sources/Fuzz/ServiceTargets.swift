import Agent
import Engine
import Foundation
import Imaging
import Service

// MARK: - Service: HTTP requests and the routes' JSON bodies
//
// The service is called in-process (`GUIAgentService.handle`), without a listening socket, on
// the tiny random checkpoint of the tests: everything after libmicrohttpd has parsed the request
// (auth, routing, every route's body decoding, images, prompts, generation, streaming answers,
// the episode store) runs as it does in `gui-agent serve`. libmicrohttpd's own parsing of the
// bytes on the wire is not covered; `http` inputs are requests written as text instead.

extension FuzzTarget {
  static let serviceTargets: [FuzzTarget] = [
    FuzzTarget("http", "a request as text (request line, headers, body): auth, routing, any route, with a bearer token",
               maxLength: 64 << 10, dictionary: "service", prepare: { _ = ServiceHarness.withToken }) { data in
      ServiceHarness.send(ServiceHarness.request(data), to: ServiceHarness.withToken)
    },
    FuzzTarget("ground-body", "the JSON body of POST /v1/ground (image, instruction, think...)",
               maxLength: 64 << 10, dictionary: "service", prepare: { _ = ServiceHarness.open }) { data in
      ServiceHarness.send(HTTPRequest(method: "POST", path: "/v1/ground", body: data), to: ServiceHarness.open)
    },
    FuzzTarget("chat-body", "the JSON body of POST /v1/chat/completions (messages, images, sampling, stream)",
               maxLength: 64 << 10, dictionary: "service", prepare: { _ = ServiceHarness.open }) { data in
      ServiceHarness.send(HTTPRequest(method: "POST", path: "/v1/chat/completions", body: data), to: ServiceHarness.open)
    },
    FuzzTarget("episodes-body", "the JSON body of POST /v1/episodes (task, settings, plan), validated by the agent loop's launcher",
               maxLength: 16 << 10, dictionary: "service", prepare: { _ = ServiceHarness.open }) { data in
      ServiceHarness.send(HTTPRequest(method: "POST", path: "/v1/episodes", body: data), to: ServiceHarness.open)
    },
  ]
}

enum ServiceHarness {
  static let token = "fuzz-token-0123456789abcdef"

  /// A service that requires `Authorization: Bearer <token>`.
  static let withToken = make(token: token)
  /// A service without a token (a loopback server's default).
  static let open = make(token: nil)

  /// The tiny checkpoint, an episode store in the scratch folder holding one finished episode,
  /// and a launcher that validates like the agent loop's but never starts one (no X display).
  private static func make(token: String?) -> GUIAgentService {
    let path = repositoryRoot.appendingPathComponent("Tests/GroundingTests/Fixtures/tiny-bluelm").path
    do {
      let model = try ModelLoader.load(path: path, threads: 1)
      var config = ServiceConfiguration()
      config.token = token
      config.modelName = "tiny-bluelm"
      // No X server is reachable: `capture: true` fails fast. Images are capped at 4 megapixels:
      // resizing one that is truly large is slow by nature, not a finding.
      config.display = ":65535"
      config.maxImagePixels = 1 << 22
      let store = try EpisodeStore(path: Scratch.folder.appendingPathComponent("episodes.sqlite"))
      try record(into: store)
      return try GUIAgentService(model: model, configuration: config, store: store) { queue in
        ValidatingLauncher(validator: AgentLoopLauncher(model: model, display: ":65535", queue: queue))
      }
    } catch {
      fatalError("fuzz harness: cannot set up the service on \(path): \(error)")
    }
  }

  /// Episode 1: two steps, screenshots before and after, an action, a grounded point.
  private static func record(into store: EpisodeStore) throws {
    let png = try PNG.encode(try RGBImage(width: 4, height: 3, fill: RGB(200, 100, 50)), compression: .fast)
    let id = try store.beginEpisode(task: "Save the file", models: ["planner": "tiny-bluelm"], settings: ["max_steps": 5])
    for index in 0..<2 {
      let step = try store.beginStep(episode: id, index: index, intent: StepIntent(
        reasoning: "The Save button.", rawOutput: "Action: click(start_box='(10,20)')",
        action: .click(.point(ModelPoint(x: 10, y: 20))), groundedPoint: GroundedPoint(x: 1, y: 2),
        screenshot: png, tokens: TokenCounts(prompt: 12, completion: 7), latencies: ["model": 3.5]))
      try store.finishStep(step, outcome: StepOutcome(screenChanged: true, latencies: ["action": 1], screenshotAfter: png))
    }
    try store.finishEpisode(id: id, status: .succeeded, summary: "Saved.")
  }

  /// Sends one request; a streamed answer is produced to its end before the next input.
  static func send(_ request: HTTPRequest, to service: GUIAgentService) {
    let response = service.handle(request)
    if verbose {
      var line = "\(request.method) \(request.path): \(response.status)"
      if case let .bytes(body) = response.body, response.status >= 400 { line += " " + String(decoding: body.prefix(300), as: UTF8.self) }
      FileHandle.standardError.write(Data((line + "\n").utf8))
    }
    if case .stream = response.body { service.queue.drain(timeout: 60) }
  }

  /// Reads `METHOD target [version]`, `Name: value` lines up to a blank line, then the body, as
  /// libmicrohttpd hands them to the server: names lowercased, the query split off the path and
  /// its arguments unescaped (`+` as a space).
  static func request(_ data: Data) -> HTTPRequest {
    let bytes = [UInt8](data)
    var headEnd = bytes.count, bodyStart = bytes.count
    for i in bytes.indices {
      if bytes[i...].starts(with: [13, 10, 13, 10]) { headEnd = i; bodyStart = i + 4; break }
      if bytes[i...].starts(with: [10, 10]) { headEnd = i; bodyStart = i + 2; break }
    }
    // Lines split on LF bytes: "\r\n" is one Character, so String's split would not see the LF.
    var lines = bytes[..<headEnd].split(separator: 10, omittingEmptySubsequences: false).map { line in
      String(decoding: line.last == 13 ? line.dropLast() : line, as: UTF8.self)
    }
    let requestLine = lines.isEmpty ? "" : lines.removeFirst()
    let parts = requestLine.split(separator: " ", maxSplits: 2)
    let method = parts.first.map(String.init) ?? ""
    let target = parts.count > 1 ? String(parts[1]) : "/"
    let (path, queryText) = target.firstIndex(of: "?").map { (String(target[..<$0]), String(target[target.index(after: $0)...])) }
      ?? (target, "")
    var query: [String: String] = [:]
    for pair in queryText.split(separator: "&") where !pair.isEmpty {
      let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      query[unescape(kv[0])] = kv.count > 1 ? unescape(kv[1]) : ""
    }
    var headers: [String: String] = [:]
    for line in lines {
      guard let colon = line.firstIndex(of: ":") else { continue }
      headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return HTTPRequest(method: method, path: path, headers: headers, query: query, body: Data(bytes[bodyStart...]))
  }

  private static func unescape(_ s: Substring) -> String {
    let spaced = s.replacingOccurrences(of: "+", with: " ")
    return spaced.removingPercentEncoding ?? spaced
  }
}

/// The agent loop's request checks (settings, plan) with a run that refuses to start: the fuzzer
/// has no X display to act on, and an episode is not a parser.
struct ValidatingLauncher: EpisodeLauncher {
  let validator: AgentLoopLauncher

  func validate(settings: Data, plan: Data?) throws { try validator.validate(settings: settings, plan: plan) }

  func run(task: String, settings: Data, plan: Data?, store: EpisodeStore, stop: Cancellation,
           started: @escaping @Sendable (Int64) -> Void) throws {
    throw RequestError(503, "episodes are not run while fuzzing")
  }
}
