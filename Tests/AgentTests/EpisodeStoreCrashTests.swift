import Foundation
import Testing
@testable import Agent

// An episode's owning process killed with SIGKILL: reopening finds it `interrupted` with every
// committed step readable, and a write transaction the dead process held leaves no trace.
@Suite(.serialized) struct EpisodeStoreCrashTests {
  private static let sqliteCLI = "/usr/bin/sqlite3"

  /// Steps 0..<3, each with its outcome committed.
  private func writeSteps(_ store: EpisodeStore, episode: Int64) throws {
    for i in 0..<3 {
      let sid = try store.beginStep(episode: episode, index: i, intent: StepIntent(
        started: storeDate(1_764_000_010 + Double(i)), rawOutput: "Action: wait()", action: .wait(seconds: 5),
        screenshot: fakePNG(seed: UInt64(i))))
      try store.finishStep(sid, outcome: StepOutcome(ended: storeDate(1_764_000_010.5 + Double(i)), screenChanged: i % 2 == 0))
    }
  }

  @Test func killedOwnerLeavesAnInterruptedEpisode() throws {
    let tmp = try TempFolder()
    defer { tmp.cleanup() }
    let url = tmp.file("crash.sqlite")
    let owner = Process()
    owner.executableURL = URL(fileURLWithPath: "/bin/sleep")
    owner.arguments = ["30"]
    try owner.run()
    let store = try EpisodeStore(path: url)
    let dead = try store.beginEpisode(task: "killed", models: [:], settings: [String: String](),
                                      pid: owner.processIdentifier)
    let alive = try store.beginEpisode(task: "still running", models: [:], settings: [String: String]())
    try writeSteps(store, episode: dead)

    // While the owner lives, reopening leaves the episode running.
    #expect(try EpisodeStore(path: url).episode(dead).status == .running)
    kill(owner.processIdentifier, SIGKILL)
    owner.waitUntilExit()  // reaps it: a zombie would still answer kill(pid, 0)

    let reopened = try EpisodeStore(path: url)
    let e = try reopened.episode(dead)
    #expect(e.status == .interrupted)
    #expect(e.ended == storeDate(1_764_000_012.5))  // the last recorded activity
    #expect(e.error?.contains("process \(owner.processIdentifier)") == true)
    #expect(try reopened.steps(episode: dead).map(\.index) == [0, 1, 2])
    #expect(try reopened.screenshot(episode: dead, step: 2) == fakePNG(seed: 2))
    #expect(try reopened.episode(alive).status == .running)
  }

  /// The owner is a real writer: the sqlite3 shell, killed while it holds an open write
  /// transaction that inserted a fourth step.
  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: sqliteCLI)))
  func killedWriterMidTransaction() throws {
    let tmp = try TempFolder()
    defer { tmp.cleanup() }
    let url = tmp.file("crash.sqlite")
    var store: EpisodeStore? = try EpisodeStore(path: url)
    let writer = Process()
    writer.executableURL = URL(fileURLWithPath: Self.sqliteCLI)
    writer.arguments = [url.path]
    let input = Pipe()
    writer.standardInput = input
    writer.standardOutput = FileHandle.nullDevice
    writer.standardError = FileHandle.nullDevice
    try writer.run()
    defer { if writer.isRunning { kill(writer.processIdentifier, SIGKILL) } }

    let id = try #require(store).beginEpisode(task: "writer killed", models: [:], settings: [String: String](),
                                              pid: writer.processIdentifier)
    try writeSteps(try #require(store), episode: id)
    let sql = """
      PRAGMA busy_timeout = 5000;
      BEGIN;
      INSERT INTO steps (episode_id, idx, started, raw_output) VALUES (\(id), 3, '2026-01-01T00:00:00.000Z', 'uncommitted');

      """
    input.fileHandleForWriting.write(Data(sql.utf8))

    // Wait until the shell holds the write lock (our BEGIN IMMEDIATE then fails at once).
    let probe = try SQLiteConnection(path: url.path)
    var locked = false
    for _ in 0..<200 where !locked {
      do {
        try probe.execute("BEGIN IMMEDIATE", step: "probe")
        try probe.execute("ROLLBACK", step: "probe")
        usleep(25_000)
      } catch let error as AgentError {
        locked = error.localizedDescription.contains("database is locked")
        if !locked { Issue.record("probe failed otherwise: \(error.localizedDescription)"); break }
      }
    }
    #expect(locked, "the sqlite3 shell never took the write lock")
    kill(writer.processIdentifier, SIGKILL)
    writer.waitUntilExit()
    store = nil

    let reopened = try EpisodeStore(path: url)
    #expect(try reopened.episode(id).status == .interrupted)
    #expect(try reopened.steps(episode: id).map(\.rawOutput) == ["Action: wait()", "Action: wait()", "Action: wait()"])
    // The dead writer's lock is gone: index 3 is free and writable.
    _ = try reopened.beginStep(episode: id, index: 3, intent: StepIntent(rawOutput: "after the crash"))
    #expect(try reopened.steps(episode: id).count == 4)
  }

  /// A live pid whose process started after the episode is not its owner (the pid was reused).
  @Test func reusedPidCountsAsGone() throws {
    let tmp = try TempFolder()
    defer { tmp.cleanup() }
    let url = tmp.file("reuse.sqlite")
    let old = try EpisodeStore(path: url).beginEpisode(task: "from 2000", models: [:], settings: [String: String](),
                                                       pid: getpid(), started: storeDate(946_684_800))
    let e = try EpisodeStore(path: url).episode(old)
    #expect(e.status == .interrupted)
    #expect(e.error?.contains("later process") == true)
  }

  /// /proc's start time of a process we start agrees with our clock.
  @Test func processStartTimeFromProc() throws {
    let before = Date()
    let child = Process()
    child.executableURL = URL(fileURLWithPath: "/bin/sleep")
    child.arguments = ["5"]
    try child.run()
    let after = Date()
    defer { kill(child.processIdentifier, SIGKILL); child.waitUntilExit() }
    let start = try #require(ProcessLiveness.startTime(child.processIdentifier))
    // btime has whole-second resolution, ticks 1/100 s.
    #expect(start.timeIntervalSince(before) > -1.5 && start.timeIntervalSince(after) < 1.5)
    #expect(ProcessLiveness.ownerGone(pid: child.processIdentifier, episodeStarted: after) == nil)
    #expect(ProcessLiveness.ownerGone(pid: 0, episodeStarted: after) != nil)
  }
}
