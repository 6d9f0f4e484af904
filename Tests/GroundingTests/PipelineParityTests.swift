import Engine
import Foundation
import Imaging
import Testing
@testable import Grounding

// The whole path from text and PNG files to logits and greedy ids, against
// scripts/fixtures/make_pipeline_fixtures.py: `tokenizers` for the ids, Pillow for AnyRes,
// transformers' SiglipVisionModel and LlamaForCausalLM for the numbers, on the tiny random
// checkpoint in Fixtures/tiny-bluelm (the same directory the CLI tests load).

private struct PipelineManifest: Decodable {
  struct Case: Decodable {
    let name: String, images: [String], prompt: String, thinking: Bool, text: String
    let prompt_ids: [Int], grids: [[Int]], expanded_ids: [Int], last_logits: [Float], greedy: [Int]
  }
  let vocab_size: Int
  let token_ids: [String: Int]
  let cases: [Case]
}

private enum PipelineFixture {
  static func url(_ name: String, in folder: String) throws -> URL {
    try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/\(folder)"),
                 "missing fixture \(folder)/\(name)")
  }
  static func manifest() throws -> PipelineManifest {
    try JSONDecoder().decode(PipelineManifest.self, from: Data(contentsOf: url("manifest.json", in: "pipeline")))
  }
  static func model() throws -> LoadedModel {
    let dir = try #require(Bundle.module.url(forResource: "tiny-bluelm", withExtension: nil, subdirectory: "Fixtures"))
    return try ModelLoader.load(path: dir.path, options: LoadOptions(kvCache: .f32))  // float32, as transformers
  }
  static func image(_ file: String) throws -> RGBImage {
    try PNG.read(path: url(file, in: "pipeline").path)
  }
  static func thinking(_ c: PipelineManifest.Case) -> ThinkingMode { c.thinking ? .think(budget: nil) : .default }
}

private let pipelineCaseNames = ["click_small_13x7", "click_land_40x30", "click_wide_100x25", "click_tall_30x90",
                                 "click_square_64x64", "two_images", "text_only", "think_wide"]

@Suite struct PipelineParityTests {

  @Test func manifestHoldsEveryCase() throws {
    let m = try PipelineFixture.manifest()
    #expect(m.cases.map(\.name) == pipelineCaseNames)
    let model = try PipelineFixture.model()
    #expect(model.tokenizer.vocabularySize == m.vocab_size)
    #expect(model.network.vocabularySize == m.vocab_size)
    let ids = try #require(model.vision?.tokenIds)
    #expect(ids == ImageTokenIds(imageStart: m.token_ids["image_start"] ?? -1, imageEnd: m.token_ids["image_end"] ?? -1,
                                 tileNewline: m.token_ids["tile_newline"] ?? -1, imagePad: m.token_ids["image_pad"] ?? -1))
    #expect(model.eosIds == [m.token_ids["eos"] ?? -1])
  }

  @Test(arguments: pipelineCaseNames) func matchesReference(_ name: String) throws {
    let c = try #require(try PipelineFixture.manifest().cases.first { $0.name == name })
    let model = try PipelineFixture.model()
    let pipeline = try VisionLanguagePipeline(model: model)
    let images = try c.images.map(PipelineFixture.image)
    let thinking = PipelineFixture.thinking(c)

    // Template and tokenizer: the rendered text and its ids.
    let rendered = model.template.render(String(repeating: "<|image_pad|>", count: images.count) + c.prompt,
                                         thinking: thinking, markers: model.thinkingMarkers)
    #expect(rendered == c.text)
    #expect(model.tokenizer.encode(c.text) == c.prompt_ids)

    // AnyRes grids and the expanded sequence.
    let prepared = try pipeline.prepare(prompt: c.prompt, images: images, thinking: thinking)
    #expect(prepared.plans.map { [$0.grid.rows, $0.grid.cols] } == c.grids)
    #expect(prepared.ids == c.expanded_ids)
    let features = prepared.plans.reduce(0) { $0 + ImageTokenLayout.featureCount(plan: $1, tokensPerSide: pipeline.tokensPerSide) }
    #expect((prepared.imageEmbeddings?.count ?? 0) == features * 48)  // D_lm = 48

    // The decoder's last logits (state reached: within 1e-4 of the reference's largest).
    var cache = model.network.makeCache(capacity: prepared.ids.count, precision: .f32)  // float32, as transformers
    let logits = try model.network.prefill(tokens: prepared.ids, imageEmbeddings: prepared.imageEmbeddings,
                                           imagePadId: model.vision?.tokenIds.imagePad ?? -1, cache: &cache)
    let err = relativeError(logits, c.last_logits)
    #expect(err <= 1e-4, "\(name): last logits off by \(err) of their scale")

    // Greedy continuation through the completion API.
    let completion = try model.complete(promptIds: prepared.ids, imageEmbeddings: prepared.imageEmbeddings,
                                        maxTokens: 8, thinking: thinking)
    #expect(completion.ids == c.greedy)
    #expect(relativeError(completion.promptLogits, c.last_logits) <= 1e-4)
    #expect(completion.finishReason == .length)
    if c.thinking {
      #expect(completion.reasoningTokens == 8)
      #expect(completion.answer.isEmpty)
    }
  }

  // MARK: - Placeholders

  @Test func rawPromptWithOnePlaceholderPerImageMatchesTemplate() throws {
    let m = try PipelineFixture.manifest()
    let pipeline = try VisionLanguagePipeline(model: try PipelineFixture.model())
    for name in ["click_wide_100x25", "two_images", "text_only"] {
      let c = try #require(m.cases.first { $0.name == name })
      let images = try c.images.map(PipelineFixture.image)
      #expect(try pipeline.prepare(prompt: c.text, images: images, raw: true).ids == c.expanded_ids, "\(name)")
    }
  }

  @Test func placeholderAlreadyInPromptIsNotRepeated() throws {
    let c = try #require(try PipelineFixture.manifest().cases.first { $0.name == "click_tall_30x90" })
    let pipeline = try VisionLanguagePipeline(model: try PipelineFixture.model())
    let image = try PipelineFixture.image("tall_30x90.png")
    #expect(try pipeline.prepare(prompt: "<|image_pad|>" + c.prompt, images: [image]).ids == c.expanded_ids)
  }

  @Test func rawPlaceholderCountMustMatchImages() throws {
    let pipeline = try VisionLanguagePipeline(model: try PipelineFixture.model())
    let image = try PipelineFixture.image("small_13x7.png")
    #expect(throws: GroundingError.imagePlaceholderMismatch(placeholders: 2, images: 1)) {
      try pipeline.prepare(prompt: "[|Human|]:<|image_pad|><|image_pad|>click[|AI|]:", images: [image], raw: true)
    }
    #expect(throws: GroundingError.imagePlaceholderMismatch(placeholders: 0, images: 1)) {
      try pipeline.prepare(prompt: "[|Human|]:click[|AI|]:", images: [image], raw: true)
    }
    #expect(throws: GroundingError.imagePlaceholderMismatch(placeholders: 1, images: 0)) {
      try pipeline.prepare(prompt: "<|image_pad|>click")
    }
  }
}
