import Foundation

// MARK: - What models are on disk
//
// For `gui-agent models`: each checkpoint folder, GGUF file and GGUF pair under the given paths,
// with its family, format, size and stored types, read from headers only (no weights are read).
// A language-model GGUF of a vision family (qwen2vl / qwen3vl) is usable only with its mmproj:
// the pair is complete when the same folder holds an mmproj whose projector goes with it.

/// One model found on disk.
public struct ModelOnDisk: Sendable, Equatable {
  /// Where it was found from: `embedded`, `cache` or `given`.
  public var origin: String
  public var path: String
  /// `model_type` of a folder; a GGUF's family (the projector's for a pair).
  public var family: String
  /// `checkpoint folder`, `gguf`, `gguf pair` or `mmproj`.
  public var format: String
  /// Bytes of the weight files (both files of a pair).
  public var bytes: Int64
  /// Tensor count per stored type, e.g. ["bf16": 300, "f32": 120].
  public var types: [String: Int]
  /// The mmproj of a pair.
  public var mmproj: String?
  /// For GGUF language models of a vision family and lone mmproj files: whether the other half
  /// is beside it. Nil where no pair is needed.
  public var pairComplete: Bool?
  /// Why the entry cannot load as it is (a missing file, a header that does not parse), nil if
  /// nothing was found wrong.
  public var problem: String?
}

public enum ModelInventory {
  /// The models at `path`: a checkpoint folder, a GGUF file, or a folder of those (one level
  /// down, as the model cache holds them). Unreadable entries are listed with their problem.
  public static func scan(_ path: String, origin: String) -> [ModelOnDisk] {
    let url = URL(fileURLWithPath: path)
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      return [ModelOnDisk(origin: origin, path: path, family: "?", format: "?", bytes: 0, types: [:],
                          mmproj: nil, pairComplete: nil, problem: "does not exist")]
    }
    guard isDirectory.boolValue else { return ggufEntries([url], origin: origin) }
    if FileManager.default.fileExists(atPath: url.appendingPathComponent("config.json").path) {
      return [folder(url, origin: origin)]
    }
    let children = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
      .filter { !$0.hasPrefix(".") }.map { url.appendingPathComponent($0) }
    var entries = ggufEntries(children.filter { $0.pathExtension.lowercased() == "gguf" }, origin: origin)
    for child in children {
      var dir: ObjCBool = false
      guard FileManager.default.fileExists(atPath: child.path, isDirectory: &dir), dir.boolValue else { continue }
      if FileManager.default.fileExists(atPath: child.appendingPathComponent("config.json").path) {
        entries.append(folder(child, origin: origin))
      } else {
        let ggufs = ((try? FileManager.default.contentsOfDirectory(atPath: child.path)) ?? []).sorted()
          .filter { $0.lowercased().hasSuffix(".gguf") }.map { child.appendingPathComponent($0) }
        entries += ggufEntries(ggufs, origin: origin)
      }
    }
    return entries
  }

  static func fileSize(_ url: URL) -> Int64 {
    ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber)?.int64Value ?? 0
  }

  /// A checkpoint folder: config.json's model_type, the safetensors' sizes and types.
  static func folder(_ url: URL, origin: String) -> ModelOnDisk {
    var entry = ModelOnDisk(origin: origin, path: url.path, family: "?", format: "checkpoint folder", bytes: 0,
                            types: [:], mmproj: nil, pairComplete: nil, problem: nil)
    do {
      entry.family = try ModelRegistry.modelType(try ModelRegistry.readConfig(url))
      let weights = try SafetensorsCheckpoint(directory: url)
      for name in weights.tensorNames { if let i = weights.info(name) { entry.types[i.dtype.rawValue, default: 0] += 1 } }
      entry.bytes = weights.files.reduce(0) { $0 + fileSize(URL(fileURLWithPath: $1.path)) }
      if !FileManager.default.fileExists(atPath: url.appendingPathComponent("tokenizer.json").path) {
        entry.problem = "tokenizer.json is missing"
      }
    } catch {
      entry.problem = error.localizedDescription
    }
    return entry
  }

  /// GGUF files of one folder: text models, pairs (a vision language model with its mmproj),
  /// and whatever is left unpaired.
  static func ggufEntries(_ urls: [URL], origin: String) -> [ModelOnDisk] {
    var models: [(URL, GGUFFile)] = [], projectors: [(URL, GGUFFile)] = []
    var entries: [ModelOnDisk] = []
    for url in urls {
      do {
        let file = try GGUFFile(url: url)
        if file.string("general.architecture") == "clip" { projectors.append((url, file)) } else { models.append((url, file)) }
      } catch {
        entries.append(ModelOnDisk(origin: origin, path: url.path, family: "?", format: "gguf", bytes: fileSize(url),
                                   types: [:], mmproj: nil, pairComplete: nil, problem: error.localizedDescription))
      }
    }
    var used = Set<String>()
    for (url, file) in models {
      let arch = file.string("general.architecture") ?? "?"
      var entry = ModelOnDisk(origin: origin, path: url.path, family: arch, format: "gguf", bytes: fileSize(url),
                              types: types(file), mmproj: nil, pairComplete: nil, problem: nil)
      if ModelLoader.qwenVLGGUFArchitectures.contains(arch) {
        let fitting = projectors.filter { p in
          guard let family = projectorFamily(p.1) else { return false }
          return (family == .qwen3VL) == (arch == "qwen3vl")
            && p.1.int("clip.vision.projection_dim") == file.int("\(arch).embedding_length")
        }
        // Several may fit (files of several models in one folder): the one named most alike.
        let match = fitting.max { nameAffinity($0.0, url) < nameAffinity($1.0, url) }
        entry.pairComplete = match != nil
        if let (purl, pfile) = match {
          used.insert(purl.path)
          entry.format = "gguf pair"
          entry.mmproj = purl.path
          entry.family = projectorFamily(pfile)?.rawValue ?? arch
          entry.bytes += fileSize(purl)
          for (t, n) in types(pfile) { entry.types[t, default: 0] += n }
        } else {
          entry.problem = "no mmproj file beside it (give one with --mmproj)"
        }
      } else if !ModelLoader.ggufArchitectures.contains(arch) {
        entry.problem = "architecture \(arch) is not one this build runs"
      }
      entries.append(entry)
    }
    for (url, file) in projectors where !used.contains(url.path) {
      entries.append(ModelOnDisk(origin: origin, path: url.path, family: projectorFamily(file)?.rawValue ?? "?",
                                 format: "mmproj", bytes: fileSize(url), types: types(file), mmproj: nil,
                                 pairComplete: false, problem: "no language-model GGUF of its width beside it"))
    }
    return entries
  }

  /// How alike an mmproj's file name is to a language model's: the common prefix of the two
  /// names once "mmproj" and separators around it are taken out.
  static func nameAffinity(_ mmproj: URL, _ model: URL) -> Int {
    func stem(_ u: URL) -> [Character] {
      Array(u.deletingPathExtension().lastPathComponent.lowercased().replacingOccurrences(of: "mmproj", with: "")
        .trimmingCharacters(in: CharacterSet(charactersIn: "-_. ")))
    }
    let a = stem(mmproj), b = stem(model)
    return zip(a, b).prefix { $0 == $1 }.count
  }

  static func projectorFamily(_ file: GGUFFile) -> QwenVisionVariant? {
    let type = file.string("clip.projector_type") ?? file.string("clip.vision.projector_type") ?? ""
    return ModelLoader.projectorFamilies[type]
  }

  static func types(_ file: GGUFFile) -> [String: Int] {
    var out: [String: Int] = [:]
    for t in file.tensors { out[t.type.rawValue, default: 0] += 1 }
    return out
  }
}
