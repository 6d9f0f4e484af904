import Foundation
import Testing
import TestSupport

/// `gui-agent serve` as a child process: the official `openai` client from PyPI against it, the
/// address rule, and a clean exit on SIGTERM.
///
/// The client test installs `openai` into the tooling venv with `scripts/pyenv openai` (PyPI
/// must be reachable the first time; later runs reuse the venv).
@Suite(.serialized) struct ServeCommandTests {
  static var binary: URL { get throws { try guiAgentBinary() } }

  /// Runs a command to its end (bounded); returns status and both outputs.
  static func run(_ executable: String, _ arguments: [String], seconds: Double = 600) throws -> (Int32, String, String) {
    let r = try runProgram(URL(fileURLWithPath: executable), arguments, timeout: seconds)
    return (r.status, r.stdout, r.stderr)
  }

  /// A server child process on a kernel-chosen port.
  final class ServerProcess {
    let process = Process()
    let port: Int
    private let errors = Pipe()

    init(_ arguments: [String], model: String = Fixtures.tinyPath) throws {
      process.executableURL = try ServeCommandTests.binary
      process.arguments = ["serve", "--model", model, "--port", "0", "--json", "--threads", "1"] + arguments
      let out = Pipe()
      process.standardOutput = out
      process.standardError = errors
      try process.run()
      // The first stdout line is {"port": N, "url": ...}.
      var line = Data()
      while !line.contains(UInt8(ascii: "\n")) {
        let chunk = out.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        line.append(chunk)
      }
      let object = try JSONSerialization.jsonObject(with: line) as? [String: Any]
      guard let port = object?["port"] as? Int else {
        kill(process.processIdentifier, SIGKILL)
        throw TestFailure("serve did not report its port: \(String(decoding: line, as: UTF8.self))")
      }
      self.port = port
    }

    /// SIGTERM, then the exit status (SIGKILL after `seconds`).
    func terminate(seconds: Double = 60) -> Int32 {
      kill(process.processIdentifier, SIGTERM)
      let deadline = Date().addingTimeInterval(seconds)
      while process.isRunning, Date() < deadline { usleep(20_000) }
      if process.isRunning { kill(process.processIdentifier, SIGKILL) }
      process.waitUntilExit()
      return process.terminationStatus
    }

    var stderr: String { String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self) }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
  }

  @Test func openAIClientSpeaksToTheServer() throws {
    let token = "openai-client-token-123"
    let server = try ServerProcess(["--token", token, "--no-episodes"])
    let (pyStatus, python, pyErr) = try Self.run("/bin/bash", [Fixtures.repository.appendingPathComponent("scripts/pyenv").path, "openai"])
    try #require(pyStatus == 0, "scripts/pyenv openai failed: \(pyErr)")
    let script = Fixtures.repository.appendingPathComponent("scripts/service/openai_client_check.py").path
    let image = Fixtures.pipelineFolder.appendingPathComponent("land_40x30.png").path
    let (status, out, err) = try Self.run(python.trimmingCharacters(in: .whitespacesAndNewlines), [
      script, "--base-url", "http://127.0.0.1:\(server.port)/v1", "--api-key", token, "--image", image,
    ], seconds: 300)
    try #require(status == 0, "openai client failed: \(err)")
    let result = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
    #expect(result["models"] as? [String] == ["tiny-bluelm"])
    let completion = try #require(result["completion"] as? [String: Any])
    let stream = try #require(result["stream"] as? [String: Any])
    #expect(completion["object"] as? String == "chat.completion")
    #expect(completion["role"] as? String == "assistant")
    // Greedy with the same seed: the streamed pieces add up to the whole answer.
    #expect(stream["content"] as? String == completion["content"] as? String)
    #expect(stream["finish_reason"] as? String == completion["finish_reason"] as? String)
    let usage = try #require(completion["usage"] as? [String: Int])
    #expect((usage["prompt_tokens"] ?? 0) > 20)   // the image's tokens are counted
    #expect(stream["usage"] as? [String: Int] == usage)
    #expect((result["bad_request"] as? [String: Any])?["status"] as? Int == 400)
    #expect(((result["bad_request"] as? [String: Any])?["message"] as? String)?.contains("temperature") == true)
    #expect((result["wrong_key"] as? [String: Any])?["status"] as? Int == 401)
    #expect(server.terminate() == 0)
  }

  /// SIGTERM while requests are in flight: they are answered, then the process exits 0.
  @Test func sigtermDrainsAndExitsCleanly() throws {
    let folder = try Fixtures.temporaryFolder("serve-store")
    defer { try? FileManager.default.removeItem(at: folder) }
    let server = try ServerProcess(["--store", folder.appendingPathComponent("e.sqlite").path])
    let client = RawHTTPClient(port: UInt16(server.port))
    let statuses = StatusList()
    let group = DispatchGroup()
    let failures = StatusList()
    for _ in 0..<4 {
      group.enter()
      Thread {
        do {
          let r = try client.post("/v1/chat/completions", json: ["messages": [["role": "user", "content": "hi"]], "max_tokens": 300] as [String: Any])
          statuses.add(r.status)
        } catch {
          failures.add(1)  // the raw client throws on a cut-off answer (short body, unfinished chunks)
        }
        group.leave()
      }.start()
    }
    // SIGTERM once the server holds all four: each is running, waiting in the queue, or answered.
    let deadline = Date().addingTimeInterval(30)
    while Date() < deadline {
      let queue = (try? client.get("/healthz").json())?["queue"] as? [String: Any]
      let held = (queue?["waiting"] as? Int ?? 0) + ((queue?["running"] as? Bool) == true ? 1 : 0)
      if held + statuses.values.count + failures.values.count >= 4 { break }
      usleep(2_000)
    }
    #expect(server.terminate() == 0)
    #expect(group.wait(timeout: .now() + 60) == .success)
    // Every request the server held got a whole answer; none was cut off or refused.
    #expect(statuses.values == [200, 200, 200, 200], "\(statuses.values), \(failures.values.count) cut off")
    #expect(failures.values.isEmpty)
    #expect(server.stderr.contains("stopped"))
  }

  @Test func refusesAPublicAddressWithoutAToken() throws {
    let (status, _, err) = try Self.run(try Self.binary.path, ["serve", "--model", Fixtures.tinyPath, "--host", "0.0.0.0"],
                                        seconds: 60)
    #expect(status == 1)
    #expect(err.contains("without a token"))
  }
}

final class StatusList: @unchecked Sendable {
  private let lock = NSLock()
  private var list: [Int] = []
  func add(_ s: Int) { lock.withLock { list.append(s) } }
  var values: [Int] { lock.withLock { list } }
}
