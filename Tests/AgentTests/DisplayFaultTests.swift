import Engine
import Foundation
import Testing
import TestSupport
@testable import Agent

/// The X server killed (SIGKILL) under a running `gui-agent run`: the episode must end `failed`
/// with a reason naming the lost connection to the display, the process must exit by itself
/// with status 1 (not by a signal: libxcb writing to the dead socket could raise SIGPIPE, which
/// the CLI ignores), and the store must be sound with every step's outcome written.
@Suite(.serialized) struct DisplayFaultTests {
  /// Kills the Xvfb during a 30 s wait: the wait's watch notices at its next 50 ms slice.
  @Test func xServerKilledDuringAWaitFailsTheEpisodeNamingTheDisplay() throws {
    let rig = try AppsRig()
    defer { rig.stop() }
    let store = rig.folder.file("display.sqlite")
    let planFile = rig.folder.file("plan.json")
    try writePlan([#"{"action": "click", "target": {"point": [200, 150]}}"#, #"{"action": "wait", "seconds": 0.1}"#,
                   #"{"action": "type", "text": "abc"}"#, #"{"action": "wait", "seconds": 30}"#,
                   #"{"action": "click", "target": {"point": [100, 100]}}"#], to: planFile)
    let child = try startAgent(task: "server dies", plan: planFile, store: store, display: rig.xvfb.display, folder: rig.folder)
    // Until the long wait's intent is committed (the fourth step).
    let limit = Date().addingTimeInterval(60)
    var stepsSeen = 0
    while stepsSeen < 4, Date() < limit {
      Thread.sleep(forTimeInterval: 0.05)
      if FileManager.default.fileExists(atPath: store.path) {
        stepsSeen = (try? EpisodeStore(path: store).episodes().first?.stepCount) ?? 0
      }
    }
    #expect(stepsSeen == 4)
    let killedAt = ContinuousClock.now
    kill(rig.xvfb.process.processIdentifier, SIGKILL)
    child.process.waitUntilExit()
    let took = (ContinuousClock.now - killedAt).seconds
    #expect(child.process.terminationReason == .exit && child.process.terminationStatus == 1,
            "\(child.process.terminationReason) \(child.process.terminationStatus): \(text(child.stderr))")
    #expect(took < 10, "the run took \(took) s to notice the X server was gone")
    print("DisplayFaultTests: the run exited \(String(format: "%.2f", took)) s after the X server was killed")
    let lost = "lost the connection to X display '\(rig.xvfb.display)'"
    #expect(text(child.stdout).contains(lost), "\(text(child.stdout))")

    #expect(try integrityCheck(store) == ["ok"])
    let s = try EpisodeStore(path: store)
    let episode = try #require(try s.episodes().first)
    let record = try s.episode(episode.id)
    #expect(record.status == .failed)
    #expect(record.error?.contains(lost) == true, "\(record.error ?? "")")
    let steps = try s.steps(episode: episode.id)
    #expect(steps.count == 4 && steps.allSatisfy { $0.ended != nil })
    #expect(steps[3].error?.contains(lost) == true, "\(steps[3].error ?? "")")
    try checkEpisode(s, episode.id)
  }

  /// Kills the Xvfb at seeded random moments of a short episode (opening the display, captures,
  /// clicks, typing, waits): whatever was running, the process exits by itself (0 when it
  /// finished first, 1 otherwise), and the store holds no running episode and no step without
  /// its outcome.
  @Test func xServerKilledAtRandomPoints() throws {
    var rng = SplitMix64(seed: 0x58_6B69_6C6C)  // "Xkill"
    let actions = [#"{"action": "click", "target": {"point": [200, 150]}}"#, #"{"action": "type", "text": "hello there"}"#,
                   #"{"action": "wait", "seconds": 0.2}"#, #"{"action": "click", "target": {"point": [420, 60]}}"#,
                   #"{"action": "hotkey", "keys": ["ctrl", "a"]}"#, #"{"action": "wait", "seconds": 0.2}"#,
                   #"{"action": "click", "target": {"point": [60, 400]}}"#]
    var endings: [String: Int] = [:]
    for round in 0..<10 {
      let rig = try AppsRig()
      defer { rig.stop() }
      let store = rig.folder.file("display.sqlite")
      let planFile = rig.folder.file("plan.json")
      try writePlan(actions, to: planFile)
      let child = try startAgent(task: "round \(round)", plan: planFile, store: store, display: rig.xvfb.display,
                                 folder: rig.folder)
      Thread.sleep(forTimeInterval: 1.5 * Double(rng.next() % 1001) / 1000)
      kill(rig.xvfb.process.processIdentifier, SIGKILL)
      child.process.waitUntilExit()
      let status = child.process.terminationStatus
      #expect(child.process.terminationReason == .exit && [0, 1].contains(status),
              "round \(round): \(child.process.terminationReason) \(status): \(text(child.stderr))")
      guard FileManager.default.fileExists(atPath: store.path),
            let episode = try EpisodeStore(path: store).episodes().first else {
        // Killed before the episode began: the display could not be opened.
        #expect(text(child.stderr).contains("X display '\(rig.xvfb.display)'"), "\(text(child.stderr))")
        endings["before the episode", default: 0] += 1
        continue
      }
      #expect(try integrityCheck(store) == ["ok"])
      let s = try EpisodeStore(path: store)
      let record = try s.episode(episode.id)
      #expect(record.status == (status == 0 ? .succeeded : .failed), "round \(round): \(record.status)")
      if record.status == .failed {
        #expect(record.error?.contains("X display '\(rig.xvfb.display)'") == true, "round \(round): \(record.error ?? "")")
      }
      #expect(try s.steps(episode: episode.id).allSatisfy { $0.ended != nil }, "round \(round)")
      try checkEpisode(s, episode.id, plan: actions)
      endings["\(record.status) after \(episode.stepCount) steps", default: 0] += 1
    }
    print("DisplayFaultTests: X server killed in 10 runs: \(endings.sorted { $0.key < $1.key })")
  }
}
