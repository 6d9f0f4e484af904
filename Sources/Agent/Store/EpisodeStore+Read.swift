import Foundation
import Imaging

// MARK: - Reading

extension EpisodeStore {
  /// Every episode, oldest first.
  public func episodes() throws -> [EpisodeSummary] {
    let rows = try withConnection { db in
      try db.query("""
        SELECT e.id, e.task, e.status, (SELECT COUNT(*) FROM steps s WHERE s.episode_id = e.id), e.started, e.ended, e.pid
        FROM episodes e ORDER BY e.id
        """, step: "listing episodes") { r in
        (r.int(0), r.text(1), r.text(2), Int(r.int(3)), r.text(4), r.optionalText(5), Int32(truncatingIfNeeded: r.int(6)))
      }
    }
    return try rows.map { id, task, status, count, started, ended, pid in
      let start = try StoreTime.date(started, "episode \(id)")
      return EpisodeSummary(id: id, task: task, status: Self.seen(try Self.status(status, episode: id), pid: pid, started: start).status,
                            stepCount: count, started: start, ended: try ended.map { try StoreTime.date($0, "episode \(id)") })
    }
  }

  /// One episode's record.
  /// - Throws: `AgentError.episodeNotFound` when there is none with this id.
  public func episode(_ id: Int64) throws -> Episode {
    let rows = try withConnection { db in
      try db.query("""
        SELECT task, models, settings, started, ended, status, pid, summary, error,
               (SELECT COUNT(*) FROM steps s WHERE s.episode_id = e.id)
        FROM episodes e WHERE id = ?
        """, step: "reading episode \(id)", [.integer(id)]) { r in
        (r.text(0), r.text(1), r.text(2), r.text(3), r.optionalText(4), r.text(5), Int32(truncatingIfNeeded: r.int(6)),
         r.optionalText(7), r.optionalText(8), Int(r.int(9)))
      }
    }
    guard let (task, models, settings, started, ended, status, pid, summary, error, count) = rows.first else {
      throw AgentError.episodeNotFound(id)
    }
    let modelMap: [String: String]
    do {
      modelMap = try JSONDecoder().decode([String: String].self, from: Data(models.utf8))
    } catch {
      throw AgentError.store(step: "reading episode \(id)", message: "models '\(models)' is not a JSON object of strings")
    }
    let start = try StoreTime.date(started, "episode \(id)")
    let seen = Self.seen(try Self.status(status, episode: id), pid: pid, started: start)
    return Episode(id: id, task: task, models: modelMap, settingsJSON: settings, started: start,
                   ended: try ended.map { try StoreTime.date($0, "episode \(id)") },
                   status: seen.status, pid: pid, summary: summary, error: seen.reason ?? error,
                   stepCount: count)
  }

  /// A `running` episode whose owning process no longer exists reads as `interrupted` even where
  /// recovery could not record it (a full or read-only store): no reader sees an episode of a
  /// dead process as running. (A reused pid is only told apart on open, by `recoverInterrupted`.)
  private static func seen(_ status: EpisodeStatus, pid: Int32, started: Date) -> (status: EpisodeStatus, reason: String?) {
    guard status == .running, !ProcessLiveness.isAlive(pid) else { return (status, nil) }
    return (.interrupted, "process \(pid) exited while the episode was running (not yet recorded: the store could not be written)")
  }

  /// An episode's steps in order, without screenshot bytes.
  public func steps(episode id: Int64) throws -> [StepRecord] {
    _ = try episode(id)
    let rows = try withConnection { db in
      try db.query("""
        SELECT id, idx, started, ended, reasoning, raw_output, action, grounded_x, grounded_y, screen_changed,
               latencies, prompt_tokens, completion_tokens, error,
               COALESCE(length(screenshot_before), 0), COALESCE(length(screenshot_after), 0),
               grounded_box_x, grounded_box_y, grounded_box_w, grounded_box_h
        FROM steps WHERE episode_id = ? ORDER BY idx
        """, step: "reading steps of episode \(id)", [.integer(id)]) { r in try Self.step(r, episode: id) }
    }
    return rows
  }

  /// A step's screenshot as stored (PNG bytes); nil when that step has none.
  /// - Throws: `AgentError.stepNotFound` when the episode has no step `index`.
  public func screenshot(episode id: Int64, step index: Int, moment: ScreenshotMoment = .before) throws -> Data? {
    let column = moment == .before ? "screenshot_before" : "screenshot_after"
    let rows = try withConnection { db in
      try db.query("SELECT \(column) FROM steps WHERE episode_id = ? AND idx = ?",
                   step: "reading screenshot of step \(index) of episode \(id)",
                   [.integer(id), .integer(Int64(index))]) { $0.blob(0) }
    }
    guard let row = rows.first else { throw AgentError.stepNotFound(episode: id, index: index) }
    return row
  }

  // MARK: - Row decoding

  private static func status(_ text: String, episode id: Int64) throws -> EpisodeStatus {
    guard let s = EpisodeStatus(rawValue: text) else {
      throw AgentError.store(step: "reading episode \(id)", message: "unknown status '\(text)'")
    }
    return s
  }

  private static func step(_ r: Row, episode id: Int64) throws -> StepRecord {
    let index = Int(r.int(1))
    let what = "step \(index) of episode \(id)"
    let actionJSON = r.optionalText(6)
    // An action this build cannot decode (written by a newer one) stays available as JSON.
    let action = actionJSON.flatMap { try? JSONDecoder().decode(AgentAction.self, from: Data($0.utf8)) }
    let latencyText = r.text(10)
    guard let latencies = try? JSONDecoder().decode([String: Double].self, from: Data(latencyText.utf8)) else {
      throw AgentError.store(step: "reading \(what)", message: "latencies '\(latencyText)' is not a JSON object of numbers")
    }
    let point: GroundedPoint? = if let x = r.optionalDouble(7), let y = r.optionalDouble(8) { GroundedPoint(x: x, y: y) } else { nil }
    let box: PixelRect? = if let x = r.optionalInt(16), let y = r.optionalInt(17), let w = r.optionalInt(18),
                             let h = r.optionalInt(19) {
      PixelRect(x: Int(x), y: Int(y), width: Int(w), height: Int(h))
    } else { nil }
    let tokens: TokenCounts? = if let p = r.optionalInt(11), let c = r.optionalInt(12) {
      TokenCounts(prompt: Int(p), completion: Int(c))
    } else { nil }
    return StepRecord(
      id: r.int(0), episodeID: id, index: index, started: try StoreTime.date(r.text(2), what),
      ended: try r.optionalText(3).map { try StoreTime.date($0, what) }, reasoning: r.optionalText(4),
      rawOutput: r.text(5), actionJSON: actionJSON, action: action, groundedPoint: point,
      groundedBox: box, screenChanged: r.optionalInt(9).map { $0 != 0 }, latencies: latencies, tokens: tokens, error: r.optionalText(13),
      screenshotBeforeBytes: Int(r.int(14)), screenshotAfterBytes: Int(r.int(15)))
  }
}
