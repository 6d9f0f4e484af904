import Foundation

// The names a model folder gives itself, in the order they are trusted: the folder's own name
// (what was downloaded), its model card's title, the names in config.json (often the checkpoint
// training started from), and last the card's `base_model` (the parent of a fine-tune).

/// One name found in a model folder, and where.
public struct FolderName: Sendable, Hashable {
  /// Where it was read, e.g. `config.json _name_or_path`.
  public let source: String
  public let value: String
}

public enum FolderNames {
  /// Card files above this size are read only up to it (the front matter and title come first).
  static let readmeLimit = 256 << 10

  /// The names in the folder at `path`, most trusted first; unreadable files give none.
  public static func read(_ path: String) -> [FolderName] {
    var url = URL(fileURLWithPath: path).standardizedFileURL
    var names: [FolderName] = []
    var isDirectory: ObjCBool = true
    if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
      // A model file (a GGUF): its own name first (published files carry the model's name), then
      // the folder it sits in.
      names.append(FolderName(source: "file name", value: url.deletingPathExtension().lastPathComponent))
      url = url.deletingLastPathComponent()
    }
    names.append(FolderName(source: "folder name", value: url.lastPathComponent))
    // A Hugging Face cache keeps snapshots under models--ORG--NAME/snapshots/HASH.
    if let cached = url.pathComponents.last(where: { $0.hasPrefix("models--") }) {
      names.append(FolderName(source: "cache folder", value: cached))
    }
    let card = readme(url)
    if let title = card.title { names.append(FolderName(source: "README.md title", value: title)) }
    for key in ["_name_or_path", "name_or_path"] {
      if let value = configString(url, key) { names.append(FolderName(source: "config.json \(key)", value: value)) }
    }
    names += card.baseModels.map { FolderName(source: "README.md base_model", value: $0) }
    return names.filter { !$0.value.trimmingCharacters(in: .whitespaces).isEmpty }
  }

  private static func configString(_ folder: URL, _ key: String) -> String? {
    guard let data = try? Data(contentsOf: folder.appendingPathComponent("config.json")),
          let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
    return object[key] as? String
  }

  /// The first `# ` heading outside the front matter and code blocks, and the front matter's
  /// `base_model` (one value or a YAML list).
  static func readme(_ folder: URL) -> (title: String?, baseModels: [String]) {
    guard let handle = try? FileHandle(forReadingFrom: folder.appendingPathComponent("README.md")) else { return (nil, []) }
    defer { try? handle.close() }
    guard let data = try? handle.read(upToCount: readmeLimit) else { return (nil, []) }
    return parseCard(String(decoding: data, as: UTF8.self))
  }

  static func parseCard(_ text: String) -> (title: String?, baseModels: [String]) {
    var lines = text.components(separatedBy: "\n").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\r")) }
    var bases: [String] = []
    if lines.first?.trimmingCharacters(in: .whitespaces) == "---",
       let end = lines.dropFirst().firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "---" }) {
      bases = baseModels(Array(lines[1..<end]))
      lines.removeSubrange(0...end)
    }
    var inCode = false
    for line in lines {
      let t = line.trimmingCharacters(in: .whitespaces)
      if t.hasPrefix("```") { inCode.toggle(); continue }
      if !inCode, t.hasPrefix("# ") { return (String(t.dropFirst(2)).trimmingCharacters(in: .whitespaces), bases) }
    }
    return (nil, bases)
  }

  /// `base_model: a/b`, or `base_model:` followed by `- a/b` items.
  private static func baseModels(_ front: [String]) -> [String] {
    guard let i = front.firstIndex(where: { $0.hasPrefix("base_model:") }) else { return [] }
    let unquote = { (s: Substring) in s.trimmingCharacters(in: CharacterSet(charactersIn: " \t'\"")) }
    let inline = unquote(front[i].dropFirst("base_model:".count))
    if !inline.isEmpty { return [inline] }
    var out: [String] = []
    for line in front[(i + 1)...] {
      let t = line.trimmingCharacters(in: .whitespaces)
      guard t.hasPrefix("- ") else { break }
      out.append(unquote(t.dropFirst(2)))
    }
    return out.filter { !$0.isEmpty }
  }
}
