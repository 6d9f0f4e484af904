import Engine
import Foundation
import Grounding

/// `gui-agent models`: the known-models table, or which row a model folder is.
extension Commands {
  static let models = Command(
    name: "models",
    abstract: "List the known GUI model families and the models on disk, or say which one a model folder is.",
    discussion: """
      Without --model: one row per known family: its id (for --model-name), architectures
      (config.json model_type), coordinate convention, answer form, prompt (for --prompt-template)
      and where they are documented; then the models on disk: the embedded model, the model cache
      (${GUI_AGENT_CACHE:-~/.cache/gui-agent}/models: folders and GGUF files one level down) and
      each --path, with family, format, size, stored types, and whether a GGUF pair is complete
      (headers only; no weights are read). With --model DIR: which row the folder is recognised as
      and why, from its names and config.json's model_type, with --model-name, --convention and
      --prompt-template applied as ground applies them. See docs/models.md.
      """,
    options: [.value("model", "DIR|FILE", "A model folder (or a GGUF file with its mmproj beside it) to recognise."),
              .value("path", "PATH", "Also list the models at PATH: a folder, a GGUF file, or a folder of those (repeatable).",
                     repeatable: true)] + groundingOptionSpecs,
    run: { args in
      let options = try groundingOptions(args)
      if let path = args.string("model") {
        let family = try modelType(path)
        let setup = try GroundingSetup.choose(folder: path, family: family, options: options)
        if args.json {
          try Output.json(setupJSON(setup).merging(["model": path, "model_type": family, "notes": setup.notes]) { a, _ in a })
        } else {
          Output.out("\(setup.knownModel?.displayName ?? "no known model") (\(setup.chosenBy))")
          Output.out("convention: \(setup.convention.optionName)")
          Output.out("prompt: \(setup.template.name)")
          for note in setup.notes { Output.out("note: \(note)") }
        }
        return .success
      }
      let onDisk = inventory(given: args.strings("path"))
      if args.json {
        try Output.json(["models": KnownModels.all.map(rowJSON), "templates": KnownModels.templateNames,
                         "on_disk": onDisk.map(diskJSON)])
      } else {
        let rows = [["id", "model_type", "convention", "answer", "prompt", "source"]] + KnownModels.all.map {
          [$0.id, $0.architectures.joined(separator: ","), $0.convention.optionName, $0.answer.rawValue,
           $0.template?.name ?? "(none published)", $0.source]
        }
        let widths = (0..<5).map { c in rows.map { $0[c].count }.max() ?? 0 }
        for row in rows {
          Output.out(zip(row, widths + [0]).map { $0.padding(toLength: max($1, $0.count), withPad: " ", startingAt: 0) }
            .joined(separator: "  "))
        }
        Output.out("\nOther prompts for --prompt-template: \(KnownModels.extraTemplates.map(\.name).joined(separator: ", "))")
        printInventory(onDisk)
      }
      return .success
    })

  /// `model_type` of the folder's config.json (top level, as every supported family writes it).
  static func modelType(_ path: String) throws -> String {
    if path.lowercased().hasSuffix(".gguf") {
      // A GGUF file: its family as `models` lists it, paired with an mmproj beside it.
      let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
      let entries = ModelInventory.scan(folder, origin: "given")
      let standardized = URL(fileURLWithPath: path).standardizedFileURL.path
      guard let entry = entries.first(where: { URL(fileURLWithPath: $0.path).standardizedFileURL.path == standardized }) else {
        throw GroundingError.invalidArgument("\(path): not a readable GGUF file")
      }
      if let problem = entry.problem, entry.family == "?" { throw GroundingError.invalidArgument("\(path): \(problem)") }
      if entry.format == "mmproj" {
        throw GroundingError.invalidArgument("\(path) is an mmproj file (the vision part); give the language-model GGUF beside it")
      }
      if entry.pairComplete == false {
        throw GroundingError.invalidArgument("\(path): \(entry.problem ?? "no mmproj beside it"); its family (Qwen2-VL or Qwen2.5-VL) is told by the mmproj")
      }
      return entry.family
    }
    let url = URL(fileURLWithPath: path).appendingPathComponent("config.json")
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
      throw GroundingError.invalidArgument("\(url.path): cannot be read (--model takes a checkpoint folder): \(error.localizedDescription)")
    }
    guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
          let type = object["model_type"] as? String else {
      throw GroundingError.invalidArgument("\(url.path): no string model_type at the top level")
    }
    return type
  }

  static func rowJSON(_ m: KnownModel) -> [String: Any] {
    [
      "id": m.id, "name": m.displayName, "aliases": m.aliases, "architectures": m.architectures,
      "convention": m.convention.optionName, "answer": m.answer.rawValue,
      "prompt_template": m.template.map { $0.name as Any } ?? NSNull(),
      "system": m.template?.system.map { $0 as Any } ?? NSNull(),
      "prompt": m.template.map { $0.user as Any } ?? NSNull(),
      "example_answer": m.exampleAnswer, "source": m.source, "note": m.note,
    ]
  }
}
