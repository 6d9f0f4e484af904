import Foundation
import Testing
import TestSupport

/// `gui-agent run --model-url` / `--planner-url` as a user runs it: the built binary against a
/// fake OpenAI-compatible endpoint, on a private Xvfb.
@Suite(.serialized) struct RunRemoteCommandTests {
  @Test func usageErrorsNameTheMissingOrClashingOption() throws {
    let cases: [([String], String)] = [
      (["--model-url", "http://127.0.0.1:9/v1"], "--model-url needs --model-name"),
      (["--planner-url", "http://127.0.0.1:9/v1"], "--planner-url needs --planner-model"),
      (["--planner-url", "http://a/v1", "--planner-model", "m", "--model-url", "http://b/v1"], "two modes"),
      (["--model-url", "http://a/v1", "--model-name", "ui-tars-1.5", "--plan", "/nonexistent.json"], "--plan"),
      (["--retries", "3"], "--retries needs --planner-url or --model-url"),
      (["--model-url", "ftp://a/v1", "--model-name", "ui-tars-1.5-7b"], "not an http:// or https:// URL"),
      (["--model-url", "http://a/v1", "--model-name", "llama-3-8b"], "give its coordinate convention with --convention"),
    ]
    for (extra, message) in cases {
      let r = try CLI.run(["run", "a task", "--display", ":0"] + extra)
      #expect(r.status == 2, "\(extra): \(r.stderr)")
      #expect(r.stderr.contains(message), "\(extra): \(r.stderr)")
    }
    let help = try CLI.run(["run", "--help"])
    for option in ["--planner-url", "--planner-model", "--model-url", "--api-key-env", "--request-timeout", "--retries"] {
      #expect(help.stdout.contains(option))
    }
  }

  @Test func servedUITarsRunsAnEpisode() throws {
    let xvfb = try PrivateXvfb(arguments: ["-screen", "0", "640x480x24"])
    defer { xvfb.stop() }
    let server = try FakeChatServer(replies: [
      .completion("Thought: Nothing to do here.\nAction: wait(seconds='0.1')"),
      .completion("Thought: Done.\nAction: finished(content='all done')"),
    ])
    defer { server.stop() }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("run-remote-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    var environment = ProcessInfo.processInfo.environment
    environment["PLANNER_TOKEN"] = "tok-123"
    environment["GUI_AGENT_API_KEY"] = "not-this-one"
    let r = try CLI.run(["run", "wait, then finish", "--model-url", server.url, "--model-name", "ui-tars-1.5-7b",
                         "--api-key-env", "PLANNER_TOKEN", "--retries", "0", "--request-timeout", "30",
                         "--display", xvfb.display, "--store", folder.appendingPathComponent("e.sqlite").path,
                         "--settle", "50", "--json"], environment: environment)
    #expect(r.status == 0, "\(r.stderr)")
    let out = try r.json()
    #expect(out["status"] as? String == "succeeded" && out["steps"] as? Int == 2 && out["reason"] as? String == "all done")
    #expect(r.stderr.contains("as UI-TARS-1.5: resized-pixels coordinates, ui-tars actions"), "\(r.stderr)")
    let requests = server.requests
    #expect(requests.count == 2)
    #expect(requests.allSatisfy { $0.headers["authorization"] == "Bearer tok-123" && $0.model == "ui-tars-1.5-7b" })
    // 640x480 smart-resized: 644x476, a PNG whose size sits in its IHDR chunk.
    let url = try #require(requests.first?.imageURLs.first)
    let png = try #require(Data(base64Encoded: String(url.dropFirst("data:image/png;base64,".count))))
    let size = png.subdata(in: 16..<24).reduce(into: [UInt8]()) { $0.append($1) }
    #expect(size == [0, 0, 0x02, 0x84, 0, 0, 0x01, 0xdc])
  }

  @Test func endpointDownFailsTheEpisodeNamingTheURL() throws {
    let xvfb = try PrivateXvfb(arguments: ["-screen", "0", "640x480x24"])
    defer { xvfb.stop() }
    let port = try FakeChatServer.closedPort()
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("run-remote-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let r = try CLI.run(["run", "anything", "--planner-url", "http://127.0.0.1:\(port)/v1", "--planner-model", "m",
                         "--retries", "1", "--display", xvfb.display, "--store", folder.appendingPathComponent("e.sqlite").path, "--json"])
    #expect(r.status == 1, "\(r.stderr)")
    let reason = try r.json()["reason"] as? String ?? ""
    #expect(reason.contains("http://127.0.0.1:\(port)/v1/chat/completions") && reason.contains("cannot connect"), "\(reason)")
  }
}
