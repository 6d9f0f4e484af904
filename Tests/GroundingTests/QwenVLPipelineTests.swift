import Engine
import Foundation
import Imaging
import Testing
@testable import Grounding

// PNG files to patches, expanded ids and image embeddings for Qwen2-VL / Qwen2.5-VL folders,
// against the processor and models of transformers (scripts/fixtures/make_qwen_vl_fixtures.py;
// the fixtures live with the engine's parity tests in Tests/EngineTests/Fixtures/qwen-vl).

private struct QwenManifest: Decodable {
  struct Array2: Decodable { let file: String; let shape: [Int] }
  struct Image: Decodable { let file: String; let resized: [Int]; let image_grid_thw: [Int] }
  struct Case: Decodable {
    let name: String, images: [Image], prompt: String, input_ids: [Int]
    let pixel_values: Array2, vision_embeddings: Array2, greedy: [Int]
  }
  let cases: [Case]
}

private struct QwenFolder {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("EngineTests/Fixtures/qwen-vl")
  let family: String
  var checkpoint: URL { Self.root.appendingPathComponent(family) }
  var references: URL { Self.root.appendingPathComponent(family + "-ref") }
  func manifest() throws -> QwenManifest {
    try JSONDecoder().decode(QwenManifest.self, from: Data(contentsOf: references.appendingPathComponent("manifest.json")))
  }
  func floats(_ a: QwenManifest.Array2) throws -> [Float] {
    let data = try Data(contentsOf: references.appendingPathComponent(a.file))
    return data.withUnsafeBytes { raw in
      (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
    }
  }
  func image(_ file: String) throws -> RGBImage { try PNG.read(path: references.appendingPathComponent(file).path) }
}

@Suite struct QwenVLPipelineTests {
  @Test(arguments: ["qwen2_vl", "qwen2_5_vl", "qwen3_vl"])
  func pixelsIdsAndEmbeddingsMatchTheProcessor(_ family: String) throws {
    let folder = QwenFolder(family: family)
    let model = try ModelLoader.load(path: folder.checkpoint.path, threads: 2)
    guard case let .nativeResolution(resize)? = model.vision?.layout else { Issue.record("not native resolution"); return }
    let pipeline = try VisionLanguagePipeline(model: model)
    for c in try folder.manifest().cases {
      let images = try c.images.map { try folder.image($0.file) }
      // Pillow's bicubic resize, rescale, normalize, patch order: the processor's pixel values.
      var patches: [Float] = []
      for (image, ref) in zip(images, c.images) {
        let resized = try image.resized(width: ref.resized[1], height: ref.resized[0], filter: .bicubic)
        let (values, grid) = try resize.patches(rgb: resized.pixels, height: resized.height, width: resized.width)
        #expect([grid.t, grid.h, grid.w] == ref.image_grid_thw, "\(c.name)")
        patches += values
      }
      let expected = try folder.floats(c.pixel_values)
      #expect(patches.count == expected.count)
      let worst = zip(patches, expected).map { abs($0 - $1) }.max() ?? .infinity
      #expect(worst <= 1e-5, "\(c.name): pixel values off by \(worst)")
      // The whole preparation from the raw prompt.
      let prepared = try pipeline.prepare(prompt: c.prompt, images: images, raw: true)
      #expect(prepared.ids == c.input_ids, "\(c.name): expanded ids")
      #expect(prepared.imageGrids.map { [$0.t, $0.h, $0.w] } == c.images.map(\.image_grid_thw))
      #expect(prepared.resizedSizes.map { [$0.height, $0.width] } == c.images.map(\.resized))
      let packed = try #require(prepared.imageEmbeddings)
      let network = try #require(model.network as? QwenVLModel)
      let d = network.hiddenSize, width = network.imageFeatureWidth
      var embeddings: [Float] = []  // the merged features, without DeepStack's
      for r in 0..<(packed.count / width) { embeddings += packed[(r * width)..<(r * width + d)] }
      let reference = try folder.floats(c.vision_embeddings)
      let scale = reference.map(abs).max() ?? 1
      let off = zip(embeddings, reference).map { abs($0 - $1) }.max() ?? .infinity
      #expect(embeddings.count == reference.count && off / scale < 1e-4, "\(c.name): embeddings off by \(off / scale)")
      // And generation through the loaded model's completion: the reference's greedy tokens.
      let completion = try model.complete(promptIds: prepared.ids, imageEmbeddings: prepared.imageEmbeddings,
                                          imageGrids: prepared.imageGrids, maxTokens: 4)
      #expect(completion.ids == Array(c.greedy.prefix(4)), "\(c.name): \(completion.ids) vs \(c.greedy)")
    }
  }

  @Test func templatedPromptPutsThePlaceholderBeforeTheText() throws {
    let folder = QwenFolder(family: "qwen2_vl")
    let model = try ModelLoader.load(path: folder.checkpoint.path)
    let pipeline = try VisionLanguagePipeline(model: model)
    #expect(pipeline.imagePlaceholder == "<|vision_start|><|image_pad|><|vision_end|>")
    let image = try folder.image("up_30x45.png")
    let prepared = try pipeline.prepare(prompt: "Where is the OK button?", images: [image])
    let text = model.tokenizer.decode(prepared.ids.filter { $0 != model.vision?.tokenIds.imagePad })
    #expect(text.contains("<|im_start|>user\n<|vision_start|><|vision_end|>Where is the OK button?<|im_end|>\n<|im_start|>assistant\n"), "\(text)")
    #expect(prepared.ids.count { $0 == model.vision?.tokenIds.imagePad } == 6)  // 84x56 -> 3x2 tokens
    // One placeholder too many for the images given: named.
    #expect(throws: GroundingError.self) {
      try pipeline.prepare(prompt: "<|vision_start|><|image_pad|><|vision_end|>x", images: [image, image], raw: true)
    }
  }
}
