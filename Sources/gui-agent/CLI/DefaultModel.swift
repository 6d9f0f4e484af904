import Foundation

/// The embedded default model, `Models/bluelm-vl-nano` of the checkout (training/README.md,
/// Models/README.md): what every model command runs when no `--model` is given.
enum DefaultModel {
  static let name = "bluelm-vl-nano"

  /// `$GUI_AGENT_MODEL` when set (whether or not it holds a model: the loader then says what is
  /// wrong with it); else the first of: `Models/bluelm-vl-nano` in a folder above the executable
  /// (a build inside the checkout, e.g. `.build/x86_64-unknown-linux-gnu/release/gui-agent`);
  /// `share/gui-agent/models/bluelm-vl-nano` beside the executable's `bin/` (an installed copy);
  /// `Models/bluelm-vl-nano` in the working directory. Nil when none holds a `config.json`.
  static func path() -> String? {
    if let env = ProcessInfo.processInfo.environment["GUI_AGENT_MODEL"], !env.isEmpty { return env }
    var candidates: [URL] = []
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    var dir = exe
    for _ in 0..<5 {
      candidates.append(dir.appendingPathComponent("Models/\(name)"))
      dir = dir.deletingLastPathComponent()
    }
    candidates.append(exe.deletingLastPathComponent().appendingPathComponent("share/gui-agent/models/\(name)"))
    candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("Models/\(name)"))
    return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("config.json").path) }?.path
  }

  /// `--model`, else the default model; a usage error naming both when neither exists.
  static func resolve(_ given: String?) throws -> String {
    if let given { return given }
    if let found = path() { return found }
    throw UsageError("no --model given and the default model Models/\(name) was not found "
                     + "(set GUI_AGENT_MODEL to its folder, or pass --model PATH)")
  }
}
