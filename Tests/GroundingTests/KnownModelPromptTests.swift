import Engine
import Foundation
import Imaging
import Testing
@testable import Grounding

// The grounder on the tiny random Qwen-VL folders (Tests/EngineTests/Fixtures/qwen-vl): what it
// chooses from the folder, and the prompt a known template becomes. The answers are noise.
@Suite struct KnownModelPromptTests {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("EngineTests/Fixtures/qwen-vl")

  static func model(_ family: String) throws -> LoadedModel {
    try ModelLoader.load(path: fixtures.appendingPathComponent(family).path, threads: 2)
  }

  static func screenshot() throws -> RGBImage { try RGBImage(width: 300, height: 60, fill: RGB(230, 230, 230)) }

  @Test func theFoldersAreRecognisedByTheirArchitecture() throws {
    let q2 = try Grounder(model: Self.model("qwen2_vl"))
    #expect(q2.setup.knownModel?.id == "qwen2-vl" && q2.convention == .norm1000 && q2.promptTemplate == "{instruction}")
    let q25 = try Grounder(model: Self.model("qwen2_5_vl"))
    #expect(q25.setup.knownModel?.id == "qwen2.5-vl" && q25.convention == .resizedPixels)
    #expect(q25.setup.template.name == "qwen2.5-vl")
  }

  @Test func aSystemTemplateReplacesTheFoldersSystemPromptAndNamesTheResizedSize() throws {
    let model = try Self.model("qwen2_5_vl")
    let grounder = try Grounder(model: model, options: GroundingOptions(modelName: "gta1"))
    let prepared = try grounder.prepare(instruction: "the OK button", image: try Self.screenshot(), thinking: .default)
    let size = try grounder.pipeline.inputSize(of: try Self.screenshot())
    #expect(prepared.resizedSizes.first?.width == size.width && prepared.resizedSizes.first?.height == size.height)
    let text = model.tokenizer.decode(prepared.ids)
    #expect(text.hasPrefix("<|im_start|>system\nYou are an expert UI element locator."))
    #expect(text.contains("The image resolution is height \(size.height) and width \(size.width)."))
    #expect(text.components(separatedBy: "<|im_start|>system").count == 2, "one system message")
    let user = try #require(text.range(of: "<|im_start|>user\n"))
    let image = try #require(text.range(of: "<|vision_start|>"))
    let instruction = try #require(text.range(of: "the OK button<|im_end|>\n<|im_start|>assistant\n"))
    #expect(user.upperBound == image.lowerBound && image.upperBound < instruction.lowerBound)
  }

  @Test func anImagePlaceholderPutsTheScreenshotInsideTheText() throws {
    let model = try Self.model("qwen2_vl")
    let grounder = try Grounder(model: model, options: GroundingOptions(modelName: "showui"))
    #expect(grounder.convention == .unitInterval)
    let text = model.tokenizer.decode(try grounder.prepare(instruction: "OK", image: try Self.screenshot(), thinking: .default).ids)
    let image = try #require(text.range(of: "<|vision_start|>"))
    let intro = try #require(text.range(of: "scaled from 0 to 1."))
    let query = try #require(text.range(of: "<|vision_end|>OK<|im_end|>"))
    #expect(intro.upperBound == image.lowerBound && image.lowerBound < query.lowerBound)
    #expect(text.components(separatedBy: "<|vision_start|>").count == 2, "one image")
  }

  @Test func groundingReportsTheConventionsRangeForARandomAnswer() throws {
    // Whatever the random model writes, the grounder answers without trapping: a point inside
    // the screenshot or a reason.
    for family in ["qwen2_vl", "qwen2_5_vl"] {
      let grounder = try Grounder(model: Self.model(family), options: GroundingOptions(promptTemplate: "ui-tars-1.5-grounding"))
      let r = try grounder.ground(image: try Self.screenshot(), instruction: "the OK button", maxTokens: 8)
      if let p = r.point {
        #expect((0..<300).contains(p.x) && (0..<60).contains(p.y))
      } else {
        #expect(r.noCoordinate != nil)
      }
    }
  }
}
