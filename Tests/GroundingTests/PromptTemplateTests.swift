import Engine
import Foundation
import Imaging
import Testing
@testable import Grounding

// A checkpoint may name the task prompt it was trained with (config.json `prompt_template`);
// the Grounder uses it unless the caller gives one, and an image placeholder in it decides
// where the image goes.
@Suite struct PromptTemplateTests {
  /// A copy of the tiny checkpoint whose config.json carries `template` (or none).
  static func model(template: String?) throws -> LoadedModel {
    let source = try #require(Bundle.module.url(forResource: "tiny-bluelm", withExtension: nil, subdirectory: "Fixtures"))
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("prompt-template-\(UUID().uuidString)")
    try FileManager.default.copyItem(at: source, to: dir)
    defer { try? FileManager.default.removeItem(at: dir) }
    let configURL = dir.appendingPathComponent("config.json")
    var config = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any])
    config["prompt_template"] = template
    try JSONSerialization.data(withJSONObject: config).write(to: configURL)
    return try ModelLoader.load(path: dir.path)
  }

  @Test func theModelsTemplateIsTheDefault() throws {
    let model = try Self.model(template: "{instruction}<|image_pad|>")
    #expect(model.promptTemplate == "{instruction}<|image_pad|>")
    #expect(try Grounder(model: model).promptTemplate == "{instruction}<|image_pad|>")
    #expect(try Grounder(model: model, promptTemplate: "find {instruction}").promptTemplate == "find {instruction}")
    #expect(try Grounder(model: Self.model(template: nil)).promptTemplate == "{instruction}")
  }

  @Test func aPlaceholderInTheTemplatePutsTheImageAfterTheText() throws {
    let model = try Self.model(template: "{instruction}<|image_pad|>")
    let grounder = try Grounder(model: model)
    let image = try RGBImage(width: 40, height: 30, fill: RGB(200, 200, 200))
    let ids = try #require(model.vision?.tokenIds)
    let text = grounder.promptTemplate.replacingOccurrences(of: "{instruction}", with: "OK")
    let after = try grounder.pipeline.prepare(prompt: text, images: [image]).ids
    let before = try grounder.pipeline.prepare(prompt: "OK", images: [image]).ids
    let okIds = model.tokenizer.encode("OK")
    func index(of needle: [Int], in hay: [Int]) -> Int? {
      hay.indices.first { hay[$0...].starts(with: needle) }
    }
    let start = try #require(after.firstIndex(of: ids.imageStart))
    #expect(try #require(index(of: okIds, in: after)) < start)
    #expect(try #require(index(of: okIds, in: before)) > (try #require(before.firstIndex(of: ids.imageStart))))
    #expect(after.count == before.count)
  }
}
