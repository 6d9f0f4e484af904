import Foundation

/// What can go wrong starting or running the service. Request errors become HTTP answers
/// (`RequestError`); these are the server's own.
public enum ServiceError: LocalizedError, Sendable, Equatable {
  case invalidArgument(String)
  /// Listening on a non-loopback address without a token.
  case tokenRequired(address: String)
  case bind(String)
  case model(String)
  case store(String)

  public var errorDescription: String? {
    switch self {
    case let .invalidArgument(m): m
    case let .tokenRequired(address):
      "refusing to listen on \(address) without a token: give --token or GUI_AGENT_TOKEN (only loopback addresses may go without)"
    case let .bind(m): m
    case let .model(m): "model: \(m)"
    case let .store(m): "episode store: \(m)"
    }
  }
}

/// A request the server refuses: the status and a message naming the bad field or value.
public struct RequestError: LocalizedError, Sendable {
  public var status: Int
  public var message: String
  public var headers: [(String, String)]
  public init(_ status: Int, _ message: String, headers: [(String, String)] = []) {
    self.status = status; self.message = message; self.headers = headers
  }
  /// 400 naming the field.
  public static func field(_ name: String, _ problem: String) -> RequestError {
    RequestError(400, "field '\(name)': \(problem)")
  }
  /// The client hung up before its answer (nginx's 499; nobody reads it).
  static let clientGone = RequestError(499, "the client closed the connection before its answer")
  public var response: HTTPResponse { .error(status, message, headers: headers) }
  public var errorDescription: String? { message }
}
