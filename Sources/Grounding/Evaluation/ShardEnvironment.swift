import Foundation

/// `--shard auto`: which shard this process is, read from the batch system that started it.
///
/// - Slurm job arrays (`sbatch --array=A-B[:S]`) set `SLURM_ARRAY_TASK_ID`,
///   `SLURM_ARRAY_TASK_COUNT` (the number of tasks, not the highest id), `SLURM_ARRAY_TASK_MIN`
///   and `SLURM_ARRAY_TASK_STEP`; an array `1-3` has ids 1, 2, 3, so K = (ID - MIN) / STEP.
/// - Kubernetes Indexed Jobs set `JOB_COMPLETION_INDEX` (0-based) but not the count, which
///   is then given as `auto/N` (the Job's `completions`).
extension Shard {
  /// The variables `auto` reads, for messages.
  public static let environmentVariables = ["SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN",
                                            "SLURM_ARRAY_TASK_STEP", "JOB_COMPLETION_INDEX"]

  /// Parses `K/N`, `auto` or `auto/N`; `auto` reads `environment` (see the type's notes).
  public init(resolving text: String,
              environment: [String: String] = ProcessInfo.processInfo.environment) throws(GroundingError) {
    guard text == "auto" || text.hasPrefix("auto/") else {
      try self.init(parsing: text)
      return
    }
    var given: Int? = nil
    if text != "auto" {
      guard let n = Int(text.dropFirst("auto/".count)), n >= 1 else {
        throw .invalidArgument("shard '\(text)': the count after auto/ must be a whole number >= 1")
      }
      given = n
    }
    func number(_ name: String) throws(GroundingError) -> Int? {
      guard let raw = environment[name], !raw.isEmpty else { return nil }
      guard let v = Int(raw.trimmingCharacters(in: .whitespaces)) else {
        throw .invalidArgument("shard auto: \(name)='\(raw)' is not a whole number")
      }
      return v
    }
    if let id = try number("SLURM_ARRAY_TASK_ID") {
      guard let count = try number("SLURM_ARRAY_TASK_COUNT") else {
        throw .invalidArgument("shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not")
      }
      let low = try number("SLURM_ARRAY_TASK_MIN") ?? 0
      let step = max(1, try number("SLURM_ARRAY_TASK_STEP") ?? 1)
      guard id >= low, (id - low) % step == 0 else {
        throw .invalidArgument("shard auto: SLURM_ARRAY_TASK_ID \(id) is not SLURM_ARRAY_TASK_MIN \(low) "
                               + "plus a multiple of the step \(step)")
      }
      if let given, given != count {
        throw .invalidArgument("shard \(text): SLURM_ARRAY_TASK_COUNT says \(count) tasks")
      }
      let k = (id - low) / step
      guard k < count else {
        throw .invalidArgument("shard auto: task \(id) is shard \(k), beyond SLURM_ARRAY_TASK_COUNT \(count) "
                               + "(listed ids are not a dense array; give --shard K/N)")
      }
      try self.init(index: k, count: count)
    } else if let index = try number("JOB_COMPLETION_INDEX") {
      guard let given else {
        throw .invalidArgument("shard auto: JOB_COMPLETION_INDEX is set (Kubernetes) but not the count; "
                               + "give it as --shard auto/N (the Job's completions)")
      }
      try self.init(index: index, count: given)
    } else {
      throw .invalidArgument("shard \(text): none of SLURM_ARRAY_TASK_ID with SLURM_ARRAY_TASK_COUNT "
                             + "(a Slurm job array) or JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set")
    }
  }

  /// `{shard}` in `template` replaced by `K-of-N` (e.g. `episodes-{shard}.sqlite` ->
  /// `episodes-0-of-3.sqlite`); a path without it is returned as it is.
  public func substitute(in template: String) -> String {
    template.replacingOccurrences(of: "{shard}", with: "\(index)-of-\(count)")
  }
}
