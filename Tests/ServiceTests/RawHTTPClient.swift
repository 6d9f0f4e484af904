import Foundation

/// A minimal HTTP/1.1 client on a plain socket, so tests control every byte: partial bodies,
/// disconnects, chunked uploads. One request per connection (`Connection: close`).
struct RawHTTPClient {
  let port: UInt16

  struct Response {
    var status: Int
    var headers: [String: String]
    var body: Data
    var text: String { String(decoding: body, as: UTF8.self) }
    func json() throws -> [String: Any] {
      guard let o = try JSONSerialization.jsonObject(with: body) as? [String: Any] else {
        throw TestFailure("not a JSON object: \(text.prefix(300))")
      }
      return o
    }
    /// The OpenAI-style error message.
    var errorMessage: String {
      ((try? json())?["error"] as? [String: Any])?["message"] as? String ?? ""
    }
  }

  // MARK: - Connections

  /// A connected socket to 127.0.0.1:port with a receive timeout.
  func connect(timeoutSeconds: Int = 60) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket() failed") }
    var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = port.bigEndian
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let rc = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard rc == 0 else { close(fd); throw TestFailure("connect to port \(port) failed (errno \(errno))") }
    return fd
  }

  static func send(_ fd: Int32, _ data: Data) throws {
    var sent = 0
    while sent < data.count {
      let n = data.withUnsafeBytes { Foundation.send(fd, $0.baseAddress! + sent, data.count - sent, Int32(MSG_NOSIGNAL)) }
      guard n > 0 else { throw TestFailure("send failed (errno \(errno))") }
      sent += n
    }
  }

  static func head(_ method: String, _ path: String, headers: [String: String], bodyLength: Int?) -> Data {
    var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    if let bodyLength { text += "Content-Length: \(bodyLength)\r\n" }
    for (k, v) in headers.sorted(by: { $0.key < $1.key }) { text += "\(k): \(v)\r\n" }
    return Data((text + "\r\n").utf8)
  }

  // MARK: - Requests

  func request(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]) throws -> Response {
    let fd = try connect()
    defer { close(fd) }
    var headers = headers
    if body != nil, headers["Content-Type"] == nil { headers["Content-Type"] = "application/json" }
    try Self.send(fd, Self.head(method, path, headers: headers, bodyLength: body?.count ?? (method == "POST" ? 0 : nil)) + (body ?? Data()))
    return try Self.parse(Self.readAll(fd))
  }

  func get(_ path: String, headers: [String: String] = [:]) throws -> Response { try request("GET", path, headers: headers) }

  func post(_ path: String, json: Any, headers: [String: String] = [:]) throws -> Response {
    try request("POST", path, body: JSONSerialization.data(withJSONObject: json), headers: headers)
  }

  func post(_ path: String, raw: String, headers: [String: String] = [:]) throws -> Response {
    try request("POST", path, body: Data(raw.utf8), headers: headers)
  }

  // MARK: - Reading

  static func readAll(_ fd: Int32) throws -> Data {
    var data = Data()
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = recv(fd, &buffer, buffer.count, 0)
      if n == 0 { break }
      guard n > 0 else { throw TestFailure("recv failed or timed out (errno \(errno)) after \(data.count) bytes") }
      data.append(contentsOf: buffer[0..<n])
    }
    return data
  }

  /// Reads until `marker` appears in what was received (or the connection ends).
  static func read(_ fd: Int32, until marker: String) throws -> Data {
    var data = Data()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while data.range(of: Data(marker.utf8)) == nil {
      let n = recv(fd, &buffer, buffer.count, 0)
      guard n > 0 else { break }
      data.append(contentsOf: buffer[0..<n])
    }
    return data
  }

  /// Status line, headers (lowercased names) and body, de-chunked when chunked.
  static func parse(_ data: Data) throws -> Response {
    guard let end = data.range(of: Data("\r\n\r\n".utf8)) else {
      throw TestFailure("no header end in \(data.count) bytes: \(String(decoding: data.prefix(200), as: UTF8.self))")
    }
    let head = String(decoding: data[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
    let statusParts = head[0].split(separator: " ")
    guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw TestFailure("bad status line \(head[0])") }
    var headers: [String: String] = [:]
    for line in head.dropFirst() {
      guard let colon = line.firstIndex(of: ":") else { continue }
      headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    var body = Data(data[end.upperBound...])
    if headers["transfer-encoding"]?.lowercased() == "chunked" {
      body = try dechunk(body)
    } else if let declared = headers["content-length"] {
      // A cut-off answer must not pass as a short one.
      guard let length = Int(declared), length >= 0 else { throw TestFailure("bad Content-Length '\(declared)'") }
      guard body.count == length else { throw TestFailure("body of \(body.count) bytes, Content-Length \(length)") }
    }
    return Response(status: status, headers: headers, body: body)
  }

  static func dechunk(_ data: Data) throws -> Data {
    var out = Data()
    var i = data.startIndex
    while true {
      guard i < data.endIndex, let lineEnd = data[i...].range(of: Data("\r\n".utf8)) else {
        throw TestFailure("chunked body ends without its last (zero-size) chunk after \(out.count) bytes")
      }
      let sizeText = String(decoding: data[i..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
      guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
        throw TestFailure("bad chunk size '\(sizeText)'")
      }
      if size == 0 { break }
      let start = lineEnd.upperBound
      guard start + size <= data.endIndex else { throw TestFailure("truncated chunk") }
      out.append(data[start..<start + size])
      i = start + size + 2
    }
    return out
  }
}

struct TestFailure: Error, CustomStringConvertible {
  let description: String
  init(_ d: String) { description = d }
}
