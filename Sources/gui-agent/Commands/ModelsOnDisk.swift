import Engine
import Foundation

/// The "on disk" part of `gui-agent models`: the embedded model, the model cache, given paths.
extension Commands {
  /// The model cache `scripts/fetch-models` fills.
  static var modelCache: String {
    let base = ProcessInfo.processInfo.environment["GUI_AGENT_CACHE"].flatMap { $0.isEmpty ? nil : $0 }
      ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/gui-agent").path
    return URL(fileURLWithPath: base).appendingPathComponent("models").path
  }

  static func inventory(given: [String]) -> [ModelOnDisk] {
    var entries: [ModelOnDisk] = []
    if let embedded = DefaultModel.path() { entries += ModelInventory.scan(embedded, origin: "embedded") }
    if FileManager.default.fileExists(atPath: modelCache) { entries += ModelInventory.scan(modelCache, origin: "cache") }
    for path in given { entries += ModelInventory.scan(path, origin: "given") }
    return entries
  }

  static func diskJSON(_ m: ModelOnDisk) -> [String: Any] {
    [
      "origin": m.origin, "path": m.path, "family": m.family, "format": m.format, "bytes": m.bytes,
      "types": m.types, "mmproj": m.mmproj.map { $0 as Any } ?? NSNull(),
      "pair_complete": m.pairComplete.map { $0 as Any } ?? NSNull(),
      "problem": m.problem.map { $0 as Any } ?? NSNull(),
    ]
  }

  static func printInventory(_ entries: [ModelOnDisk]) {
    Output.out("\nOn disk (cache: \(modelCache)):")
    guard !entries.isEmpty else { Output.out("  nothing found"); return }
    let rows = [["origin", "family", "format", "size", "types", "pair", "path"]] + entries.map { m in
      [m.origin, m.family, m.format, byteString(m.bytes),
       m.types.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", "),
       m.pairComplete.map { $0 ? "complete" : "incomplete" } ?? "-",
       m.path + (m.mmproj.map { " + " + URL(fileURLWithPath: $0).lastPathComponent } ?? "")]
    }
    let widths = (0..<6).map { c in rows.map { $0[c].count }.max() ?? 0 }
    for row in rows {
      Output.out("  " + zip(row, widths + [0]).map { $0.padding(toLength: max($1, $0.count), withPad: " ", startingAt: 0) }
        .joined(separator: "  "))
    }
    for m in entries { if let problem = m.problem { Output.out("  note: \(m.path): \(problem)") } }
  }

  static func byteString(_ bytes: Int64) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"]
    var value = Double(bytes), unit = 0
    while value >= 1000, unit < units.count - 1 { value /= 1000; unit += 1 }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
  }
}
