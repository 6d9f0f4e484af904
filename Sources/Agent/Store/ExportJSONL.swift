import Foundation
import Imaging

// MARK: - JSONL export

extension EpisodeStore {
  /// Writes an episode as a folder of plain files:
  ///
  /// ```text
  /// <folder>/episode.json          id, task, models, settings, status, pid, started, ended, summary, error
  /// <folder>/steps.jsonl           one JSON object per step, in order
  /// <folder>/step-000-before.png   screenshots as stored, named in the step's fields
  /// <folder>/step-000-after.png
  /// ```
  ///
  /// Step fields: `episode_id`, `step` (0-based index), `started`, `ended` (ISO-8601 UTC, `ended`
  /// null when the outcome was never written), `reasoning`, `raw_output`, `action` (the JSON action
  /// form, docs/actions.md), `grounded_point` (`{"x","y"}` screen pixels), `grounded_box`
  /// (`{"x","y","w","h"}` screen pixels: the region the point was found in, or null), `screen_changed`,
  /// `latencies_ms` (stage -> ms), `tokens` (`{"prompt","completion"}`), `error`,
  /// `screenshot_before` / `screenshot_after` (file names beside the JSONL, or null).
  /// Screenshots are files rather than base64 so that lines stay short and images open directly.
  /// - Returns: the URL of `steps.jsonl`.
  @discardableResult
  public func exportJSONL(episode id: Int64, to folder: URL) throws -> URL {
    let episode = try episode(id)
    let steps = try steps(episode: id)
    try ExportSupport.makeFolder(folder)
    try ExportSupport.write(Data((try ExportSupport.jsonLine(EpisodeLine(episode)) + "\n").utf8),
                            to: folder.appendingPathComponent("episode.json"))
    var lines = ""
    for step in steps {
      var files: [ScreenshotMoment: String] = [:]
      for moment in ScreenshotMoment.allCases {
        guard let png = try screenshot(episode: id, step: step.index, moment: moment) else { continue }
        let name = ExportSupport.screenshotName(index: step.index, moment: moment)
        try ExportSupport.write(png, to: folder.appendingPathComponent(name))
        files[moment] = name
      }
      lines += try ExportSupport.jsonLine(StepLine(step, before: files[.before], after: files[.after])) + "\n"
    }
    let url = folder.appendingPathComponent("steps.jsonl")
    try ExportSupport.write(Data(lines.utf8), to: url)
    return url
  }
}

// MARK: - Line shapes

/// `episode.json`.
private struct EpisodeLine: Encodable {
  var id: Int64
  var task: String
  var models: [String: String]
  var settings: JSONFragment?
  var status: String
  var pid: Int32
  var started: String
  var ended: String?
  var summary: String?
  var error: String?
  var stepCount: Int

  enum CodingKeys: String, CodingKey {
    case id, task, models, settings, status, pid, started, ended, summary, error
    case stepCount = "step_count"
  }

  init(_ e: Episode) {
    (id, task, models, settings, status, pid) = (e.id, e.task, e.models, ExportSupport.embedded(e.settingsJSON), e.status.rawValue, e.pid)
    (started, ended, summary, error, stepCount) = (StoreTime.string(e.started), e.ended.map(StoreTime.string), e.summary, e.error, e.stepCount)
  }

  // Absent optionals are written as null, so every line has every field.
  func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(id, forKey: .id)
    try c.encode(task, forKey: .task)
    try c.encode(models, forKey: .models)
    try c.encode(settings, forKey: .settings)
    try c.encode(status, forKey: .status)
    try c.encode(pid, forKey: .pid)
    try c.encode(started, forKey: .started)
    try c.encode(ended, forKey: .ended)
    try c.encode(summary, forKey: .summary)
    try c.encode(error, forKey: .error)
    try c.encode(stepCount, forKey: .stepCount)
  }
}

/// One line of `steps.jsonl`.
/// A step's region as `{"x","y","w","h"}`.
private struct BoxLine: Encodable {
  let x, y, w, h: Int
  init(_ box: PixelRect) { (x, y, w, h) = (box.x, box.y, box.width, box.height) }
}

private struct StepLine: Encodable {
  let step: StepRecord
  let before: String?
  let after: String?

  init(_ step: StepRecord, before: String?, after: String?) {
    (self.step, self.before, self.after) = (step, before, after)
  }

  enum CodingKeys: String, CodingKey {
    case episodeID = "episode_id", step, started, ended, reasoning, rawOutput = "raw_output", action
    case groundedPoint = "grounded_point", groundedBox = "grounded_box", screenChanged = "screen_changed", latencies = "latencies_ms"
    case tokens, error, screenshotBefore = "screenshot_before", screenshotAfter = "screenshot_after"
  }

  func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(step.episodeID, forKey: .episodeID)
    try c.encode(step.index, forKey: .step)
    try c.encode(StoreTime.string(step.started), forKey: .started)
    try c.encode(step.ended.map(StoreTime.string), forKey: .ended)
    try c.encode(step.reasoning, forKey: .reasoning)
    try c.encode(step.rawOutput, forKey: .rawOutput)
    try c.encode(ExportSupport.embedded(step.actionJSON), forKey: .action)
    try c.encode(step.groundedPoint, forKey: .groundedPoint)
    try c.encode(step.groundedBox.map(BoxLine.init), forKey: .groundedBox)
    try c.encode(step.screenChanged, forKey: .screenChanged)
    try c.encode(step.latencies, forKey: .latencies)
    try c.encode(step.tokens, forKey: .tokens)
    try c.encode(step.error, forKey: .error)
    try c.encode(before, forKey: .screenshotBefore)
    try c.encode(after, forKey: .screenshotAfter)
  }
}
