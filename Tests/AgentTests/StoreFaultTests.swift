import Foundation
import Testing
import TestSupport
@testable import Agent

/// The episode store when it cannot be written: a full disk (a small tmpfs; without mount,
/// SQLite's `max_page_count`, which raises the same SQLITE_FULL), and a read-only store (the
/// tmpfs remounted read-only; a file the running user may not write). The run must stop with an
/// error naming the file and the problem (`gui-agent run` exits 4) and leave what was committed
/// intact. Runs killed at random points: StoreFaultTests+Kill.swift.
@Suite(.serialized) struct StoreFaultTests {
  static let setpriv = "/usr/bin/setpriv"
  static let nobody = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]

  /// Clicks on the Tk canvas, each drawing a square, so that every screenshot differs.
  static func clicks(_ n: Int) -> [String] {
    (0..<n).map { i in #"{"action": "click", "target": {"point": [\#(20 + (i * 37) % 360), \#(20 + (i * 23) % 260)]}}"# }
  }

  /// Runs `plan` to its end as a child; returns its exit status and standard error.
  private func run(_ plan: [String], _ rig: AppsRig, store: URL, task: String = "task",
                   prefix: [String] = []) throws -> (status: Int32, stderr: String) {
    let planFile = rig.folder.file("plan-\(UUID().uuidString).json")
    try writePlan(plan, to: planFile)
    let child = try startAgent(task: task, plan: planFile, store: store, display: rig.xvfb.display, folder: rig.folder,
                               extra: ["--max-steps", "1000"], prefix: prefix)
    child.process.waitUntilExit()
    #expect(child.process.terminationReason == .exit, "killed by signal \(child.process.terminationStatus)")
    return (child.process.terminationStatus, text(child.stderr))
  }

  /// Opens the store, checks it whole, and returns each episode's fingerprint by id.
  private func fingerprints(_ url: URL, plans: [Int64: [String]] = [:]) throws -> [Int64: [Int]] {
    #expect(try integrityCheck(url) == ["ok"])
    let store = try EpisodeStore(path: url)
    var result: [Int64: [Int]] = [:]
    for e in try store.episodes() { result[e.id] = try checkEpisode(store, e.id, plan: plans[e.id]) }
    return result
  }

  // MARK: - Full

  @Test(.enabled(if: Tmpfs.available)) func fullDiskStopsTheRunAndKeepsWhatWasCommitted() throws {
    let rig = try AppsRig()
    defer { rig.stop() }
    let disk = try Tmpfs(size: "1m")
    defer { disk.unmount() }
    let url = disk.file("episodes.sqlite")
    #expect(try run(Self.clicks(2), rig, store: url).status == 0)
    let before = try fingerprints(url, plans: [1: Self.clicks(2)])

    // A long episode fills the disk: status 4, the file and the problem named.
    let long = Self.clicks(400)
    let full = try run(long, rig, store: url)
    #expect(full.status == 4, "\(full.stderr)")
    #expect(full.stderr.contains("episode store \(url.path) is full"), "\(full.stderr)")
    // Still full: the store opens, is sound, the first episode is as it was, the second ended
    // (failed, naming the full store, or interrupted when even that write did not fit).
    var after = try fingerprints(url, plans: [1: Self.clicks(2), 2: long])
    #expect(after.removeValue(forKey: 1) == before[1])
    let second = try EpisodeStore(path: url).episode(2)
    #expect([.failed, .interrupted].contains(second.status))
    if second.status == .failed { #expect(second.error?.contains("is full") == true, "\(second.error ?? "")") }
    #expect(second.stepCount >= 1)
    print("StoreFaultTests: a 1 MiB tmpfs filled at step \(second.stepCount) of the second episode (\(second.status)): "
          + full.stderr.trimmingCharacters(in: .whitespacesAndNewlines))

    // Another run fails at once the same way; once space is freed, runs record again.
    let again = try run(Self.clicks(1), rig, store: url)
    #expect(again.status == 4 && again.stderr.contains("is full"), "\(again.stderr)")
    try disk.remount("rw,size=16m")
    #expect(try run(Self.clicks(1), rig, store: url, task: "after freeing space").status == 0)
    let final = try fingerprints(url)
    #expect(final[1] == before[1])
    #expect(try EpisodeStore(path: url).episodes().last?.task == "after freeing space")
  }

  /// The same SQLITE_FULL without mount: the loop's own connection limited to a few more pages.
  @Test func pageLimitGivesTheSameStoreFullError() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    var settings = LoopRig.fastSettings()
    settings.settleSeconds = 0.02
    settings.maxSteps = 1000
    let short = Self.clicks(2), long = Self.clicks(300)
    let first = try rig.loop(settings).run(task: "fits", plan: plan(planJSON(short)))
    #expect(first.status == .succeeded)
    let before = try checkEpisode(rig.store, first.episodeId, plan: short)
    try rig.store.withConnection { db in
      let pages = try db.query("PRAGMA page_count", step: "page_count") { $0.int(0) }.first ?? 0
      try db.query("PRAGMA max_page_count = \(pages + 8)", step: "max_page_count") { _ in () }
    }
    do {
      let outcome = try rig.loop(settings).run(task: "overflows", plan: plan(planJSON(long)))
      Issue.record("the run ended \(outcome.status) without filling the store")
    } catch let AgentError.storeFull(path, step) {
      #expect(path == rig.store.url.path)
      #expect(step.hasPrefix("beginning step") || step.hasPrefix("finishing the step"), "\(step)")
      #expect(AgentError.storeFull(path: path, step: step).localizedDescription.contains("episode store \(path) is full"))
    }
    // Another connection (no limit): sound, the first episode unchanged, the second failed
    // naming the full store, its committed steps readable.
    #expect(try integrityCheck(rig.store.url) == ["ok"])
    let reopened = try EpisodeStore(path: rig.store.url)
    #expect(try checkEpisode(reopened, first.episodeId, plan: short) == before)
    let second = try #require(try reopened.episodes().last)
    #expect(second.status == .failed && second.stepCount >= 1)
    #expect(try reopened.episode(second.id).error?.contains("is full") == true)
    try checkEpisode(reopened, second.id, plan: long)
  }

  // MARK: - Read-only

  @Test(.enabled(if: Tmpfs.available)) func readOnlyFileSystemRefusesTheRun() throws {
    let rig = try AppsRig()
    defer { rig.stop() }
    let disk = try Tmpfs(size: "4m")
    defer { disk.unmount() }
    let url = disk.file("episodes.sqlite")
    #expect(try run(Self.clicks(2), rig, store: url).status == 0)
    let before = try fingerprints(url)
    try disk.remount("ro")
    try expectRefused(rig, url)
    try disk.remount("rw")
    #expect(try fingerprints(url) == before)
  }

  /// As root, chmod does not stop writes: the child runs as nobody (setpriv). First a store in a
  /// folder nobody may not write (root's file and folder), then nobody's own file made 0444.
  @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: setpriv)))
  func storeNotWritableByTheUserRefusesTheRun() throws {
    let rig = try AppsRig()
    defer { rig.stop() }
    let folder = try TempFolder()
    defer { folder.cleanup() }
    let url = folder.file("episodes.sqlite")
    #expect(try run(Self.clicks(2), rig, store: url).status == 0)
    let before = try fingerprints(url)
    try expectRefused(rig, url, prefix: Self.nobody)
    #expect(try fingerprints(url) == before)

    for path in [folder.url.path, url.path] { chown(path, 65534, 65534) }
    chmod(url.path, 0o444)
    try expectRefused(rig, url, prefix: Self.nobody)
    #expect(try fingerprints(url) == before)
  }

  @Test(.enabled(if: getuid() != 0)) func chmodReadOnlyStoreRefusesTheRun() throws {
    let rig = try AppsRig()
    defer { rig.stop() }
    let url = rig.folder.file("episodes.sqlite")
    #expect(try run(Self.clicks(2), rig, store: url).status == 0)
    let before = try fingerprints(url)
    chmod(url.path, 0o444)
    try expectRefused(rig, url)
    chmod(url.path, 0o644)
    #expect(try fingerprints(url) == before)
  }

  /// A run on a store it may not write: status 4, the path and "read-only" named, nothing added.
  private func expectRefused(_ rig: AppsRig, _ url: URL, prefix: [String] = []) throws {
    let refused = try run(Self.clicks(1), rig, store: url, prefix: prefix)
    #expect(refused.status == 4, "\(refused.stderr)")
    #expect(refused.stderr.contains("episode store \(url.path) is read-only"), "\(refused.stderr)")
  }
}
