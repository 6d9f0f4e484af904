import Foundation

/// Where an episode was recorded (schema version 2).
public struct EpisodeOrigin: Equatable, Sendable {
  /// The machine that ran it; nil for an episode recorded before hosts were kept.
  public var host: String?
  /// The store file it was merged from, nil for an episode recorded in this store.
  public var sourceStore: String?
  /// Its id in `sourceStore`.
  public var sourceID: Int64?
}

/// What ``StoreMerge/merge(_:into:)`` copied.
public struct StoreMergeSummary: Equatable, Sendable {
  public var episodes = 0
  public var steps = 0
  /// Episodes whose id was taken by an earlier store's: (store, old id, new id).
  public var renumbered: [(store: String, from: Int64, to: Int64)] = []

  public static func == (a: Self, b: Self) -> Bool {
    a.episodes == b.episodes && a.steps == b.steps && a.renumbered.map { "\($0)" } == b.renumbered.map { "\($0)" }
  }
}

/// Joins episode stores (e.g. one per shard of a cluster job) into a new one.
///
/// Stores are read in the order given, episodes in id order: an episode keeps its id unless an
/// earlier one took it, then it gets the next free id, so the same inputs always give the same
/// store. Steps (with their screenshots) follow their episode. Each copied episode records the
/// store it came from and its id there (kept from the input when that was itself a merge), and
/// keeps its host. The output is built in a temporary file beside it and linked into place only
/// when complete; an existing output is never overwritten.
public enum StoreMerge {
  /// This machine's name (`gethostname`), recorded with each new episode.
  public static func hostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  public static func merge(_ sources: [URL], into output: URL) throws -> StoreMergeSummary {
    guard !sources.isEmpty else { throw AgentError.invalidArgument("no stores to merge") }
    let fm = FileManager.default
    guard !fm.fileExists(atPath: output.path) else {
      throw AgentError.invalidArgument("\(output.path) exists; refusing to overwrite it (remove it or choose another -o)")
    }
    for source in sources where !fm.fileExists(atPath: source.path) {
      throw AgentError.invalidArgument("\(source.path): no such episode store")
    }
    let temp = output.deletingLastPathComponent().appendingPathComponent(".\(output.lastPathComponent).tmp-\(getpid())")
    func removeTemp() { for suffix in ["", "-wal", "-shm"] { unlink(temp.path + suffix) } }
    removeTemp()
    let summary: StoreMergeSummary
    do {
      summary = try copy(sources, into: temp)
      try syncFile(temp.path)
    } catch {
      removeTemp()
      throw error
    }
    // link() fails when the output appeared meanwhile, where rename() would replace it.
    if link(temp.path, output.path) != 0 {
      let code = errno
      removeTemp()
      throw AgentError.invalidArgument(code == EEXIST ? "\(output.path) exists; refusing to overwrite it"
                                       : "cannot create \(output.path): \(String(cString: strerror(code)))")
    }
    removeTemp()
    return summary
  }

  /// Copies every source into a new store at `path`; the store is closed (its WAL folded in) on return.
  private static func copy(_ sources: [URL], into path: URL) throws -> StoreMergeSummary {
    let store = try EpisodeStore(path: path)
    var summary = StoreMergeSummary()
    var used = Set<Int64>()
    try store.withConnection { db in
      for source in sources {
        let name = source.standardizedFileURL.path
        try db.run("ATTACH DATABASE ? AS src", step: "opening \(name)", [.text(source.path)])
        defer { try? db.execute("DETACH DATABASE src", step: "closing \(name)") }
        let version = try db.query("PRAGMA src.user_version", step: "reading \(name)") { $0.int(0) }.first ?? 0
        guard version >= 1 else { throw AgentError.invalidArgument("\(name) is not an episode store (no schema)") }
        guard version <= StoreSchema.currentVersion else {
          throw AgentError.futureStoreVersion(path: name, found: Int(version), supported: StoreSchema.currentVersion)
        }
        let hasOrigin = version >= 2, hasBox = version >= 3
        try db.transaction("merging \(name)") {
          let ids = try db.query("SELECT id FROM src.episodes ORDER BY id", step: "listing episodes of \(name)") { $0.int(0) }
          for id in ids {
            var newID = id
            if used.contains(id) {
              newID = (used.max() ?? 0) + 1
              summary.renumbered.append((name, id, newID))
            }
            used.insert(newID)
            try db.run("""
              INSERT INTO main.episodes (id, task, models, settings, started, ended, status, pid, summary, error,
                                         host, source_store, source_id)
              SELECT ?1, task, models, settings, started, ended, status, pid, summary, error,
                     \(hasOrigin ? "host, COALESCE(source_store, ?3), COALESCE(source_id, id)" : "NULL, ?3, id")
              FROM src.episodes WHERE id = ?2
              """, step: "copying episode \(id) of \(name)", [.integer(newID), .integer(id), .text(name)])
            try db.run("""
              INSERT INTO main.steps (episode_id, idx, started, ended, screenshot_before, screenshot_after, reasoning,
                                      raw_output, action, grounded_x, grounded_y, screen_changed, latencies,
                                      prompt_tokens, completion_tokens, error,
                                      grounded_box_x, grounded_box_y, grounded_box_w, grounded_box_h)
              SELECT ?1, idx, started, ended, screenshot_before, screenshot_after, reasoning, raw_output, action,
                     grounded_x, grounded_y, screen_changed, latencies, prompt_tokens, completion_tokens, error,
                     \(hasBox ? "grounded_box_x, grounded_box_y, grounded_box_w, grounded_box_h" : "NULL, NULL, NULL, NULL")
              FROM src.steps WHERE episode_id = ?2 ORDER BY idx
              """, step: "copying the steps of episode \(id) of \(name)", [.integer(newID), .integer(id)])
            summary.episodes += 1
          }
          summary.steps = Int(try db.query("SELECT COUNT(*) FROM main.steps", step: "counting steps") { $0.int(0) }.first ?? 0)
        }
      }
    }
    return summary
  }

  private static func syncFile(_ path: String) throws {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0, fsync(fd) == 0 else {
      let code = errno
      if fd >= 0 { close(fd) }
      throw AgentError.store(step: "syncing \(path)", message: String(cString: strerror(code)))
    }
    close(fd)
  }
}

extension EpisodeStore {
  /// Where episode `id` was recorded: its host and, for a merged one, its source store and id.
  public func origin(of id: Int64) throws -> EpisodeOrigin {
    let rows = try withConnection { db in
      try db.query("SELECT host, source_store, source_id FROM episodes WHERE id = ?", step: "reading episode \(id)",
                   [.integer(id)]) { EpisodeOrigin(host: $0.optionalText(0), sourceStore: $0.optionalText(1), sourceID: $0.optionalInt(2)) }
    }
    guard let origin = rows.first else { throw AgentError.episodeNotFound(id) }
    return origin
  }
}
