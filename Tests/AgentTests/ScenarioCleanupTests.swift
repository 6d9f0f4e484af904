import Foundation
import Testing
import TestSupport
@testable import Agent

/// A scenario's processes end with it: an app started through a shell wrapper whose child
/// outlives the wrapper cannot hold the run past its timeout, and a runner killed with kill -9
/// takes its Xvfb and apps down and leaves only a folder that the next run removes.
@Suite(.serialized) struct ScenarioCleanupTests {
  /// A scenario whose app is `sh` running `sleep 6NN` in the background and an xmessage, after
  /// writing its pid to `pidFile`; its plan of short waits outlasts `timeout`.
  static func stuckScenario(marker: Int, timeout: Int, pidFile: URL) throws -> Data {
    let script = "echo $$ > '\(pidFile.path)'; sleep \(marker) & xmessage -title stuck-\(marker) hello; wait"
    let object: [String: Any] = [
      "name": "stuck", "task": "t", "timeout": timeout, "check": "true",
      "apps": [["command": ["/bin/sh", "-c", script], "ready": ["window": "stuck-\(marker)"]]],
      "plan": ["steps": Array(repeating: ["action": ["action": "wait", "seconds": 0.5]], count: 4 * timeout + 40)],
    ]
    return try JSONSerialization.data(withJSONObject: object)
  }

  @Test func aWrapperWhoseChildOutlivesItCannotHoldTheRun() throws {
    let folder = try TempFolder()
    defer { folder.cleanup() }
    let marker = Int.random(in: 601...699)
    let source = folder.file("stuck.json")
    let pidFile = folder.file("sh.pid")
    let scenario = try Scenario.decode(try Self.stuckScenario(marker: marker, timeout: 4, pidFile: pidFile), source: source)
    let run = RunBox(runner: ScenarioRunner(store: try EpisodeStore(path: folder.file("episodes.sqlite"))))
    // On a thread of its own, so that a run that never returns fails the test instead of hanging it.
    let done = DispatchSemaphore(value: 0)
    let start = Date()
    Thread { run.result = run.runner.run(scenario); done.signal() }.start()
    let group = Procs.group(of: pidFile, seconds: 4)
    guard done.wait(timeout: .now() + 4 + 15) == .success else {
      Issue.record("the run did not return within its 4 s timeout + 15 s")
      return
    }
    let result = try #require(run.result)
    #expect(!result.passed && result.reason.contains("timeout"), "\(result.reason)")
    #expect(Date().timeIntervalSince(start) < 4 + 15)

    // The wrapper, the server and the group's guard were direct children: reaped, so not even
    // a zombie of them is left.
    let members = try #require(group, "the scenario's group was not seen while it ran")
    #expect(Set(members.map(\.comm)).isSuperset(of: ["sh", "Xvfb", "scenario-guard", "sleep", "xmessage"]), "\(members)")
    for m in members where m.ppid == getpid() {
      #expect(kill(m.pid, 0) == -1 && errno == ESRCH, "\(m) is still there: \(Procs.info(m.pid).map { "\($0)" } ?? "")")
    }
    // The grandchildren died with the group (a zombie's command line is empty: init may not reap).
    #expect(Procs.live(args: ["sleep", "\(marker)"]).isEmpty)
    #expect(Procs.live(args: ["xmessage", "-title", "stuck-\(marker)", "hello"]).isEmpty)
  }

  @Test func killingTheRunnerTakesItsProcessesDownAndTheNextRunRemovesItsFolder() throws {
    let folder = try TempFolder()
    defer { folder.cleanup() }
    let tmp = folder.file("tmp")  // the runners' TMPDIR: their folders land here
    try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    let marker = Int.random(in: 601...699)
    let source = folder.file("stuck.json")
    let pidFile = folder.file("sh.pid")
    try Self.stuckScenario(marker: marker, timeout: 60, pidFile: pidFile).write(to: source)
    let environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": tmp.path]) { $1 }
    let store = folder.file("episodes.sqlite").path

    let runner = Process()
    runner.executableURL = try guiAgentBinary()
    runner.arguments = ["scenario", "run", source.path, "--store", store]
    runner.environment = environment
    runner.standardOutput = FileHandle.nullDevice
    runner.standardError = FileHandle.nullDevice
    try runner.run()
    defer { if runner.isRunning { kill(runner.processIdentifier, SIGKILL) } }
    let runnerPID = runner.processIdentifier
    var xvfb: pid_t = 0
    let up = poll(seconds: 30) {
      xvfb = Procs.all().first { $0.ppid == runnerPID && $0.comm == "Xvfb" }?.pid ?? 0
      return xvfb > 0 && !Procs.live(args: ["sleep", "\(marker)"]).isEmpty
        && !Procs.live(args: ["xmessage", "-title", "stuck-\(marker)", "hello"]).isEmpty
    }
    try #require(up, "the scenario's app did not come up")
    let sh = try #require(pid_t(try String(contentsOf: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
    kill(runnerPID, SIGKILL)
    runner.waitUntilExit()
    let gone = poll(seconds: 5) {
      Procs.live(args: ["sleep", "\(marker)"]).isEmpty && Procs.live(args: ["xmessage", "-title", "stuck-\(marker)", "hello"]).isEmpty
        && !Procs.isLive(xvfb, comm: "Xvfb") && !Procs.isLive(sh, comm: "sh")
    }
    #expect(gone, "left running: \([xvfb, sh].compactMap { Procs.info($0) }.filter { $0.state != "Z" })")

    // kill -9 skipped the clean-up: the folder is left, named for the dead runner.
    let names = try FileManager.default.contentsOfDirectory(atPath: tmp.path)
    let left = names.filter { ScenarioFolders.owner(of: $0)?.pid == runnerPID }
    #expect(left.count == 1, "\(names)")
    // A live runner's folder (this process's) and a folder of another name stay.
    let mine = ScenarioFolders.make(in: tmp)
    let other = tmp.appendingPathComponent("gui-agent-scenario-notes")
    for f in [mine, other] { try FileManager.default.createDirectory(at: f, withIntermediateDirectories: true) }

    // The next run removes it; nothing else.
    try Data(ScenarioCommandTests.scenario("next", check: "true").utf8).write(to: folder.file("next.json"))
    let next = try runProgram(try guiAgentBinary(), ["scenario", "run", folder.file("next.json").path, "--store", store],
                              environment: environment, timeout: 60)
    #expect(next.status == 0, "\(next.stdout) \(next.stderr)")
    let after = Set(try FileManager.default.contentsOfDirectory(atPath: tmp.path))
    #expect(after == [mine.lastPathComponent, other.lastPathComponent], "\(after)")
    #expect(ScenarioFolders.removeLeftovers(in: tmp).isEmpty)
  }

  @Test func onlyFolderNamesOfRunnersAreParsed() {
    let owner = ScenarioFolders.owner(of: "gui-agent-scenario-12-345-8B74E360-2C9E-4D8A-8E9F-17D438DDD32A")
    #expect(owner?.pid == 12 && owner?.start == 345)
    for name in ["gui-agent-scenario-12-345", "gui-agent-scenario-x-345-8B74E360-2C9E-4D8A-8E9F-17D438DDD32A",
                 "gui-agent-scenario-12-345-notauuid", "other-12-345-8B74E360-2C9E-4D8A-8E9F-17D438DDD32A"] {
      #expect(ScenarioFolders.owner(of: name) == nil, "\(name)")
    }
    let me = getpid()
    let start = ScenarioFolders.startTime(of: me)
    #expect(start != nil && ScenarioFolders.isAlive(pid: me, start: start ?? 0))
    #expect(!ScenarioFolders.isAlive(pid: me, start: (start ?? 0) + 1))  // a reused pid is not the runner
  }
}

/// The runner and its result, handed to the thread that runs it.
private final class RunBox: @unchecked Sendable {
  let runner: ScenarioRunner
  var result: ScenarioResult?
  init(runner: ScenarioRunner) { self.runner = runner }
}

/// Polls `condition` every 50 ms for up to `seconds`.
private func poll(seconds: Double, _ condition: () -> Bool) -> Bool {
  let end = Date().addingTimeInterval(seconds)
  while Date() < end {
    if condition() { return true }
    usleep(50_000)
  }
  return condition()
}

/// Processes as `/proc` shows them.
enum Procs {
  struct Info: CustomStringConvertible {
    var pid: pid_t, ppid: pid_t, pgid: pid_t, state: Character, comm: String, args: [String]
    var description: String { "\(pid) (\(comm)) \(state) parent \(ppid) group \(pgid): \(args.joined(separator: " "))" }
  }

  static func info(_ pid: pid_t) -> Info? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { return nil }
    let rest = stat[stat.index(after: close)...].split(separator: " ")
    guard rest.count > 2, let state = rest[0].first, let ppid = pid_t(rest[1]), let pgid = pid_t(rest[2]) else { return nil }
    let cmdline = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
    let args = cmdline.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
    return Info(pid: pid, ppid: ppid, pgid: pgid, state: state, comm: String(stat[stat.index(after: open)..<close]), args: args)
  }

  static func all() -> [Info] {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid_t($0).flatMap(info) }
  }

  /// Live (not zombie) processes whose command line is exactly `args`.
  static func live(args: [String]) -> [Info] { all().filter { $0.state != "Z" && $0.args == args } }

  /// The process group of the pid written to `pidFile`, once it holds an Xvfb, a `sleep` and an
  /// `xmessage` (the app is up); nil when that takes more than `seconds`.
  static func group(of pidFile: URL, seconds: Double) -> [Info]? {
    var members: [Info] = []
    let up = poll(seconds: seconds) {
      guard let text = try? String(contentsOf: pidFile, encoding: .utf8),
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), let leader = info(pid) else { return false }
      members = all().filter { $0.pgid == leader.pgid }
      return Set(members.map(\.comm)).isSuperset(of: ["Xvfb", "sleep", "xmessage"])
    }
    return up ? members : nil
  }

  static func isLive(_ pid: pid_t, comm: String) -> Bool {
    guard let i = info(pid) else { return false }
    return i.state != "Z" && i.comm == comm
  }
}
