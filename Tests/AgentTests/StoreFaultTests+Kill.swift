import Engine
import Foundation
import Testing
import TestSupport
@testable import Agent

// 200 `gui-agent run` processes writing into ONE store, each killed with SIGKILL at a seeded
// random moment between its start and its expected end (start-up and opening the store,
// captures, PNG encoding, the intent and outcome writes, the actions themselves; `killDelay`). After each
// kill the store must open, pass `PRAGMA integrity_check`, hold no `running` episode, and give
// back every step whose outcome was committed, screenshots included; earlier episodes must read
// back exactly as they did.
extension StoreFaultTests {
  static let killRuns = 200
  static let killSeed: UInt64 = 0x6B69_6C6C  // "kill"

  @Test func runsKilledAtRandomPointsLeaveASoundStore() throws {
    let rig = try AppsRig()
    defer { rig.stop() }
    let clock = ContinuousClock()
    let began = clock.now
    // Calibration on a store of its own: start-up (a plan that only finishes; the faster of two,
    // the first may load the binary from disk) and the cost of one click step beyond it; a
    // plan's expected length follows from its actions.
    let calibration = rig.folder.file("calibration.sqlite")
    let startup = try (0..<2).map { _ in try timedRun([Self.action("finished")], rig, calibration) }.min() ?? 0.5
    let sixClicks = try timedRun(Array(repeating: Self.action("click"), count: 6), rig, calibration)
    let perStep = max(0.01, (sixClicks - startup) / 6)

    let storeURL = rig.folder.file("kills.sqlite")
    var rng = SplitMix64(seed: Self.killSeed)
    var known: [Int64: (plan: [String], fingerprint: [Int])] = [:]
    var landed: [String: Int] = [:]
    for run in 0..<Self.killRuns {
      let plan = Self.randomPlan(&rng)
      let planFile = rig.folder.file("plan-\(run).json")
      try writePlan(plan, to: planFile)
      let expected = startup + plan.reduce(0) { $0 + perStep + Self.extraSeconds($1) }
      let delay = Self.killDelay(fraction: Double(rng.next() % 1001) / 1000, startup: startup, expected: expected)
      let t0 = clock.now
      let child = try startAgent(task: "kill \(run)", plan: planFile, store: storeURL, display: rig.xvfb.display,
                                 folder: rig.folder)
      // Sleep in 5 ms slices, so that a run that ends first is not waited for.
      while child.process.isRunning, case let left = delay - (clock.now - t0).seconds, left > 0 {
        Thread.sleep(forTimeInterval: min(0.005, left))
      }
      if child.process.isRunning { kill(child.process.processIdentifier, SIGKILL) }
      child.process.waitUntilExit()
      let killed = child.process.terminationReason == .uncaughtSignal
      if !killed {
        #expect(child.process.terminationStatus == 0, "run \(run) ended by itself but failed: \(text(child.stderr))")
      }
      try? FileManager.default.removeItem(at: child.stdout)
      try? FileManager.default.removeItem(at: child.stderr)

      // The store as the next reader finds it (opening marks the dead owner's episode).
      let store = try EpisodeStore(path: storeURL)
      #expect(try integrityCheck(storeURL) == ["ok"], "run \(run)")
      let episodes = try store.episodes()
      #expect(episodes.allSatisfy { $0.status != .running }, "run \(run): an episode stays running")
      let fresh = episodes.filter { known[$0.id] == nil }
      #expect(fresh.count <= 1, "run \(run) left \(fresh.count) episodes")
      if let e = fresh.first {
        #expect(e.task == "kill \(run)")
        // A kill after the episode's end (writing the trace, exiting) finds it succeeded.
        #expect(e.status == .succeeded || (killed && e.status == .interrupted), "run \(run): \(e.status)")
        known[e.id] = (plan, try checkEpisode(store, e.id, plan: plan))
        landed[Self.whereItLanded(e, try store.steps(episode: e.id)), default: 0] += 1
      } else {
        landed["before the episode was recorded (start-up, opening the store)", default: 0] += 1
      }
      // Every 50 runs, every earlier episode reads back as it did.
      if run % 50 == 49 || run == Self.killRuns - 1 {
        for (id, record) in known {
          #expect(try checkEpisode(store, id, plan: record.plan) == record.fingerprint, "episode \(id) changed")
        }
      }
    }
    let seconds = (clock.now - began).seconds
    let size = (try? FileManager.default.attributesOfItem(atPath: storeURL.path)[.size] as? Int) ?? 0
    print("""
      StoreFaultTests: \(Self.killRuns) runs killed in \(String(format: "%.1f", seconds)) s \
      (start-up \(String(format: "%.2f", startup)) s, \(String(format: "%.3f", perStep)) s per step), \
      \(known.count) episodes, store \(size / 1024) KiB; kills landed: \(landed.sorted { $0.key < $1.key })
      """)
  }

  // MARK: - Plans

  /// 2 to 6 actions over the applications (clicks away from the fail-safe corners, short waits,
  /// lowercase typing with no Return so the xterm runs nothing, harmless keys), half of the plans
  /// ending with `finished`.
  static func randomPlan(_ rng: inout SplitMix64) -> [String] {
    let keys = ["BackSpace", "Escape", "Left", "Right", "End", "ctrl+a"]
    var actions: [String] = []
    for _ in 0..<(2 + Int(rng.next() % 5)) {
      switch rng.next() % 4 {
      case 0:
        actions.append(#"{"action": "click", "target": {"point": [\#(20 + rng.next() % 600), \#(20 + rng.next() % 440)]}}"#)
      case 1:
        actions.append(#"{"action": "wait", "seconds": \#(String(format: "%.2f", 0.02 + Double(rng.next() % 29) / 100))}"#)
      case 2:
        let letters = (0..<(1 + Int(rng.next() % 6))).map { _ in Character(UnicodeScalar(UInt8(97 + rng.next() % 26))) }
        actions.append(#"{"action": "type", "text": "\#(String(letters))"}"#)
      default:
        actions.append(#"{"action": "hotkey", "keys": ["\#(keys[Int(rng.next() % UInt64(keys.count))])"]}"#)
      }
    }
    if rng.next() % 2 == 0 { actions.append(action("finished")) }
    return actions
  }

  /// When to kill a run expected to take `expected` seconds, of which `startup` pass before the
  /// first step: the first quarter of the fractions spreads over start-up (loading, opening the
  /// store and the display), the rest over the steps and the end, so that most kills land
  /// while steps are written rather than while the binary loads.
  static func killDelay(fraction u: Double, startup: Double, expected: Double) -> Double {
    let stepsFrom = 0.8 * startup
    return u < 0.25 ? u / 0.25 * stepsFrom : stepsFrom + (u - 0.25) / 0.75 * (expected - stepsFrom)
  }

  /// A fixed action of a kind, for calibration.
  static func action(_ kind: String) -> String {
    kind == "click" ? #"{"action": "click", "target": {"point": [200, 150]}}"# : #"{"action": "\#(kind)"}"#
  }

  /// Seconds an action takes beyond a click's cost: its wait, or about 12 ms per typed key.
  static func extraSeconds(_ action: String) -> Double {
    guard let object = try? JSONSerialization.jsonObject(with: Data(action.utf8)) as? [String: Any] else { return 0 }
    if let seconds = object["seconds"] as? Double { return seconds }
    if let text = object["text"] as? String { return 0.012 * Double(text.count) }
    return 0
  }

  /// Where in the run the kill landed, as the store tells it.
  static func whereItLanded(_ e: EpisodeSummary, _ steps: [StepRecord]) -> String {
    if e.status == .succeeded { return "after the end (the run finished first)" }
    guard let last = steps.last else { return "after the episode began, before its first step" }
    if last.ended == nil { return "during an action, its settle or the capture after it" }
    return "between steps (capture, PNG encoding, the next intent)"
  }

  /// Seconds one unkilled run of `actions` takes, start to exit.
  private func timedRun(_ actions: [String], _ rig: AppsRig, _ store: URL) throws -> Double {
    let planFile = rig.folder.file("calibration-\(actions.count).json")
    try writePlan(actions, to: planFile)
    let clock = ContinuousClock()
    let t0 = clock.now
    let child = try startAgent(task: "calibration", plan: planFile, store: store, display: rig.xvfb.display, folder: rig.folder)
    child.process.waitUntilExit()
    #expect(child.process.terminationStatus == 0, "calibration run: \(text(child.stderr))")
    return (clock.now - t0).seconds
  }
}
