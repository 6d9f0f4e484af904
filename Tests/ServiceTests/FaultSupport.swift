import Engine
import Foundation

/// Socket-level helpers for the fault tests: clients that trickle, hold connections idle, or
/// watch for the server to close them, and the server's resident memory.
enum FaultClient {
  /// Seconds on a monotonic clock.
  static var now: Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
  }

  /// What the server did with a connection: answered (the bytes it sent before closing) or
  /// reset it, and when.
  struct Ending {
    var closed: Bool
    var data: Data
    var seconds: Double
  }

  /// Waits until the server closes `fd` (recv returns 0 or fails), reading what it sends, for at
  /// most `timeout` seconds from `since`.
  static func waitForClose(_ fd: Int32, since: Double, timeout: Double) -> Ending {
    var data = Data()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while now - since < timeout {
      var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      let left = Int32(max(1, min(200, (timeout - (now - since)) * 1000)))
      guard poll(&p, 1, left) > 0 else { continue }
      let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
      if n > 0 { data.append(contentsOf: buffer[0..<n]); continue }
      if n == 0 || (errno != EAGAIN && errno != EINTR) { return Ending(closed: true, data: data, seconds: now - since) }
    }
    return Ending(closed: false, data: data, seconds: now - since)
  }

  /// Whether the server has closed `fd` or sent something on it, without waiting.
  static func readable(_ fd: Int32) -> Bool {
    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    return poll(&p, 1, 0) > 0
  }

  /// Sends `bytes` one at a time, `interval` seconds apart, until the server closes the
  /// connection or `limit` seconds pass. Returns when it was closed (nil: never) and how many
  /// bytes went out.
  static func trickle(_ fd: Int32, _ bytes: Data, interval: Double, limit: Double) -> (closedAfter: Double?, sent: Int) {
    let start = now
    var sent = 0
    while now - start < limit {
      // Closed (EOF or reset) or answered: either way the server is done with us.
      if readable(fd) { return (now - start, sent) }
      var byte = bytes[bytes.startIndex + sent % bytes.count]
      if Foundation.send(fd, &byte, 1, Int32(MSG_NOSIGNAL)) != 1 { return (now - start, sent) }
      sent += 1
      usleep(UInt32(interval * 1_000_000))
    }
    return (nil, sent)
  }

  /// Sends `data` as far as the server takes it (it may answer and close before the end), then
  /// reads its answer. The answer is nil when the server closed or reset without one.
  static func exchange(_ client: RawHTTPClient, _ data: Data, timeout: Int = 30) throws -> (response: RawHTTPClient.Response?, seconds: Double) {
    let start = now
    let fd = try client.connect(timeoutSeconds: timeout)
    defer { close(fd) }
    try? RawHTTPClient.send(fd, data)
    var received = Data()
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = recv(fd, &buffer, buffer.count, 0)
      if n > 0 { received.append(contentsOf: buffer[0..<n]); continue }
      if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { throw TestFailure("no answer and no close within \(timeout) s") }
      break  // closed, or reset (what was received before the reset is kept)
    }
    return (try? RawHTTPClient.parse(received), now - start)
  }

  /// The resident set size of process `pid` in bytes, from /proc/PID/status (VmRSS).
  static func residentBytes(_ pid: pid_t = getpid()) -> Int {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
      let kb = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) } ?? 0
      return kb * 1024
    }
    return 0
  }

  /// Polls `condition` every 10 ms until it holds or `timeout` seconds pass; returns whether it held.
  static func wait(timeout: Double, _ condition: () -> Bool) -> Bool {
    let start = now
    while !condition() {
      if now - start > timeout { return false }
      usleep(10_000)
    }
    return true
  }

  /// One line of measured figures, printed for docs/service.md ("Faults and limits").
  static func figure(_ text: String) { print("fault figure: \(text)") }
}

extension Fixtures {
  /// The embedded default model (Models/bluelm-vl-nano), with its end-of-text token moved to one
  /// it never writes (`<|tile_newline|>`, in a copy of its folder): a greedy answer then runs to
  /// `max_tokens` whatever the weights say (the real end token may come after ten tokens), slow
  /// enough (seconds for a few thousand tokens) that a client can leave while it generates.
  static let nanoPath = repository.appendingPathComponent("Models/bluelm-vl-nano").path
  static let endlessNanoPath: Result<String, EngineError> = Result { () throws(EngineError) in
    let copy = FileManager.default.temporaryDirectory.appendingPathComponent("endless-nano-\(getpid())")
    do {
      try? FileManager.default.removeItem(at: copy)
      try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
      for name in ["model.safetensors", "tokenizer.json"] {
        try FileManager.default.copyItem(atPath: nanoPath + "/" + name, toPath: copy.appendingPathComponent(name).path)
      }
      var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: nanoPath + "/config.json"))) as? [String: Any] ?? [:]
      var tokens = config["tokens"] as? [String: Any] ?? [:]
      tokens["eos"] = "<|tile_newline|>"
      config["tokens"] = tokens
      try JSONSerialization.data(withJSONObject: config).write(to: copy.appendingPathComponent("config.json"))
    } catch {
      throw .invalidArgument("cannot make the endless copy of \(nanoPath): \(error)")
    }
    return copy.path
  }
  static let endlessNano: Result<LoadedModel, EngineError> = Result { () throws(EngineError) in
    try ModelLoader.load(path: try endlessNanoPath.get(), threads: 1)
  }
}
