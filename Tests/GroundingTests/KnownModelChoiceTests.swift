import Foundation
import Testing
@testable import Grounding

// Which known model a folder is: temporary folders holding only the files that name it
// (config.json, README.md); the weights are never read.
@Suite struct KnownModelChoiceTests {
  /// A folder `name` in a fresh temporary folder, with `config` as config.json and `readme` as
  /// README.md when given.
  static func folder(_ name: String, config: [String: Any]? = nil, readme: String? = nil) throws -> URL {
    let dir = FileManager.default.temporaryDirectory
      .appendingPathComponent("known-models-\(UUID().uuidString)").appendingPathComponent(name)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    if let config { try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json")) }
    if let readme { try Data(readme.utf8).write(to: dir.appendingPathComponent("README.md")) }
    return dir
  }

  static func choose(_ dir: URL, _ family: String, _ options: GroundingOptions = .init()) throws -> GroundingSetup {
    try GroundingSetup.choose(folder: dir.path, family: family, options: options)
  }

  @Test func theFolderNameRecognisesUITARS15() throws {
    let s = try Self.choose(Self.folder("UI-TARS-1.5-7B"), "qwen2_5_vl")
    #expect(s.knownModel?.id == "ui-tars-1.5")
    #expect(s.convention == .resizedPixels)
    #expect(s.template.name == "ui-tars-1.5" && s.template.maxTokens != nil)
    #expect(s.chosenBy == "folder name 'UI-TARS-1.5-7B'")
  }

  @Test func theLongestAliasWins() throws {
    // "ui-tars" is in both names; the 1.5 row's longer alias decides, and each runs on its own base.
    #expect(try Self.choose(Self.folder("ui_tars_7b_dpo"), "qwen2_vl").knownModel?.id == "ui-tars")
    #expect(try Self.choose(Self.folder("uitars-1.5-7b-8bit"), "qwen2_5_vl").knownModel?.id == "ui-tars-1.5")
  }

  @Test func configNameOrPathNamesOSAtlas() throws {
    let dir = try Self.folder("snapshot", config: ["model_type": "qwen2_vl", "_name_or_path": "OS-Atlas-Base-7B"])
    let s = try Self.choose(dir, "qwen2_vl")
    #expect(s.knownModel?.id == "os-atlas-base" && s.convention == .norm1000 && s.template.name == "os-atlas")
    #expect(s.chosenBy == "config.json _name_or_path 'OS-Atlas-Base-7B'")
  }

  @Test func theCardTitleBeatsTheBaseModel() throws {
    let card = "---\nlicense: apache-2.0\nbase_model:\n- Qwen/Qwen2-VL-2B-Instruct\n---\n\n```\n# not a title\n```\n# ShowUI-2B\n"
    let s = try Self.choose(Self.folder("model", readme: card), "qwen2_vl")
    #expect(s.knownModel?.id == "showui" && s.convention == .unitInterval)
    #expect(s.chosenBy == "README.md title 'ShowUI-2B'")
  }

  @Test func baseModelOfTheCardIsTheLastResortForAFineTune() throws {
    // A re-upload: its own names say nothing, its card's base_model names the family.
    let s = try Self.choose(Self.folder("snapshot", readme: "---\nbase_model: \"osunlp/UGround-V1-7B\"\n---\n# Quantized\n"), "qwen2_vl")
    #expect(s.knownModel?.id == "uground-v1")
    #expect(s.chosenBy == "README.md base_model 'osunlp/UGround-V1-7B'")
    // A fine-tune of a base model names the base only after its own GUI name.
    let gta = try Self.choose(Self.folder("GTA1-7B", readme: "---\nbase_model: Qwen/Qwen2.5-VL-7B-Instruct\n---\n"), "qwen2_5_vl")
    #expect(gta.knownModel?.id == "gta1" && gta.template.name == "gta1")
  }

  @Test func aHuggingFaceCacheSnapshotIsNamedByItsCacheFolder() throws {
    let root = try Self.folder("models--Hcompany--Holo2-8B")
    let snapshot = root.appendingPathComponent("snapshots/0123abcd")
    try FileManager.default.createDirectory(at: snapshot, withIntermediateDirectories: true)
    let s = try Self.choose(snapshot, "qwen3_vl")
    #expect(s.knownModel?.id == "holo2" && s.chosenBy == "cache folder 'models--Hcompany--Holo2-8B'")
  }

  @Test func namesMatchWholeWordsOnly() throws {
    // "house-gui" holds "se-gui" but not as a word: the architecture decides.
    let s = try Self.choose(Self.folder("warehouse-gui-7b"), "qwen2_5_vl")
    #expect(s.knownModel?.id == "qwen2.5-vl" && s.chosenBy == "model_type qwen2_5_vl")
  }

  @Test(arguments: [("qwen2_vl", "qwen2-vl", CoordinateConvention.norm1000, "bare"),
                    ("qwen2_5_vl", "qwen2.5-vl", .resizedPixels, "qwen2.5-vl"),
                    ("qwen3_vl", "qwen3-vl", .norm1000, "qwen3-vl")])
  func anUnnamedFolderFallsBackToItsArchitecture(family: String, row: String, convention: CoordinateConvention,
                                                 template: String) throws {
    let s = try Self.choose(Self.folder("checkpoint-1200"), family)
    #expect(s.knownModel?.id == row && s.convention == convention && s.template.name == template)
    #expect(s.chosenBy == "model_type \(family)")
  }

  @Test func bluelmKeepsItsOwnConventionAndPrompt() throws {
    let dir = try Self.folder("bluelm-vl-nano")
    let plain = try GroundingSetup.choose(folder: dir.path, family: "bluelm_vl")
    #expect(plain.knownModel == nil && plain.convention == .norm1000 && plain.template == .bare)
    let own = try GroundingSetup.choose(folder: dir.path, family: "bluelm_vl", checkpointTemplate: "{instruction}<|image_pad|>")
    #expect(own.template.name == "checkpoint" && own.template.user == "{instruction}<|image_pad|>")
  }

  @Test func aNameOfAnotherArchitectureIsNotedAndNotUsed() throws {
    // GTA1 checkpoints are Qwen2.5-VL; a Qwen2-VL folder so named is read by its architecture.
    let s = try Self.choose(Self.folder("GTA1-2B"), "qwen2_vl")
    #expect(s.knownModel?.id == "qwen2-vl")
    #expect(s.notes == ["folder name 'GTA1-2B' names GTA1, a qwen2_5_vl model, but model_type is qwen2_vl: not used"])
  }

  @Test func overridesComeFirst() throws {
    let dir = try Self.folder("UI-TARS-1.5-7B")
    let named = try Self.choose(dir, "qwen2_5_vl", GroundingOptions(modelName: "GTA1"))
    #expect(named.knownModel?.id == "gta1" && named.chosenBy == "--model-name" && named.template.name == "gta1")
    let convention = try Self.choose(dir, "qwen2_5_vl", GroundingOptions(convention: .norm1000))
    #expect(convention.knownModel?.id == "ui-tars-1.5" && convention.convention == .norm1000)
    let template = try Self.choose(dir, "qwen2_5_vl", GroundingOptions(promptTemplate: "UI-TARS-1.5-grounding"))
    #expect(template.template.name == "ui-tars-1.5-grounding" && template.convention == .resizedPixels)
    let text = try Self.choose(dir, "qwen2_5_vl", GroundingOptions(promptTemplate: "where is {instruction}?"))
    #expect(text.template == PromptTemplate(name: "custom", user: "where is {instruction}?"))
    // The checkpoint's own template yields to the user's, not to the row's.
    let own = try GroundingSetup.choose(folder: dir.path, family: "qwen2_5_vl", checkpointTemplate: "{instruction}")
    #expect(own.template.name == "checkpoint")
  }

  @Test func badOverridesNameTheProblem() throws {
    let dir = try Self.folder("x")
    #expect(throws: GroundingError.invalidArgument(
      "no known model is named 'gpt-ui' (known: \(KnownModels.all.map(\.id).joined(separator: ", ")))")) {
      try Self.choose(dir, "qwen2_vl", GroundingOptions(modelName: "gpt-ui"))
    }
    #expect(throws: GroundingError.invalidArgument("UI-TARS-1.5 models are qwen2_5_vl, but this model's model_type is qwen2_vl")) {
      try Self.choose(dir, "qwen2_vl", GroundingOptions(modelName: "ui-tars-1.5"))
    }
    #expect(throws: GroundingError.self) { try Self.choose(dir, "qwen2_vl", GroundingOptions(promptTemplate: "no placeholder")) }
    #expect(throws: GroundingError.invalidArgument("no coordinate convention is known for the 'llava' family (give one with --convention)")) {
      try Self.choose(dir, "llava")
    }
    #expect(try Self.choose(dir, "llava", GroundingOptions(convention: .unitInterval)).convention == .unitInterval)
  }

  @Test func unreadableFilesGiveNoNames() throws {
    let dir = try Self.folder("plain")
    try Data("{not json".utf8).write(to: dir.appendingPathComponent("config.json"))
    try Data([0xFF, 0xFE, 0x00]).write(to: dir.appendingPathComponent("README.md"))
    #expect(FolderNames.read(dir.path).map(\.source) == ["folder name"])
  }
}
