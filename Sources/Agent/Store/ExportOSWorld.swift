import Foundation

// MARK: - OSWorld-style export

extension EpisodeStore {
  /// Writes an episode the way OSWorld's runner (`lib_run_single.py`) lays out a result folder,
  /// so that its viewers and scripts read it:
  ///
  /// ```text
  /// <folder>/traj.jsonl                       one line per step
  /// <folder>/step_1_20261125@150721.png       the screen after the step's action
  /// ```
  ///
  /// Line fields as OSWorld writes them: `step_num` (1-based), `action_timestamp`
  /// (`%Y%m%d@%H%M%S`, UTC, of the step's start), `action`, `response` (the raw model output),
  /// `reward` (0: we do not score), `done` (true on the last step of an ended episode), `info`
  /// (`{}`), `screenshot_file`; plus `reasoning`. `action` is our JSON action form
  /// (docs/actions.md) where OSWorld agents put pyautogui code. As in OSWorld the screenshot is
  /// the observation after the action; a step without one falls back to the screen before it.
  /// - Returns: the URL of `traj.jsonl`.
  @discardableResult
  public func exportOSWorld(episode id: Int64, to folder: URL) throws -> URL {
    let episode = try episode(id)
    let steps = try steps(episode: id)
    try ExportSupport.makeFolder(folder)
    var lines = ""
    for (n, step) in steps.enumerated() {
      let stamp = Self.osworldTimestamp(step.started)
      var file: String?
      if let png = try screenshot(episode: id, step: step.index, moment: .after)
        ?? screenshot(episode: id, step: step.index, moment: .before) {
        let name = "step_\(step.index + 1)_\(stamp).png"
        try ExportSupport.write(png, to: folder.appendingPathComponent(name))
        file = name
      }
      let done = n == steps.count - 1 && episode.status != .running
      lines += try ExportSupport.jsonLine(TrajLine(
        stepNum: step.index + 1, actionTimestamp: stamp, action: ExportSupport.embedded(step.actionJSON),
        response: step.rawOutput, reasoning: step.reasoning, done: done, screenshotFile: file)) + "\n"
    }
    let url = folder.appendingPathComponent("traj.jsonl")
    try ExportSupport.write(Data(lines.utf8), to: url)
    return url
  }

  /// `20261125@150721` in UTC (OSWorld uses local `datetime.now()`; UTC keeps exports comparable).
  static func osworldTimestamp(_ date: Date) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
    let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
    func two(_ v: Int?) -> String { let s = String(v ?? 0); return s.count < 2 ? "0" + s : s }
    return "\(c.year ?? 0)\(two(c.month))\(two(c.day))@\(two(c.hour))\(two(c.minute))\(two(c.second))"
  }
}

private struct TrajLine: Encodable {
  var stepNum: Int
  var actionTimestamp: String
  var action: JSONFragment?
  var response: String
  var reasoning: String?
  var reward = 0
  var done: Bool
  var info: [String: String] = [:]
  var screenshotFile: String?

  enum CodingKeys: String, CodingKey {
    case stepNum = "step_num", actionTimestamp = "action_timestamp", action, response, reasoning, reward, done, info
    case screenshotFile = "screenshot_file"
  }

  init(stepNum: Int, actionTimestamp: String, action: JSONFragment?, response: String, reasoning: String?,
       done: Bool, screenshotFile: String?) {
    (self.stepNum, self.actionTimestamp, self.action, self.response) = (stepNum, actionTimestamp, action, response)
    (self.reasoning, self.done, self.screenshotFile) = (reasoning, done, screenshotFile)
  }

  func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(stepNum, forKey: .stepNum)
    try c.encode(actionTimestamp, forKey: .actionTimestamp)
    try c.encode(action, forKey: .action)
    try c.encode(response, forKey: .response)
    try c.encode(reasoning, forKey: .reasoning)
    try c.encode(reward, forKey: .reward)
    try c.encode(done, forKey: .done)
    try c.encode(info, forKey: .info)
    try c.encode(screenshotFile, forKey: .screenshotFile)
  }
}
