import Engine
import Foundation
import Grounding
import Imaging
import Testing
import TestSupport
@testable import Agent

/// Mode 2 over HTTP: a served text model plans from the task, the history and an element list,
/// naming elements by number (clicked at their centre) or by description (grounded locally).
@Suite(.serialized) struct RemoteTextPlannerTests {
  /// A parser that reads the same element list from every screenshot: the Tk canvas of
  /// ``LoopRig`` as element 1, at its centre. The OCR parser is a separate component; this one
  /// only gives the loop a list to resolve `element_id` against.
  final class FixedParser: ScreenParser {
    var name: String { "fixed list" }
    private(set) var calls = 0
    func parse(_ screenshot: RGBImage, area: PixelRect) throws -> ScreenParse {
      calls += 1
      return ScreenParse(area: area, elements: [
        ScreenElement(id: 1, kind: .text, text: "canvas", box: PixelRect(x: 190, y: 140, width: 20, height: 20), confidence: 90),
        ScreenElement(id: 2, kind: .word, text: "Say \"hi\"", box: PixelRect(x: 500, y: 400, width: 40, height: 10), confidence: 80),
      ], milliseconds: 2.5)
    }
  }

  @Test func elementNumbersAreClickedAtTheElementCentre() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    let server = try FakeChatServer(replies: [
      .completion(#"{"thought": "Element 9 is it.", "action": "click", "target": {"element_id": 9}}"#),
      .completion(#"{"thought": "Element 1 is the canvas.", "action": "click", "target": {"element_id": 1}}"#),
      .completion(#"{"action": "finished", "summary": "clicked"}"#),
    ])
    defer { server.stop() }
    let parser = FixedParser()
    let planner = RemoteTextPlanner(client: ChatClient(endpoint: try ChatEndpoint(baseURL: server.url)), model: "planner-8b", parser: parser)
    let outcome = try rig.loop(planner: planner).run(task: "click the canvas")
    #expect(outcome.status == .succeeded, "\(outcome.reason)")
    #expect(try rig.pixel(200, 150) == [0, 0, 0])
    let steps = try rig.store.steps(episode: outcome.episodeId)
    try #require(steps.count == 3)
    #expect(steps[0].error == "element_id 9 is not in the element list (2 elements)")
    #expect(steps[0].latencies["element_id"] == 9 && steps[0].latencies["parse_elements"] == 2)
    #expect(steps[1].groundedPoint == GroundedPoint(x: 200, y: 150) && steps[1].error == nil)
    #expect(steps[1].latencies["element_id"] == 1 && steps[1].latencies["parse"] == 2.5)
    #expect(parser.calls == 3)
    let prompt = try #require(server.requests.first).text
    #expect(prompt.contains(#"[1] "canvas" at (200, 150) 20x20"#) && prompt.contains(#"[2] "Say 'hi'" at (520, 405) 40x10"#))
    #expect(prompt.contains(#"{"element_id": N}"#))
    #expect(server.requests.allSatisfy { $0.imageURLs.isEmpty && $0.model == "planner-8b" })
    #expect(server.requests[1].text.contains("element_id 9 is not in the element list"))
  }

  @Test func elementNumberWithoutAListIsARecordedFailure() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    let server = try FakeChatServer(replies: [.completion(#"{"action": "click", "target": {"element_id": "1"}}"#)])
    defer { server.stop() }
    var settings = LoopRig.fastSettings()
    settings.maxConsecutiveFailures = 2
    let planner = RemoteTextPlanner(client: ChatClient(endpoint: try ChatEndpoint(baseURL: server.url)), model: "m")
    let outcome = try rig.loop(settings, planner: planner).run(task: "click")
    #expect(outcome.status == .failed)
    let steps = try rig.store.steps(episode: outcome.episodeId)
    #expect(steps.count == 2)
    #expect(steps.allSatisfy { $0.error?.contains("was shown no element list") == true })
    #expect(!(server.requests.first?.text.contains("element_id") ?? true))
  }

  // MARK: - Through `gui-agent serve`

  /// `gui-agent serve` with a model, on a kernel-chosen port; stopped with SIGTERM.
  final class Served {
    let process = Process()
    let url: String
    let modelName: String

    init(model: String) throws {
      process.executableURL = try guiAgentBinary()
      process.arguments = ["serve", "--model", model, "--port", "0", "--json", "--threads", "2", "--no-episodes"]
      let out = Pipe()
      process.standardOutput = out
      process.standardError = FileHandle.nullDevice
      try process.run()
      var first = Data()
      while !first.contains(UInt8(ascii: "\n")) {
        let chunk = out.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        first.append(chunk)
      }
      guard let info = try? JSONSerialization.jsonObject(with: first) as? [String: Any], let port = info["port"] as? Int else {
        process.terminate()
        throw LoopTestError("serve printed no port: \(String(decoding: first, as: UTF8.self))")
      }
      url = "http://127.0.0.1:\(port)/v1"
      modelName = URL(fileURLWithPath: model).lastPathComponent
    }

    func stop() {
      if process.isRunning { process.terminate() }
      process.waitUntilExit()
    }
  }

  static let embeddedModel = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../Models/bluelm-vl-nano").standardized.path

  /// SmolLM2 served by `gui-agent serve` plans a Tk scenario from the task and the screen's OCR
  /// element list; the embedded VLM grounds. What
  /// the tiny planner says is not asserted, only that each step was answered by the server and
  /// recorded with its output, and that the episode ends.
  @Test(.timeLimit(.minutes(10))) func servedSmolLM2PlansAScenario() throws {
    let served = try Served(model: try SmolLM2PlannerTests.smolLM2)
    defer { served.stop() }
    let endpoint = try ChatEndpoint(baseURL: served.url, timeoutSeconds: 300, retries: 1)
    // The planner is shown what Tesseract reads on the Tk window, numbered.
    let planner = RemoteTextPlanner(client: ChatClient(endpoint: endpoint), model: served.modelName, parser: try TesseractParser())
    let locator = try GrounderLocator(model: try ModelLoader.load(path: Self.embeddedModel, threads: 2))
    let (store, result, folder) = try RemotePlannerScenarioTests.run(try RemotePlannerScenarioTests.tkScenario(),
                                                                     planner: planner, maxSteps: 2, locator: locator)
    defer { folder.cleanup() }
    let id = try #require(result.episodeId, "\(result.reason)")
    let episode = try store.episode(id)
    #expect(episode.status != .running)
    #expect(episode.models["planner"] == "\(served.modelName) at \(served.url)/chat/completions")
    let steps = try store.steps(episode: id)
    #expect(!steps.isEmpty && steps.count <= 2)
    #expect(steps.allSatisfy { !$0.rawOutput.isEmpty })
    // The server's usage and the round trip are recorded with the first step of a response.
    let first = try #require(steps.first)
    #expect((first.tokens?.prompt ?? 0) > 50 && (first.latencies["model"] ?? 0) > 0, "\(first)")
    #expect((first.latencies["parse_elements"] ?? 0) >= 1 && (first.latencies["parse"] ?? 0) > 0, "\(first.latencies)")
  }
}
