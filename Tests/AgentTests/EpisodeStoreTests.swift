import Foundation
import Synchronization
import Testing
@testable import Agent

@Suite struct EpisodeStoreTests {
  @Test func fullRoundTrip() throws {
    let tmp = try TempFolder()
    defer { tmp.cleanup() }
    let url = tmp.url.appendingPathComponent("nested/deeper/episodes.sqlite")
    let store = try EpisodeStore(path: url)
    let settings = TestSettings(maxSteps: 15, grammar: "ui-tars")
    let id = try store.beginEpisode(task: "Save the report", models: ["planner": "ui-tars-1.5", "grounder": "bluelm"],
                                    settings: settings, started: storeDate(1_764_000_000.125))
    let before0 = fakePNG(seed: 1), after0 = fakePNG(seed: 2), before1 = fakePNG(seed: 3)
    let intent0 = StepIntent(started: storeDate(1_764_000_001.5), reasoning: "Click Save.",
                             rawOutput: "Thought: Click Save.\nAction: click(start_box='(10,20)')",
                             action: .click(.at(10, 20)), groundedPoint: GroundedPoint(x: 123.5, y: 456),
                             screenshot: before0, tokens: TokenCounts(prompt: 1200, completion: 31),
                             latencies: ["capture": 3.5, "model": 900])
    let s0 = try store.beginStep(episode: id, index: 0, intent: intent0)
    try store.finishStep(s0, outcome: StepOutcome(ended: storeDate(1_764_000_002.25), screenChanged: true,
                                                  latencies: ["action": 40, "model": 901], screenshotAfter: after0))
    let s1 = try store.beginStep(episode: id, index: 1, intent: StepIntent(
      started: storeDate(1_764_000_003), rawOutput: "Action: finished(content='done')",
      action: .finished(summary: "done"), screenshot: before1))
    try store.finishStep(s1, outcome: StepOutcome(ended: storeDate(1_764_000_003.5), screenChanged: false))
    try store.finishEpisode(id: id, status: .succeeded, summary: "done", ended: storeDate(1_764_000_004))

    // Read through a second connection: everything was committed to the file.
    let reopened = try EpisodeStore(path: url)
    #expect(try reopened.episodes() == [EpisodeSummary(id: id, task: "Save the report", status: .succeeded, stepCount: 2,
                                                       started: storeDate(1_764_000_000.125), ended: storeDate(1_764_000_004))])
    let e = try reopened.episode(id)
    #expect(e.models == ["planner": "ui-tars-1.5", "grounder": "bluelm"])
    #expect(try e.settings(as: TestSettings.self) == settings)
    #expect(e.pid == getpid() && e.summary == "done" && e.error == nil && e.stepCount == 2)

    let steps = try reopened.steps(episode: id)
    #expect(steps.count == 2)
    let st = steps[0]
    #expect(st.id == s0 && st.index == 0 && st.episodeID == id)
    #expect(st.started == storeDate(1_764_000_001.5) && st.ended == storeDate(1_764_000_002.25))
    #expect(st.reasoning == "Click Save." && st.rawOutput == intent0.rawOutput)
    #expect(st.action == .click(.at(10, 20)) && st.actionJSON == JSONActionGrammar.serialize(.click(.at(10, 20))))
    #expect(st.groundedPoint == GroundedPoint(x: 123.5, y: 456) && st.screenChanged == true)
    #expect(st.latencies == ["capture": 3.5, "model": 901, "action": 40])
    #expect(st.tokens == TokenCounts(prompt: 1200, completion: 31) && st.error == nil)
    #expect(st.screenshotBeforeBytes == before0.count && st.screenshotAfterBytes == after0.count)
    #expect(steps[1].screenChanged == false && steps[1].screenshotAfterBytes == 0 && steps[1].tokens == nil)

    #expect(try reopened.screenshot(episode: id, step: 0) == before0)
    #expect(try reopened.screenshot(episode: id, step: 0, moment: .after) == after0)
    #expect(try reopened.screenshot(episode: id, step: 1, moment: .after) == nil)
    #expect(throws: AgentError.stepNotFound(episode: id, index: 7)) { try reopened.screenshot(episode: id, step: 7) }

    try reopened.delete(episode: id)
    #expect(try reopened.episodes().isEmpty)
    #expect(throws: AgentError.episodeNotFound(id)) { try reopened.episode(id) }
    #expect(throws: AgentError.episodeNotFound(id)) { try reopened.delete(episode: id) }
    #expect(throws: AgentError.stepNotFound(episode: id, index: 0)) { try reopened.screenshot(episode: id, step: 0) }
  }

  @Test func stepWithIntentOnlyIsReadable() throws {
    let tmp = try TempFolder()
    defer { tmp.cleanup() }
    let store = try EpisodeStore(path: tmp.file("e.sqlite"))
    let id = try store.beginEpisode(task: "t", models: [:], settings: [String: String]())
    let shot = fakePNG(seed: 9)
    _ = try store.beginStep(episode: id, index: 0, intent: StepIntent(
      reasoning: "drag it", rawOutput: "raw", action: .drag(from: .at(1, 2), to: .element("Trash")),
      groundedPoint: GroundedPoint(x: 5, y: 6), screenshot: shot, latencies: ["model": 12]))
    let step = try #require(try EpisodeStore(path: tmp.file("e.sqlite")).steps(episode: id).first)
    #expect(step.ended == nil && step.screenChanged == nil && step.error == nil)
    #expect(step.action == .drag(from: .at(1, 2), to: .element("Trash")) && step.reasoning == "drag it")
    #expect(step.groundedPoint == GroundedPoint(x: 5, y: 6) && step.latencies == ["model": 12])
    #expect(try store.screenshot(episode: id, step: 0) == shot)
  }

  @Test func statementErrorsNameTheStep() throws {
    let tmp = try TempFolder()
    defer { tmp.cleanup() }
    let store = try EpisodeStore(path: tmp.file("e.sqlite"))
    let id = try store.beginEpisode(task: "t", models: [:], settings: [String: String]())
    _ = try store.beginStep(episode: id, index: 0, intent: StepIntent(rawOutput: "x"))
    func message(_ body: () throws -> Void) -> String {
      do { try body(); return "" } catch { return error.localizedDescription }
    }
    let duplicate = message { _ = try store.beginStep(episode: id, index: 0, intent: StepIntent(rawOutput: "y")) }
    #expect(duplicate.contains("beginning step 0 of episode \(id)") && duplicate.contains("UNIQUE"))
    let orphan = message { _ = try store.beginStep(episode: 999, index: 0, intent: StepIntent(rawOutput: "y")) }
    #expect(orphan.contains("episode 999") && orphan.contains("FOREIGN KEY"))
    #expect(message { try store.finishStep(12345, outcome: StepOutcome()) }.contains("no step with id 12345"))
    #expect(throws: AgentError.episodeNotFound(77)) { try store.finishEpisode(id: 77, status: .failed) }
    #expect(throws: AgentError.episodeNotFound(77)) { try store.steps(episode: 77) }
  }

  @Test func defaultLocation() {
    #expect(EpisodeStore.defaultURL(environment: ["XDG_DATA_HOME": "/data", "HOME": "/home/u"]).path
      == "/data/gui-agent/episodes.sqlite")
    #expect(EpisodeStore.defaultURL(environment: ["XDG_DATA_HOME": "relative", "HOME": "/home/u"]).path
      == "/home/u/.local/share/gui-agent/episodes.sqlite")
    #expect(EpisodeStore.defaultURL(environment: ["HOME": "/home/u"]).path == "/home/u/.local/share/gui-agent/episodes.sqlite")
  }
}

@Suite struct EpisodeStoreConcurrencyTests {
  /// Two connections (two stores on one file, as the agent and the CLI would be) and several
  /// threads per store write at once: busy_timeout and the store's lock keep every write.
  /// Several processes may open a store that does not exist yet at the same moment (two runs,
  /// or a run and `episodes list`): each must find the schema made once, not fail on the other's
  /// CREATE TABLE. Separate stores in one process are separate connections, so threads race the
  /// same way processes do.
  @Test func concurrentFirstOpensAllSucceed() throws {
    let tmp = try TempFolder()
    defer { tmp.cleanup() }
    for round in 0..<20 {
      let url = tmp.file("fresh\(round).sqlite")
      let failures = Mutex([String]())
      DispatchQueue.concurrentPerform(iterations: 6) { _ in
        do {
          let store = try EpisodeStore(path: url)
          _ = try store.episodes()
        } catch {
          failures.withLock { $0.append(error.localizedDescription) }
        }
      }
      #expect(failures.withLock { $0 } == [], "round \(round)")
      let db = try SQLiteConnection(path: url.path)
      #expect(try StoreSchema.userVersion(db) == StoreSchema.currentVersion)
    }
  }

  @Test func concurrentWritersLoseNothing() throws {
    let tmp = try TempFolder()
    defer { tmp.cleanup() }
    let stores = [try EpisodeStore(path: tmp.file("c.sqlite")), try EpisodeStore(path: tmp.file("c.sqlite"))]
    let ids = try (0..<4).map { try stores[$0 % 2].beginEpisode(task: "e\($0)", models: [:], settings: [String: String]()) }
    let failures = Mutex([String]())
    DispatchQueue.concurrentPerform(iterations: 4) { e in
      for i in 0..<15 {
        do {
          let s = try stores[e % 2].beginStep(episode: ids[e], index: i, intent: StepIntent(rawOutput: "\(e).\(i)"))
          try stores[(e + 1) % 2].finishStep(s, outcome: StepOutcome(screenChanged: true))
        } catch {
          failures.withLock { $0.append(error.localizedDescription) }
        }
      }
    }
    #expect(failures.withLock { $0 } == [])
    for (e, id) in ids.enumerated() {
      let steps = try stores[0].steps(episode: id)
      #expect(steps.map(\.rawOutput) == (0..<15).map { "\(e).\($0)" })
      #expect(steps.allSatisfy { $0.screenChanged == true })
    }
  }
}
