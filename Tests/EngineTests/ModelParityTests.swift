import Foundation
import Testing
@testable import Engine

// MARK: - bluelm_vl against transformers
//
// Each fixture is a tiny random checkpoint; references are transformers' SiglipVisionModel,
// the adapter in torch, and LlamaForCausalLM / Qwen2ForCausalLM (float32, eager attention).
// Tolerance: max abs error <= 1e-5 * max |reference| (reached: <= 2e-6 on every output).

@Suite("Model parity with transformers")
struct ModelParityTests {
  static let tolerance: Float = 1e-5

  @Test("vision features after post_layernorm", arguments: ModelFixture.variants)
  func visionFeatures(variant: String) throws {
    let fixture = try ModelFixture(variant)
    let model = try fixture.model()
    let got = try model.visionFeatures(tiles: fixture.reference("tiles"))
    let err = relativeError(got, try fixture.reference("vision_features"))
    #expect(err <= Self.tolerance, "\(variant): relative error \(err)")
  }

  @Test("19 tiles at once (chunks of 8, 8, 3) equal each tile alone", arguments: ModelFixture.variants)
  func visionChunksEqualSingleTiles(variant: String) throws {
    let fixture = try ModelFixture(variant)
    let model = try fixture.model()
    let base = try fixture.reference("tiles")
    let tile = base.count / (try model.tileCount(base))
    // 19 different tiles: the fixture's first tile, scaled a little differently each time.
    let tiles = (0..<19).flatMap { k in base[0..<tile].map { $0 * (1 + 0.02 * Float(k)) } }
    let together = try model.visionFeatures(tiles: tiles)
    let per = together.count / 19
    for k in [0, 7, 8, 15, 16, 18] {  // both sides of each chunk boundary
      let alone = try model.visionFeatures(tiles: Array(tiles[(k * tile)..<((k + 1) * tile)]))
      let err = relativeError(Array(together[(k * per)..<((k + 1) * per)]), alone)
      #expect(err <= 1e-6, "\(variant) tile \(k): relative error \(err)")
    }
  }

  @Test("adapter output (tower + 2x2 merge + MLP)", arguments: ModelFixture.variants)
  func adapterOutput(variant: String) throws {
    let fixture = try ModelFixture(variant)
    let model = try fixture.model(threads: 2)
    let got = try model.encodeImages(tiles: fixture.reference("tiles"))
    let err = relativeError(got, try fixture.reference("adapter_output"))
    #expect(err <= Self.tolerance, "\(variant): relative error \(err)")
    // The adapter alone on the reference features.
    let alone = try model.project(visionFeatures: fixture.reference("vision_features"))
    #expect(relativeError(alone, try fixture.reference("adapter_output")) <= Self.tolerance)
  }

  @Test("text-only logits at every position", arguments: ModelFixture.variants)
  func textLogits(variant: String) throws {
    let fixture = try ModelFixture(variant)
    let model = try fixture.model()
    var cache = model.makeCache(capacity: 64, precision: .f32)  // float32, as transformers
    let got = try model.logits(tokens: fixture.manifest.text_ids, cache: &cache)
    let err = relativeError(got, try fixture.reference("text_logits"))
    #expect(err <= Self.tolerance, "\(variant): relative error \(err)")
    #expect(cache.length == fixture.manifest.text_ids.count)
  }

  @Test("logits with image features spliced at image_pad", arguments: ModelFixture.variants)
  func imageLogits(variant: String) throws {
    let fixture = try ModelFixture(variant)
    let model = try fixture.model()
    let images = try model.encodeImages(tiles: fixture.reference("tiles"))
    var cache = model.makeCache(capacity: 64, precision: .f32)  // float32, as transformers
    let got = try model.logits(tokens: fixture.manifest.image_ids, imageEmbeddings: images,
                               imagePadId: fixture.imagePad, cache: &cache)
    let err = relativeError(got, try fixture.reference("image_logits"))
    #expect(err <= Self.tolerance, "\(variant): relative error \(err)")
  }

  @Test("decode with the cache equals full recomputation", arguments: ModelFixture.variants)
  func cachedDecodeMatchesRecompute(variant: String) throws {
    let fixture = try ModelFixture(variant)
    let model = try fixture.model()
    let ids = fixture.manifest.text_ids
    var full = model.makeCache(capacity: 64)
    let all = try model.logits(tokens: ids, cache: &full)  // (n, vocab)
    let vocab = model.vocabularySize
    var cache = model.makeCache(capacity: 64)
    var last = try model.prefill(tokens: Array(ids[..<4]), cache: &cache)
    #expect(relativeError(last, Array(all[(3 * vocab)..<(4 * vocab)])) <= 1e-5)
    for position in 4..<ids.count {
      last = try model.decode(token: ids[position], cache: &cache)
      let expected = Array(all[(position * vocab)..<((position + 1) * vocab)])
      #expect(relativeError(last, expected) <= 1e-5, "position \(position)")
    }
    #expect(cache.length == ids.count)
  }
}
