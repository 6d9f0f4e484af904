import Foundation

/// Method + path pattern -> handler. Patterns are literal segments and `{name}` captures; a path
/// that matches a pattern under another method is 405 (with `Allow`), no pattern at all 404.
struct Router: Sendable {
  typealias Handler = @Sendable (HTTPRequest, _ captures: [String: String]) throws -> HTTPResponse

  struct Route: Sendable {
    let method: String
    let pattern: [String]
    let handler: Handler
  }

  private(set) var routes: [Route] = []

  mutating func add(_ method: String, _ pattern: String, _ handler: @escaping Handler) {
    routes.append(Route(method: method, pattern: Router.segments(pattern), handler: handler))
  }

  /// Every route as `METHOD /pattern`, for the OpenAPI consistency test.
  var table: [String] { routes.map { "\($0.method) /" + $0.pattern.joined(separator: "/") } }

  func respond(_ request: HTTPRequest) -> HTTPResponse {
    let parts = Router.segments(request.path)
    var allowed: [String] = []
    for route in routes {
      guard let captures = Router.match(route.pattern, parts) else { continue }
      // HEAD is answered as GET (libmicrohttpd drops the body).
      guard route.method == request.method || (route.method == "GET" && request.method == "HEAD") else {
        allowed.append(route.method)
        continue
      }
      do { return try route.handler(request, captures) } catch let e as RequestError {
        return e.response
      } catch {
        return .error(500, (error as? LocalizedError)?.errorDescription ?? String(describing: error))
      }
    }
    if !allowed.isEmpty {
      return .error(405, "\(request.method) is not allowed on \(request.path) (allowed: \(allowed.joined(separator: ", ")))",
                    headers: [("Allow", allowed.joined(separator: ", "))])
    }
    return .error(404, "no route for \(request.path)")
  }

  static func segments(_ path: String) -> [String] {
    path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
  }

  static func match(_ pattern: [String], _ parts: [String]) -> [String: String]? {
    guard pattern.count == parts.count else { return nil }
    var captures: [String: String] = [:]
    for (p, s) in zip(pattern, parts) {
      if p.hasPrefix("{") && p.hasSuffix("}") {
        captures[String(p.dropFirst().dropLast())] = s
      } else if p != s {
        return nil
      }
    }
    return captures
  }
}
