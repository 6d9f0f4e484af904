import Foundation
import Grounding

/// How the service listens and what it accepts.
public struct ServiceConfiguration: Sendable {
  /// The listening address; anything but loopback needs `token`.
  public var host = "127.0.0.1"
  /// 0 lets the kernel choose (tests); `GUIAgentService.port` tells which.
  public var port = 8080
  /// When set, every request but the viewer page needs `Authorization: Bearer <token>`.
  public var token: String?
  /// Inference requests that may wait behind the running one; more get 503.
  public var queueCapacity = 8
  /// Request bodies above this get 413.
  public var maxBodyBytes = 32 << 20
  /// The model's id in `/v1/models` and in answers.
  public var modelName = "gui-agent"
  /// The X display for `capture: true` (nil: `$DISPLAY`).
  public var display: String?
  /// Largest image a request may send, in pixels (8K UHD): a 32 MB PNG of zeros could
  /// otherwise declare hundreds of megapixels and make each connection allocate gigabytes.
  public var maxImagePixels = 7680 * 4320
  /// Most tokens a chat completion may ask for.
  public var maxCompletionTokens = 4096
  /// Connections at once, the idle timeout and the request read deadline.
  public var connectionLimits = ConnectionLimits()
  /// The known model, convention and prompt grounding uses (default: chosen from the folder).
  public var grounding = GroundingOptions()

  public init() {}

  /// The listening address, checked: a non-loopback address without a token is refused.
  public func listenAddress() throws(ServiceError) -> ListenAddress {
    let address = try ListenAddress(host: host, port: port)
    if !address.isLoopback && (token ?? "").isEmpty { throw .tokenRequired(address: address.description) }
    if let token, token.count < 16 {
      throw .invalidArgument("the token is \(token.count) characters long; use at least 16")
    }
    return address
  }
}
