import Foundation
import Imaging
import Synchronization

/// A durable record of agent episodes and their steps, in one SQLite file.
///
/// Durability: WAL journal with `synchronous=FULL`. A step's intent is committed before its action
/// runs and its outcome after; FULL syncs the WAL on every commit, so a committed step survives a
/// power cut as well as a killed process (NORMAL would survive only the latter). That costs one
/// fsync per commit, a few milliseconds against seconds of model time per step.
/// Other connections (the CLI listing episodes while an agent runs) read concurrently under WAL;
/// writers wait up to 5 s for the lock (`busy_timeout`).
///
/// Times are stored as ISO-8601 UTC strings with milliseconds and come back as `Date`s rounded to
/// the millisecond. Safe to share between tasks: calls are serialized on one connection.
public final class EpisodeStore: Sendable {
  /// The database file.
  public let url: URL
  private let db: Mutex<SQLiteConnection>

  /// `$XDG_DATA_HOME/gui-agent/episodes.sqlite`, or `~/.local/share/gui-agent/episodes.sqlite`
  /// when `XDG_DATA_HOME` is unset or not absolute (as the XDG spec says to treat it).
  public static func defaultURL(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
    let base: URL
    if let xdg = environment["XDG_DATA_HOME"], xdg.hasPrefix("/") {
      base = URL(fileURLWithPath: xdg, isDirectory: true)
    } else {
      let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
      base = URL(fileURLWithPath: home, isDirectory: true).appendingPathComponent(".local/share", isDirectory: true)
    }
    return base.appendingPathComponent("gui-agent/episodes.sqlite")
  }

  /// Opens (creating it and its folders if needed) the store at `path`, brings its schema up to
  /// date, and marks `running` episodes whose process is gone as `interrupted`.
  /// - Throws: `AgentError.futureStoreVersion` for a store written by a newer build,
  ///   `AgentError.notADatabase` for a file that is not SQLite, `AgentError.storeFull` /
  ///   `.storeReadOnly` when a write it needs (creating, migrating) cannot be made,
  ///   `AgentError.store` otherwise. Every writing call below throws the same two for a full or
  ///   read-only store.
  public init(path: URL = EpisodeStore.defaultURL()) throws {
    url = path
    let folder = path.deletingLastPathComponent()
    do {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    } catch {
      throw AgentError.store(step: "creating folder \(folder.path)", message: error.localizedDescription)
    }
    let connection = try SQLiteConnection(path: path.path)
    try connection.execute("PRAGMA busy_timeout = 5000", step: "setting busy_timeout")
    // Read the version before anything writes: a newer build's file is left untouched.
    let version = try StoreSchema.userVersion(connection)
    guard version <= StoreSchema.currentVersion else {
      throw AgentError.futureStoreVersion(path: path.path, found: version, supported: StoreSchema.currentVersion)
    }
    try connection.executeRetryingBusy("PRAGMA journal_mode = WAL", step: "setting journal_mode=WAL", seconds: 30)
    try connection.execute("PRAGMA synchronous = FULL", step: "setting synchronous=FULL")
    try connection.execute("PRAGMA foreign_keys = ON", step: "enabling foreign keys")
    try StoreSchema.migrate(connection)
    db = Mutex(connection)
    do {
      try recoverInterrupted()
    } catch AgentError.storeReadOnly, AgentError.storeFull {
      // A read-only or full store still opens for reading (`episodes list`); its dead episodes
      // are marked by the first open that can write, and a writer fails at its first write.
    }
  }

  /// Runs `body` with the connection, one caller at a time.
  func withConnection<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
    try db.withLock { connection throws -> T in try body(connection) }
  }

  // MARK: - Recovery

  /// Marks `running` episodes whose owning process no longer exists as `interrupted`, ending them
  /// at their last recorded activity. Runs on open; returns the ids it marked.
  @discardableResult
  public func recoverInterrupted() throws -> [Int64] {
    try withConnection { db in
      let running = try db.query("SELECT id, pid, started FROM episodes WHERE status = 'running'",
                                 step: "listing running episodes") { ($0.int(0), Int32(truncatingIfNeeded: $0.int(1)), $0.text(2)) }
      var marked: [Int64] = []
      for (id, pid, started) in running {
        let start = try StoreTime.date(started, "episode \(id)")
        guard let reason = ProcessLiveness.ownerGone(pid: pid, episodeStarted: start) else { continue }
        try db.run("""
          UPDATE episodes SET status = 'interrupted',
            ended = COALESCE((SELECT MAX(COALESCE(ended, started)) FROM steps WHERE episode_id = ?1), started),
            error = ?2
          WHERE id = ?1 AND status = 'running'
          """, step: "marking episode \(id) interrupted", [.integer(id), .text(reason)])
        marked.append(id)
      }
      return marked
    }
  }

  // MARK: - Writing

  /// Starts an episode owned by process `pid` (this one by default); returns its id.
  public func beginEpisode(task: String, models: [String: String], settings: some Encodable,
                           pid: Int32 = getpid(), started: Date = Date()) throws -> Int64 {
    let modelsJSON = try Self.json(models, what: "models")
    let settingsJSON = try Self.json(settings, what: "settings")
    return try withConnection { db in
      try db.run("INSERT INTO episodes (task, models, settings, started, status, pid, host) VALUES (?, ?, ?, ?, 'running', ?, ?)",
                 step: "beginning episode",
                 [.text(task), .text(modelsJSON), .text(settingsJSON), .text(StoreTime.string(started)), .integer(Int64(pid)),
                  .text(StoreMerge.hostName())])
      return db.lastInsertRowID
    }
  }

  /// Records what step `index` of `episode` is about to do; committed when this returns, before
  /// the action runs. Returns the step's id for ``finishStep(_:outcome:)``.
  public func beginStep(episode: Int64, index: Int, intent: StepIntent) throws -> Int64 {
    let actionJSON = try intent.action.map { try Self.json($0, what: "action") }
    let latencies = try Self.json(intent.latencies, what: "latencies")
    return try withConnection { db in
      try db.run("""
        INSERT INTO steps (episode_id, idx, started, screenshot_before, reasoning, raw_output, action,
                           grounded_x, grounded_y, grounded_box_x, grounded_box_y, grounded_box_w, grounded_box_h,
                           latencies, prompt_tokens, completion_tokens)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """, step: "beginning step \(index) of episode \(episode)", [
          .integer(episode), .integer(Int64(index)), .text(StoreTime.string(intent.started)),
          intent.screenshot.map(SQLValue.blob) ?? .null, intent.reasoning.map(SQLValue.text) ?? .null,
          .text(intent.rawOutput), actionJSON.map(SQLValue.text) ?? .null,
          intent.groundedPoint.map { .real($0.x) } ?? .null, intent.groundedPoint.map { .real($0.y) } ?? .null,
        ] + Self.boxValues(intent.groundedBox) + [
          .text(latencies), intent.tokens.map { .integer(Int64($0.prompt)) } ?? .null,
          intent.tokens.map { .integer(Int64($0.completion)) } ?? .null,
        ])
      return db.lastInsertRowID
    }
  }

  /// Records how step `stepID` went; latencies merge into those of the intent.
  public func finishStep(_ stepID: Int64, outcome: StepOutcome) throws {
    let latencies = try Self.json(outcome.latencies, what: "latencies")
    try withConnection { db in
      try db.run("""
        UPDATE steps SET ended = ?, screen_changed = ?, latencies = json_patch(latencies, ?), error = ?,
                         screenshot_after = COALESCE(?, screenshot_after)
        WHERE id = ?
        """, step: "finishing the step with id \(stepID)", [
          .text(StoreTime.string(outcome.ended)), outcome.screenChanged.map { .integer($0 ? 1 : 0) } ?? .null,
          .text(latencies), outcome.error.map(SQLValue.text) ?? .null,
          outcome.screenshotAfter.map(SQLValue.blob) ?? .null, .integer(stepID),
        ])
      guard db.changes == 1 else {
        throw AgentError.store(step: "finishing the step with id \(stepID)", message: "no step with id \(stepID)")
      }
    }
  }

  /// Ends an episode with its final status.
  public func finishEpisode(id: Int64, status: EpisodeStatus, summary: String? = nil, error: String? = nil,
                            ended: Date = Date()) throws {
    try withConnection { db in
      try db.run("UPDATE episodes SET status = ?, summary = ?, error = ?, ended = ? WHERE id = ?",
                 step: "finishing episode \(id)",
                 [.text(status.rawValue), summary.map(SQLValue.text) ?? .null, error.map(SQLValue.text) ?? .null,
                  .text(StoreTime.string(ended)), .integer(id)])
      guard db.changes == 1 else { throw AgentError.episodeNotFound(id) }
    }
  }

  /// Deletes an episode and its steps.
  public func delete(episode id: Int64) throws {
    try withConnection { db in
      try db.transaction("deleting episode \(id)") {
        try db.run("DELETE FROM steps WHERE episode_id = ?", step: "deleting steps of episode \(id)", [.integer(id)])
        try db.run("DELETE FROM episodes WHERE id = ?", step: "deleting episode \(id)", [.integer(id)])
        guard db.changes == 1 else { throw AgentError.episodeNotFound(id) }
      }
    }
  }

  static func json(_ value: some Encodable, what: String) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    do {
      return String(decoding: try encoder.encode(value), as: UTF8.self)
    } catch {
      throw AgentError.invalidArgument("\(what) do not encode as JSON: \(error)")
    }
  }

  /// The `grounded_box_x, _y, _w, _h` column values of a step's region (NULLs for none).
  static func boxValues(_ box: PixelRect?) -> [SQLValue] {
    guard let b = box else { return [.null, .null, .null, .null] }
    return [b.x, b.y, b.width, b.height].map { .integer(Int64($0)) }
  }
}
