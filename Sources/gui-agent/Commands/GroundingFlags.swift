import Engine
import Foundation
import Grounding

/// `--model-name`, `--convention`, `--prompt-template`: which known model a folder is, how it
/// writes coordinates and what prompt it gets (ground, eval screenspot, run, serve, models).
extension Commands {
  static let modelNameOption = OptionSpec.value(
    "model-name", "NAME", "Ground as this known model (ids in 'gui-agent models'): its coordinate convention and prompt (default: recognised from the folder). With run --model-url: the served model's name, read as a known model by its aliases.")
  static let conventionOption = OptionSpec.value(
    "convention", "norm1000|resized-pixels|unit",
    "How the model writes coordinates: 0...1000 of the image, pixels of its resized input, or fractions (default: the known model's).")
  static let promptTemplateOption = OptionSpec.value(
    "prompt-template", "NAME|TEXT",
    "A known prompt by name (e.g. ui-tars-1.5, qwen2.5-vl; 'gui-agent models' lists them) or text where {instruction} stands for the instruction (default: the checkpoint's own, else the known model's).")
  static let groundingOptionSpecs = [modelNameOption, conventionOption, promptTemplateOption]

  /// The three options, checked: an unknown model name, convention or template name is a usage
  /// error naming the known ones. `readModelName` false leaves `--model-name` to the caller
  /// (serve, where it is also the served id).
  static func groundingOptions(_ args: ParsedArguments, readModelName: Bool = true) throws -> GroundingOptions {
    var options = GroundingOptions()
    if readModelName, let name = args.string("model-name") {
      guard KnownModels.named(name) != nil else {
        throw UsageError("--model-name: no known model is named '\(name)' (known: \(KnownModels.all.map(\.id).joined(separator: ", ")))")
      }
      options.modelName = name
    }
    if let given = args.string("convention") {
      guard let convention = CoordinateConvention(optionName: given) else {
        throw UsageError("--convention: '\(given)' is not one of \(CoordinateConvention.allCases.map(\.optionName).joined(separator: ", "))")
      }
      options.convention = convention
    }
    if let template = args.string("prompt-template") {
      guard KnownModels.template(named: template) != nil || template.contains("{instruction}") else {
        throw UsageError("--prompt-template: '\(template)' is neither a known template (\(KnownModels.templateNames.joined(separator: ", "))) "
          + "nor text holding {instruction}")
      }
      options.promptTemplate = template
    }
    return options
  }

  /// One line on standard error saying which known model the grounder grounds as, and the
  /// names not used (nothing for a family without rows, e.g. the embedded bluelm_vl model).
  static func logSetup(_ setup: GroundingSetup) {
    guard setup.knownModel != nil || !setup.notes.isEmpty else { return }
    let known = setup.knownModel.map { "\($0.displayName) (\(setup.chosenBy))" } ?? "no known model (\(setup.chosenBy))"
    Output.log("grounding as \(known): \(setup.convention.optionName) coordinates, prompt '\(setup.template.name)'")
    for note in setup.notes { Output.log(note) }
  }

  /// The setup's fields for `--json` output.
  static func setupJSON(_ setup: GroundingSetup) -> [String: Any] {
    ["convention": setup.convention.optionName, "prompt_template": setup.template.name,
     "known_model": setup.knownModel.map { $0.id as Any } ?? NSNull(), "chosen_by": setup.chosenBy]
  }
}
