import Foundation
import Testing

// Sharded runs through the binary: `eval screenspot --shard auto` from a Slurm array's variables,
// `run --tasks` on a private Xvfb per shard with a store per shard, `episodes merge`.
@Suite struct ShardedRunCommandTests {
  static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  func scratch() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sharded-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
  }

  /// This process's environment without any batch system's shard variables, plus `extra`.
  func environment(_ extra: [String: String] = [:]) -> [String: String] {
    var env = ProcessInfo.processInfo.environment
    for name in ["SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_STEP",
                 "JOB_COMPLETION_INDEX"] { env[name] = nil }
    return env.merging(extra) { _, b in b }
  }

  @Test func evalShardAutoFromASlurmArrayMergesToTheWholeRun() throws {
    let dir = try scratch()
    defer { try? FileManager.default.removeItem(at: dir) }
    let mini = EvalCommandTests.mini
    let common = ["eval", "screenspot", "--data", mini.appendingPathComponent("screenspot_mini.json").path,
                  "--images", mini.path, "--baseline", "random", "--seed", "3"]
    // --array=1-3: task ids 1..3 are shards 0..2.
    for id in 1...3 {
      let env = environment(["SLURM_ARRAY_TASK_ID": "\(id)", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "1"])
      let r = try CLI.run(common + ["--shard", "auto", "--out", dir.appendingPathComponent("s\(id).jsonl").path], environment: env)
      #expect(r.status == 0, "\(r.stderr)")
    }
    let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    #expect(files == ["s1.jsonl", "s2.jsonl", "s3.jsonl"])   // no .partial or temporary file left
    let whole = dir.appendingPathComponent("whole.jsonl").path
    #expect(try CLI.run(common + ["--out", whole], environment: environment()).status == 0)
    let merged = dir.appendingPathComponent("merged.jsonl").path
    let m = try CLI.run(["eval", "merge", "--out", merged] + (1...3).map { dir.appendingPathComponent("s\($0).jsonl").path })
    #expect(m.status == 0, "\(m.stderr)")
    func recordsWithoutTiming(_ path: String) throws -> [String] {
      try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").dropFirst()
        .map { $0.replacingOccurrences(of: #""seconds":[^,]*,"#, with: "", options: .regularExpression) }
    }
    #expect(try recordsWithoutTiming(merged) == recordsWithoutTiming(whole))
    #expect(try recordsWithoutTiming(merged).count == 15)

    let missing = try CLI.run(["eval", "merge", dir.appendingPathComponent("s1.jsonl").path, dir.appendingPathComponent("s3.jsonl").path])
    #expect(missing.status == 1 && missing.stderr.contains("shard 1/3 of screenspot_mini.json is missing"), "\(missing.stderr)")

    let none = try CLI.run(common + ["--shard", "auto"], environment: environment())
    #expect(none.status == 2 && none.stderr.contains("SLURM_ARRAY_TASK_ID") && none.stderr.contains("JOB_COMPLETION_INDEX"))
  }

  @Test func taskListShardsRunOnTheirOwnDisplayAndMerge() throws {
    let dir = try scratch()
    defer { try? FileManager.default.removeItem(at: dir) }
    let plan = #"{"steps": [{"action": {"action": "click", "target": {"point": [40, 30]}}}, "#
      + #"{"action": {"action": "finished", "summary": "clicked"}}]}"#
    try Data(plan.utf8).write(to: dir.appendingPathComponent("click.json"))
    let scenario = Self.repo.appendingPathComponent("Scenarios/tk-hotkey-save.json").path
    let tasks = [#"{"id": "one", "task": "click the corner", "plan": "click.json"}"#,
                 #"{"id": "two", "scenario": "\#(scenario)"}"#,
                 "",
                 #"{"id": "three", "task": "click again", "plan": "click.json"}"#]
    try Data(tasks.joined(separator: "\n").utf8).write(to: dir.appendingPathComponent("tasks.jsonl"))
    let store = dir.appendingPathComponent("ep-{shard}.sqlite").path
    var ids: [[String]] = []
    for k in 0..<2 {
      let r = try CLI.run(["run", "--tasks", dir.appendingPathComponent("tasks.jsonl").path, "--shard", "\(k)/2",
                           "--store", store, "--settle", "0", "--json"], environment: environment())
      #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
      let j = try r.json()
      #expect(j["shard"] as? String == "\(k)/2")
      ids.append((j["tasks"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
    }
    #expect(ids == [["one", "three"], ["two"]])
    let out = dir.appendingPathComponent("all.sqlite").path
    let stores = (0..<2).map { dir.appendingPathComponent("ep-\($0)-of-2.sqlite").path }
    let m = try CLI.run(["episodes", "merge"] + stores + ["-o", out, "--json"])
    #expect(m.status == 0, "\(m.stderr)")
    let j = try m.json()
    #expect(j["episodes"] as? Int == 3)
    let list = try CLI.run(["episodes", "list", "--store", out, "--json"])
    let episodes = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
    #expect(episodes.compactMap { $0["id"] as? Int } == [1, 2, 3])
    #expect(episodes.allSatisfy { $0["status"] as? String == "succeeded" })
    let again = try CLI.run(["episodes", "merge"] + stores + ["-o", out])
    #expect(again.status == 1 && again.stderr.contains("refusing to overwrite"))
  }
}
