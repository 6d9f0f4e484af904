import Agent
import Foundation
import Imaging
@testable import Service
import Testing
import TestSupport

/// Episodes over HTTP on the real agent loop, acting (dry run) on an Xvfb of the test's own.
@Suite(.serialized) struct EpisodeRouteTests {
  /// A server with a store in a fresh folder, whose episodes act on a private 320x240 display.
  final class EpisodeServer {
    let xvfb: PrivateXvfb
    let folder: URL
    let running: RunningService
    var client: RawHTTPClient { running.client }

    init() throws {
      xvfb = try PrivateXvfb(arguments: ["-screen", "0", "320x240x24"])
      folder = try Fixtures.temporaryFolder("episodes")
      let store = try EpisodeStore(path: folder.appendingPathComponent("episodes.sqlite"))
      let model = try Fixtures.model()
      running = try RunningService({ $0.display = nil }, store: store,
                                   launcher: AgentLoopLauncher.factory(model: model, display: xvfb.display))
    }

    deinit {
      running.stop()
      xvfb.stop()
      try? FileManager.default.removeItem(at: folder)
    }

    /// Polls the episode until it is no longer running (bounded).
    func waitForEnd(_ id: Int) throws -> [String: Any] {
      for _ in 0..<600 {
        let e = try client.get("/v1/episodes/\(id)").json()
        if e["status"] as? String != "running" { return e }
        usleep(50_000)
      }
      throw TestFailure("episode \(id) still running after 30 s")
    }
  }

  static var shortPlan: [String: Any] { ["steps": [
    ["action": ["action": "click", "target": ["point": [100, 80]]]],
    ["action": ["action": "wait", "seconds": 0.05]],
    ["action": ["action": "finished", "summary": "done"]],
  ]] }
  static var quiet: [String: Any] { ["dry_run": true, "settle_seconds": 0, "fail_safe": false] }

  static func longPlan(_ n: Int) -> [String: Any] {
    ["steps": Array(repeating: ["action": ["action": "wait", "seconds": 0.2]] as [String: Any], count: n)]
  }

  @Test func scriptedEpisodeEndToEnd() throws {
    let s = try EpisodeServer()
    let started = try s.client.post("/v1/episodes", json: ["task": "click the thing", "plan": Self.shortPlan, "settings": Self.quiet])
    #expect(started.status == 202, "\(started.text)")
    let id = try #require(try started.json()["id"] as? Int)
    let episode = try s.waitForEnd(id)
    #expect(episode["status"] as? String == "succeeded")
    #expect(episode["task"] as? String == "click the thing")
    let steps = try #require(episode["steps"] as? [[String: Any]])
    #expect(steps.count == 3)
    let first = try #require(steps.first)
    let point = try #require(first["grounded_point"] as? [String: Double])
    #expect(point["x"] == 100 && point["y"] == 80)
    #expect((first["action_text"] as? String)?.contains("click") == true)
    // The screenshot the step saw: the private display's size.
    let shotPath = try #require(first["screenshot_before"] as? String)
    let shot = try s.client.get(shotPath)
    #expect(shot.status == 200)
    #expect(shot.headers["content-type"] == "image/png")
    let image = try PNG.decode(shot.body)
    #expect(image.width == 320 && image.height == 240)
    // Listed, newest first.
    let list = try #require(try s.client.get("/v1/episodes").json()["episodes"] as? [[String: Any]])
    #expect(list.first?["id"] as? Int == id)
    #expect(list.first?["steps"] as? Int == 3)
    // Errors: bad ids, unknown ids and steps, bad query, stopping an ended episode.
    #expect(try s.client.get("/v1/episodes/abc").status == 400)
    #expect(try s.client.get("/v1/episodes/-1").status == 400)
    // Escaped slashes are decoded before routing: no route has that shape.
    #expect(try s.client.get("/v1/episodes/1%2F..%2F..").status == 404)
    #expect(try s.client.get("/v1/episodes/%2E%2E").status == 400)
    #expect(try s.client.get("/v1/episodes/99999").status == 404)
    #expect(try s.client.get("/v1/episodes/\(id)/steps/50/screenshot.png").status == 404)
    #expect(try s.client.get("/v1/episodes/\(id)/steps/x/screenshot.png").status == 400)
    #expect(try s.client.get("/v1/episodes/\(id)/steps/0/screenshot.png?moment=sideways").status == 400)
    #expect(try s.client.post("/v1/episodes/\(id)/stop", raw: "").status == 409)
    #expect(try s.client.post("/v1/episodes/99999/stop", raw: "").status == 404)
    #expect(try s.client.request("DELETE", "/v1/episodes/\(id)").status == 405)
  }

  @Test(arguments: [
    (#"{"settings": {}}"#, "'task'"),
    (#"{"task": "  "}"#, "'task'"),
    (#"{"task": "x", "settings": {"max_stepz": 3}}"#, "'settings.max_stepz'"),
    (#"{"task": "x", "settings": {"max_steps": "many"}}"#, "'settings.max_steps'"),
    (#"{"task": "x", "settings": []}"#, "'settings'"),
    (#"{"task": "x", "plan": {"steps": [{"action": {"action": "fly"}}]}}"#, "plan"),
    (#"{"task": "x", "extra": 1}"#, "'extra'"),
  ])
  func startRejectsBadInput(body: String, mentions: String) throws {
    let s = try EpisodeServer()
    let r = try s.client.post("/v1/episodes", raw: body)
    #expect(r.status == 400)
    #expect(r.errorMessage.contains(mentions), "\(r.errorMessage)")
  }

  /// One episode at a time: a second start is 409 while the first runs; stop ends it as stopped.
  @Test func oneAtATimeAndStop() throws {
    let s = try EpisodeServer()
    let first = try s.client.post("/v1/episodes", json: ["task": "long", "plan": Self.longPlan(100), "settings": Self.quiet])
    #expect(first.status == 202)
    let id = try #require(try first.json()["id"] as? Int)
    let second = try s.client.post("/v1/episodes", json: ["task": "another", "plan": Self.shortPlan, "settings": Self.quiet])
    #expect(second.status == 409)
    let live = try s.client.get("/v1/episodes/\(id)").json()
    #expect(live["live"] as? Bool == true)
    let stop = try s.client.post("/v1/episodes/\(id)/stop", raw: "")
    #expect(stop.status == 202)
    let ended = try s.waitForEnd(id)
    #expect(ended["status"] as? String == "stopped")
    #expect(((ended["steps"] as? [Any])?.count ?? 100) < 100)
    // The slot is free again.
    let third = try s.client.post("/v1/episodes", json: ["task": "after", "plan": Self.shortPlan, "settings": Self.quiet])
    #expect(third.status == 202)
    _ = try s.waitForEnd(try #require(try third.json()["id"] as? Int))
  }

  /// The model plans (the tiny checkpoint's answers are noise, so the steps fail to parse and
  /// the episode ends failed): the planner's calls go through the service's queue.
  @Test func modelPlannedEpisodeRunsThroughTheQueue() throws {
    let s = try EpisodeServer()
    var settings = Self.quiet
    settings["max_steps"] = 3
    settings["max_answer_tokens"] = 8
    let r = try s.client.post("/v1/episodes", json: ["task": "open the menu", "settings": settings])
    #expect(r.status == 202, "\(r.text)")
    let id = try #require(try r.json()["id"] as? Int)
    let e = try s.waitForEnd(id)
    #expect(["failed", "max_steps", "succeeded"].contains(e["status"] as? String ?? ""), "\(e["status"] ?? "")")
    let steps = try #require(e["steps"] as? [[String: Any]])
    #expect(!steps.isEmpty && steps.count <= 3)
    #expect(steps.allSatisfy { $0["raw_output"] is String })
  }

  /// Shutdown stops a running episode and records it as stopped before the store closes.
  @Test func shutdownStopsTheEpisode() throws {
    let s = try EpisodeServer()
    let r = try s.client.post("/v1/episodes", json: ["task": "long", "plan": Self.longPlan(200), "settings": Self.quiet])
    let id = try #require(try r.json()["id"] as? Int)
    s.running.stop()
    let reopened = try EpisodeStore(path: s.folder.appendingPathComponent("episodes.sqlite"))
    #expect(try reopened.episode(Int64(id)).status == .stopped)
  }
}
