import Foundation
import Testing
@testable import Engine

/// A bf16 bluelm_vl checkpoint keeps its matrices bf16 in memory, read in place from the file
/// (no float32 copy of the model), and computes what the same weights widened to float32 compute.
@Suite struct StoredWeightsTests {
  /// Every matrix of the model: the tower's layers, the adapter, the decoder's layers, the
  /// embedding table and lm_head.
  static func matrices(_ m: BlueLMVLModel) -> [(String, Linear.Weight)] {
    var out: [(String, Linear.Weight)] = []
    for (i, l) in m.vision.layers.enumerated() {
      out += [("vision \(i) q", l.q.weight), ("vision \(i) k", l.k.weight), ("vision \(i) v", l.v.weight),
              ("vision \(i) out", l.out.weight), ("vision \(i) fc1", l.mlp.fc1.weight), ("vision \(i) fc2", l.mlp.fc2.weight)]
    }
    out += [("linear_1", m.projector.mlp.fc1.weight), ("linear_2", m.projector.mlp.fc2.weight)]
    for (i, l) in m.language.layers.enumerated() {
      out += [("text \(i) q", l.q.weight), ("text \(i) k", l.k.weight), ("text \(i) v", l.v.weight), ("text \(i) o", l.o.weight),
              ("text \(i) gate", l.mlp.gate.weight), ("text \(i) up", l.mlp.up.weight), ("text \(i) down", l.mlp.down.weight)]
    }
    return out + [("embed_tokens", m.language.embedTokens), ("lm_head", m.language.lmHead.weight)]
  }

  @Test func bf16MatricesStayBF16() throws {
    let fixture = try ModelFixture("qwen2_tied_bf16")
    let model = try fixture.model()
    #expect(model.storage == .stored)
    for (name, weight) in Self.matrices(model) {
      guard case let .quantized(m, int8Decode) = weight else {
        Issue.record("\(name) was widened to a dense float32 matrix")
        continue
      }
      #expect(m.type == .bf16, "\(name) is \(m.type)")
      #expect(!int8Decode, "\(name)")
    }
  }

  @Test func float32CheckpointStaysDense() throws {
    let model = try ModelFixture("llama_gqa").model()
    #expect(model.storage == .float32)
    for (name, weight) in Self.matrices(model) {
      guard case .dense = weight else {
        Issue.record("\(name) of a float32 checkpoint is not dense")
        continue
      }
    }
  }

  /// The stored path (bf16 rows widened in the products) against the same weights widened at
  /// load: image features, prompt logits with the image, and decode steps agree to rounding.
  @Test(arguments: [1, 2]) func storedEqualsWidened(threads: Int) throws {
    let fixture = try ModelFixture("qwen2_tied_bf16")
    let weights = try SafetensorsCheckpoint(directory: fixture.directory)
    let config = try BlueLMVLConfig.decode(try ModelRegistry.readConfig(fixture.directory))
    let stored = try BlueLMVLModel(config: config, weights: weights, threads: threads)
    let widened = try BlueLMVLModel(config: config, weights: weights, threads: threads, storage: .float32)
    #expect(stored.storage == .stored && widened.storage == .float32)
    let tiles = try fixture.reference("tiles")
    let a = try stored.encodeImages(tiles: tiles), b = try widened.encodeImages(tiles: tiles)
    #expect(relativeError(a, b) <= 1e-5, "image features: \(relativeError(a, b))")
    var ca = stored.makeCache(capacity: 64), cb = widened.makeCache(capacity: 64)
    let ids = fixture.manifest.image_ids
    var la = try stored.prefill(tokens: ids, imageEmbeddings: a, imagePadId: fixture.imagePad, cache: &ca)
    var lb = try widened.prefill(tokens: ids, imageEmbeddings: b, imagePadId: fixture.imagePad, cache: &cb)
    #expect(relativeError(la, lb) <= 1e-5, "prompt logits: \(relativeError(la, lb))")
    for step in 0..<4 {  // the same token fed to both
      let token = argmax(lb)
      la = try stored.decode(token: token, cache: &ca)
      lb = try widened.decode(token: token, cache: &cb)
      #expect(relativeError(la, lb) <= 1e-5, "decode step \(step): \(relativeError(la, lb))")
    }
  }
}
