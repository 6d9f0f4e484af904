import Foundation
import Testing
@testable import Agent

@Suite struct EpisodeExportTests {
  @Test func jsonlFolder() throws {
    let tmp = try TempFolder()
    defer { tmp.cleanup() }
    let (store, id) = try makeExportEpisode(in: tmp, finished: true)
    let folder = tmp.url.appendingPathComponent("out/jsonl")
    let url = try store.exportJSONL(episode: id, to: folder)
    let lines = try jsonLines(url)
    #expect(lines.count == 2)
    let first = lines[0]
    #expect(first["episode_id"] as? Int == Int(id) && first["step"] as? Int == 0)
    #expect(first["started"] as? String == "2025-11-24T16:00:01.500Z" && first["ended"] as? String == "2025-11-24T16:00:02.500Z")
    let action = try #require(first["action"] as? [String: Any])
    #expect(action["action"] as? String == "click")
    #expect((action["target"] as? [String: Any])?["point"] as? [Double] == [10, 20])
    #expect(first["grounded_point"] as? [String: Double] == ["x": 60, "y": 15])
    #expect(first["latencies_ms"] as? [String: Double] == ["model": 800, "action": 25])
    #expect(first["tokens"] as? [String: Int] == ["prompt": 10, "completion": 5])
    #expect(first["screen_changed"] as? Bool == true)
    #expect(first["screenshot_before"] as? String == "step-000-before.png")
    #expect(first["screenshot_after"] as? String == "step-000-after.png")
    #expect(lines[1]["ended"] is NSNull && lines[1]["screenshot_after"] is NSNull)
    #expect(try Data(contentsOf: folder.appendingPathComponent("step-000-before.png")) == screen80x50)
    #expect(try Data(contentsOf: folder.appendingPathComponent("step-000-after.png")) == screen80x50After)
    let episode = try #require(try JSONSerialization.jsonObject(
      with: Data(contentsOf: folder.appendingPathComponent("episode.json"))) as? [String: Any])
    #expect(episode["status"] as? String == "succeeded" && episode["step_count"] as? Int == 2)
    #expect((episode["settings"] as? [String: Any])?["maxSteps"] as? Int == 3)
  }

  @Test func osworldFolder() throws {
    let tmp = try TempFolder()
    defer { tmp.cleanup() }
    let (store, id) = try makeExportEpisode(in: tmp, finished: false)
    let folder = tmp.url.appendingPathComponent("osworld")
    let lines = try jsonLines(try store.exportOSWorld(episode: id, to: folder))
    #expect(lines.map { $0["step_num"] as? Int } == [1, 2])
    #expect(lines.map { $0["action_timestamp"] as? String } == ["20251124@160001", "20251124@160003"])
    #expect(lines.map { $0["screenshot_file"] as? String } == ["step_1_20251124@160001.png", "step_2_20251124@160003.png"])
    #expect(lines[0]["response"] as? String == "Action: click(start_box='(10,20)')")
    #expect((lines[1]["action"] as? [String: Any])?["keys"] as? [String] == ["ctrl", "s"])
    #expect(lines.map { $0["done"] as? Bool } == [false, false])  // the episode is still running
    // The observation after the action; step 2 has none and falls back to the screen before.
    #expect(try Data(contentsOf: folder.appendingPathComponent("step_1_20251124@160001.png")) == screen80x50After)
    #expect(try Data(contentsOf: folder.appendingPathComponent("step_2_20251124@160003.png")) == screen80x50After)
    try store.finishEpisode(id: id, status: .failed)
    #expect(try jsonLines(try store.exportOSWorld(episode: id, to: folder)).map { $0["done"] as? Bool } == [false, true])
  }

  @Test func htmlPage() throws {
    let tmp = try TempFolder()
    defer { tmp.cleanup() }
    let (store, id) = try makeExportEpisode(in: tmp, finished: true)
    let file = tmp.url.appendingPathComponent("report/episode.html")
    try store.exportHTML(episode: id, to: file)
    let page = try String(contentsOf: file, encoding: .utf8)
    // The reasoning's markup is text, not markup: no script element anywhere in the page.
    #expect(!page.lowercased().contains("<script"))
    #expect(page.contains("Click it. &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;"))
    #expect(page.contains("<title>Episode \(id): Open &lt;b&gt;Settings&lt;/b&gt; &amp; save</title>"))
    // The grounded point (60, 15) on the 80x50 screenshot Pillow wrote (EpisodeOverlayTests has more).
    #expect(page.contains("<svg class=\"overlay\" viewBox=\"0 0 80 50\""))
    #expect(page.contains("data:image/png;base64," + screen80x50.base64EncodedString()))
    #expect(page.contains("data:image/png;base64," + screen80x50After.base64EncodedString()))
    #expect(page.contains("<code>click(start_box=&#39;(10,20)&#39;)</code>"))
    #expect(page.contains("no outcome recorded"))
    #expect(page.contains("<td>model</td><td>800 ms</td>") && page.contains("<td>step</td><td>1.00 s</td>"))
    #expect(ExportSupport.pngSize(screen80x50).map { [$0.width, $0.height] } == [80, 50])
    #expect(ExportSupport.pngSize(Data("not a png at all, just text".utf8)) == nil)
  }
}
