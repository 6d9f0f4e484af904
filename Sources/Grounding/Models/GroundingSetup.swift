// Which row of the known-models table a loaded model is, and so which coordinate convention and
// prompt it grounds with: explicit overrides first, then the names in its folder, then its
// architecture alone.

/// What the user asked for (`--model-name`, `--convention`, `--prompt-template`); nil: choose.
public struct GroundingOptions: Sendable, Hashable {
  /// A row of ``KnownModels`` by id or display name.
  public var modelName: String?
  public var convention: CoordinateConvention?
  /// A known template's name, or prompt text holding `{instruction}`.
  public var promptTemplate: String?

  public init(modelName: String? = nil, convention: CoordinateConvention? = nil, promptTemplate: String? = nil) {
    self.modelName = modelName; self.convention = convention; self.promptTemplate = promptTemplate
  }
}

/// How a model grounds: its row (if any), convention and prompt, and why.
public struct GroundingSetup: Sendable, Hashable {
  public var knownModel: KnownModel?
  public var convention: CoordinateConvention
  public var template: PromptTemplate
  /// How the row was chosen: `--model-name`, `folder name 'UI-TARS-1.5-7B'`, `model_type qwen2_vl`.
  public var chosenBy: String
  /// Names that pointed at a row of another architecture, and were not used.
  public var notes: [String] = []

  public init(knownModel: KnownModel?, convention: CoordinateConvention, template: PromptTemplate,
              chosenBy: String, notes: [String] = []) {
    self.knownModel = knownModel; self.convention = convention; self.template = template
    self.chosenBy = chosenBy; self.notes = notes
  }

  /// Chooses for a model of `family` (its `model_type`) loaded from `folder`.
  ///
  /// Row: `options.modelName`, else the first of the folder's names (``FolderNames``) naming a
  /// GUI fine-tune of this architecture, else one naming a base model, else the architecture's
  /// base row; `bluelm_vl` and other families without rows keep their own convention.
  /// Convention: `options.convention`, else the row's, else the family's. Prompt:
  /// `options.promptTemplate`, else the checkpoint's own `checkpointTemplate`, else the row's,
  /// else the bare instruction.
  public static func choose(folder: String?, family: String, checkpointTemplate: String? = nil,
                            options: GroundingOptions = .init()) throws(GroundingError) -> GroundingSetup {
    var notes: [String] = []
    let row: KnownModel?
    let chosenBy: String
    if let name = options.modelName {
      guard let named = KnownModels.named(name) else {
        throw .invalidArgument("no known model is named '\(name)' (known: \(KnownModels.all.map(\.id).joined(separator: ", ")))")
      }
      guard named.runs(on: family) else {
        throw .invalidArgument("\(named.displayName) models are \(named.architectures.joined(separator: " or ")), "
          + "but this model's model_type is \(family)")
      }
      row = named
      chosenBy = "--model-name"
    } else if let found = match(folder.map(FolderNames.read) ?? [], family: family, notes: &notes) {
      row = found.row
      chosenBy = "\(found.name.source) '\(found.name.value)'"
    } else {
      row = KnownModels.base(for: family)
      chosenBy = "model_type \(family)"
    }
    guard let convention = options.convention ?? row?.convention ?? CoordinateConvention.forFamily(family) else {
      throw .invalidArgument("no coordinate convention is known for the '\(family)' family (give one with --convention)")
    }
    let template: PromptTemplate
    if let given = options.promptTemplate, let named = KnownModels.template(named: given) {
      template = named
    } else if let given = options.promptTemplate {
      template = try PromptTemplate.custom(given)
    } else if let own = checkpointTemplate {
      template = PromptTemplate(name: "checkpoint", user: own)
    } else {
      template = row?.template ?? .bare
    }
    return GroundingSetup(knownModel: row, convention: convention, template: template, chosenBy: chosenBy, notes: notes)
  }

  /// The row the names point at: GUI fine-tunes before base models, each in the names' order;
  /// within one name the longest alias wins (`ui-tars-1.5` over `ui-tars`).
  static func match(_ names: [FolderName], family: String, notes: inout [String]) -> (row: KnownModel, name: FolderName)? {
    for wantBase in [false, true] {
      for name in names {
        let hits = KnownModels.all.filter { $0.isBase == wantBase }
          .compactMap { row in longestAlias(row, in: name.value).map { (row: row, length: $0) } }
          .sorted { $0.length > $1.length }
        guard let best = hits.first?.row else { continue }
        if !best.runs(on: family) {
          let note = "\(name.source) '\(name.value)' names \(best.displayName), a "
            + "\(best.architectures.joined(separator: "/")) model, but model_type is \(family): not used"
          if !notes.contains(note) { notes.append(note) }
        }
        if let fit = hits.first(where: { $0.row.runs(on: family) }) { return (fit.row, name) }
      }
    }
    return nil
  }

  /// The length of the longest alias of `row` found in `text` at the start of a word
  /// (case-insensitive, `_` and spaces read as `-`).
  static func longestAlias(_ row: KnownModel, in text: String) -> Int? {
    let hay = Array(text.lowercased().map { $0 == "_" || $0 == " " ? "-" : $0 })
    var best: Int? = nil
    for alias in row.aliases {
      let needle = Array(alias)
      guard !needle.isEmpty, needle.count <= hay.count else { continue }
      for i in 0...(hay.count - needle.count) where i == 0 || !(hay[i - 1].isLetter || hay[i - 1].isNumber) {
        if Array(hay[i..<(i + needle.count)]) == needle { best = max(best ?? 0, needle.count); break }
      }
    }
    return best
  }
}
