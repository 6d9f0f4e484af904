import Foundation

/// Where the server listens: a numeric IPv4 or IPv6 address (or `localhost`) and a port.
public struct ListenAddress: Sendable, CustomStringConvertible {
  public enum SocketAddress: Sendable {
    case v4(in_addr)
    case v6(in6_addr)
  }

  public let host: String
  public let port: UInt16
  public let socketAddress: SocketAddress

  /// Parses `host` (`127.0.0.1`, `::1`, `0.0.0.0`, `localhost`); names other than `localhost`
  /// are refused, so what is bound is exactly what was asked for.
  public init(host: String, port: Int) throws(ServiceError) {
    guard (0...65535).contains(port) else { throw .invalidArgument("port \(port) is outside 0...65535") }
    self.host = host
    self.port = UInt16(port)
    let literal = host == "localhost" ? "127.0.0.1" : host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
    var v4 = in_addr()
    var v6 = in6_addr()
    if inet_pton(AF_INET, literal, &v4) == 1 {
      socketAddress = .v4(v4)
    } else if inet_pton(AF_INET6, literal, &v6) == 1 {
      socketAddress = .v6(v6)
    } else {
      throw .invalidArgument("host '\(host)' is not a numeric IPv4/IPv6 address or 'localhost'")
    }
  }

  /// 127.0.0.0/8, ::1 and IPv4-mapped loopback: reachable only from this machine.
  public var isLoopback: Bool {
    switch socketAddress {
    case let .v4(a):
      return UInt32(bigEndian: a.s_addr) >> 24 == 127
    case let .v6(a):
      let bytes = withUnsafeBytes(of: a) { Array($0) }
      if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
      // ::ffff:127.x.y.z
      return bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xff && bytes[11] == 0xff && bytes[12] == 127
    }
  }

  public var description: String {
    if case .v6 = socketAddress { return "[\(host)]:\(port)" }
    return "\(host):\(port)"
  }

  /// Calls `body` with a `sockaddr` for this address.
  func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>) -> R) -> R {
    switch socketAddress {
    case let .v4(a):
      var sa = sockaddr_in()
      sa.sin_family = sa_family_t(AF_INET)
      sa.sin_port = port.bigEndian
      sa.sin_addr = a
      return withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1, body) }
    case let .v6(a):
      var sa = sockaddr_in6()
      sa.sin6_family = sa_family_t(AF_INET6)
      sa.sin6_port = port.bigEndian
      sa.sin6_addr = a
      return withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1, body) }
    }
  }
}
