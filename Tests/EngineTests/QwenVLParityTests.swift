import Foundation
import Testing
@testable import Engine

// MARK: - Qwen2-VL / Qwen2.5-VL against transformers
//
// Fixtures from scripts/fixtures/make_qwen_vl_fixtures.py: tiny random checkpoints in the
// published folder layout (Qwen2-VL float32 with tied embeddings; Qwen2.5-VL bf16 in three shards,
// window attention with a full-attention block, merged grids that are not multiples of the
// window), and per case the processor's pixel values and expanded ids, get_rope_index's positions,
// the tower's output, every prompt position's logits, and 8 greedy tokens with their margins.
// Qwen3-VL f16 with a learnt 8x8 position table resampled to every grid, one DeepStack layer,
// q/k norms and interleaved M-RoPE.

struct QwenVLFixture {
  struct Array2: Decodable { let file: String; let shape: [Int] }
  struct Image: Decodable { let file: String; let width: Int; let height: Int; let resized: [Int]; let image_grid_thw: [Int] }
  struct Case: Decodable {
    let name: String
    let images: [Image]
    let prompt: String
    let prompt_ids: [Int]
    let input_ids: [Int]
    let pixel_values: Array2
    let position_ids: [[Int]]
    let rope_delta: Int
    let vision_embeddings: Array2
    let logits: Array2
    let greedy: [Int]
    let greedy_margins: [Double]
    let deepstack: [Array2]?
  }
  struct Manifest: Decodable { let family: String; let cases: [Case] }

  static let families = ["qwen2_vl", "qwen2_5_vl", "qwen3_vl"]

  let checkpoint: URL
  let references: URL
  let manifest: Manifest

  init(_ family: String) throws {
    let root = try #require(Bundle.module.url(forResource: "qwen-vl", withExtension: nil, subdirectory: "Fixtures"))
    checkpoint = root.appendingPathComponent(family)
    references = root.appendingPathComponent(family + "-ref")
    manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: references.appendingPathComponent("manifest.json")))
  }

  func floats(_ a: Array2) throws -> [Float] {
    let data = try Data(contentsOf: references.appendingPathComponent(a.file))
    #expect(data.count == a.shape.reduce(4, *), "\(a.file): \(data.count) bytes for shape \(a.shape)")
    return data.withUnsafeBytes { raw in
      (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
    }
  }
}

/// max |a - b| / max |b| (`relativeError`: infinity for mismatched sizes or any non-finite value,
/// so a partly NaN output fails every tolerance).
func qwenRelativeError(_ a: [Float], _ b: [Float]) -> Float { relativeError(a, b) }

@Suite struct QwenVLParityTests {
  @Test(arguments: QwenVLFixture.families)
  func loadsThePublishedFolder(_ family: String) throws {
    let f = try QwenVLFixture(family)
    let model = try ModelLoader.load(path: f.checkpoint.path, threads: 2)
    #expect(model.family == family)
    let network = try #require(model.network as? QwenVLModel)
    #expect(network.config.family.rawValue == family)
    guard case let .nativeResolution(resize)? = model.vision?.layout else {
      Issue.record("\(family) should take images at their own resolution"); return
    }
    // smart_resize as the processor did it, for every image of every case.
    for c in f.manifest.cases {
      for image in c.images {
        let size = try resize.targetSize(height: image.height, width: image.width)
        #expect([size.height, size.width] == image.resized, "\(c.name) \(image.file)")
      }
    }
    #expect(model.eosIds.contains(388))  // <|im_end|> of the fixture tokenizer
    #expect(model.eosIds.contains(386))  // generation_config.json's second id
    #expect(model.template.render("hi").hasSuffix("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"))
  }

  @Test(arguments: QwenVLFixture.families)
  func matchesTransformers(_ family: String) throws {
    let f = try QwenVLFixture(family)
    let model = try ModelLoader.load(path: f.checkpoint.path, threads: 2)
    let network = try #require(model.network as? QwenVLModel)
    let pad = network.config.imageTokenId, merge = network.config.vision.mergeSize
    for c in f.manifest.cases {
      #expect(model.tokenizer.encode(c.prompt) == c.prompt_ids, "\(c.name): tokenizer")
      let grids = c.images.map { ImageGrid(t: $0.image_grid_thw[0], h: $0.image_grid_thw[1], w: $0.image_grid_thw[2]) }
      // Each placeholder expands to its image's merged tokens.
      var expanded: [Int] = [], k = 0
      for id in c.prompt_ids {
        if id == pad { expanded += Array(repeating: pad, count: grids[k].tokenCount(merge: merge)); k += 1 } else { expanded.append(id) }
      }
      #expect(expanded == c.input_ids, "\(c.name): expanded ids")
      // M-RoPE positions exactly.
      let empty = network.makeCache(capacity: 1)
      let (positions, delta) = try network.ropePositions(tokens: c.input_ids, imagePadId: pad, grids: grids, after: empty)
      let transposed = (0..<3).map { axis in stride(from: axis, to: positions.count, by: 3).map { positions[$0] } }
      #expect(transposed == c.position_ids, "\(c.name): position ids")
      #expect(delta == c.rope_delta, "\(c.name): rope delta")
      // The tower and merger on the processor's pixel values.
      let embeddings = try network.encodeImages(patches: try f.floats(c.pixel_values), grids: grids)
      // Rows of (1 + K) * D: the merged feature, then the K DeepStack features.
      let d = network.hiddenSize, width = network.imageFeatureWidth, rows = embeddings.count / width
      func column(_ k: Int) -> [Float] {
        var out: [Float] = []
        for r in 0..<rows { out += embeddings[(r * width + k * d)..<(r * width + (k + 1) * d)] }
        return out
      }
      let visionError = qwenRelativeError(column(0), try f.floats(c.vision_embeddings))
      #expect((c.deepstack ?? []).count == width / d - 1, "\(c.name): DeepStack layers")
      for (k, ref) in (c.deepstack ?? []).enumerated() {
        let e = qwenRelativeError(column(k + 1), try f.floats(ref))
        #expect(e < 1e-4, "\(c.name): DeepStack \(k) off by \(e) of max|ref|")
      }
      #expect(visionError < 1e-4, "\(c.name): vision embeddings off by \(visionError) of max|ref|")
      // Every position's logits.
      var cache = network.makeCache(capacity: c.input_ids.count + 16, precision: .f32)  // float32, as transformers
      let logits = try network.logits(tokens: c.input_ids, imageEmbeddings: embeddings, imageGrids: grids,
                                      imagePadId: pad, cache: &cache)
      let logitError = qwenRelativeError(logits, try f.floats(c.logits))
      #expect(logitError < 1e-4, "\(c.name): logits off by \(logitError) of max|ref|")
      #expect(cache.ropeDelta == c.rope_delta)
      // Greedy continuation: equal while the reference's top-2 margin is clear.
      let generator = Generator(model: network, parameters: GenerationParameters(maxTokens: c.greedy.count, sampling: .greedy, eosTokenIds: []))
      let result = try generator.generate(prompt: c.input_ids, imageEmbeddings: embeddings, imageGrids: grids, imagePadId: pad)
      let clear = c.greedy_margins.firstIndex { $0 < 1e-3 } ?? c.greedy.count
      #expect(Array(result.tokens.prefix(clear)) == Array(c.greedy.prefix(clear)), "\(c.name): greedy \(result.tokens) vs \(c.greedy)")
      #expect(clear >= 4, "\(c.name): the fixture's margins leave only \(clear) clear greedy steps")
      print("parity figure: \(family) \(c.name): vision \(visionError), logits \(logitError) of max|ref|, greedy \(result.tokens == c.greedy ? "equal" : "differs after \(clear)")")
    }
  }

  @Test func textOnlyDecodeContinuesAfterTheImage() throws {
    // Decoding after an image uses index + rope_delta on every axis; a prompt split in two
    // prefills (image part, then text) gives the same logits as one.
    let f = try QwenVLFixture("qwen2_vl")
    let model = try ModelLoader.load(path: f.checkpoint.path, threads: 2)
    let network = try #require(model.network as? QwenVLModel)
    let c = f.manifest.cases[0]
    let pad = network.config.imageTokenId
    let grids = c.images.map { ImageGrid(t: $0.image_grid_thw[0], h: $0.image_grid_thw[1], w: $0.image_grid_thw[2]) }
    let embeddings = try network.encodeImages(patches: try f.floats(c.pixel_values), grids: grids)
    var whole = network.makeCache(capacity: 64)
    let one = try network.prefill(tokens: c.input_ids, imageEmbeddings: embeddings, imageGrids: grids, imagePadId: pad, cache: &whole)
    let split = c.input_ids.lastIndex(of: pad)! + 3
    var parts = network.makeCache(capacity: 64)
    _ = try network.prefill(tokens: Array(c.input_ids[..<split]), imageEmbeddings: embeddings, imageGrids: grids, imagePadId: pad, cache: &parts)
    let two = try network.prefill(tokens: Array(c.input_ids[split...]), imageEmbeddings: nil, imageGrids: [], imagePadId: pad, cache: &parts)
    #expect(qwenRelativeError(two, one) < 1e-5)
  }

  @Test func badInputIsNamed() throws {
    let f = try QwenVLFixture("qwen2_vl")
    let network = try #require(try ModelLoader.load(path: f.checkpoint.path).network as? QwenVLModel)
    let pad = network.config.imageTokenId
    var cache = network.makeCache(capacity: 64)
    // Image pads without grids, grids without pads, a grid that is not a multiple of the merge.
    #expect(throws: EngineError.self) { try network.prefill(tokens: [1, pad, pad, 2], imageEmbeddings: nil, imageGrids: [], imagePadId: pad, cache: &cache) }
    #expect(throws: EngineError.self) { try network.prefill(tokens: [1, 2], imageEmbeddings: nil, imageGrids: [ImageGrid(t: 1, h: 2, w: 2)], imagePadId: pad, cache: &cache) }
    #expect(throws: EngineError.self) { try network.encodeImages(patches: [Float](repeating: 0, count: 9 * 1176), grids: [ImageGrid(t: 1, h: 3, w: 3)]) }
    #expect(throws: EngineError.self) { try network.encodeImages(tiles: [0]) }
    let resize = SmartResize()
    #expect(throws: EngineError.self) { try resize.targetSize(height: 1, width: 300) }
    #expect(throws: EngineError.self) { try resize.targetSize(height: 0, width: 30) }
  }
}

/// The layout transformers 4.x wrote (and most published Qwen2-VL / Qwen2.5-VL folders carry): the
/// text model's fields at the top level, `rope_theta` and `rope_scaling: {type: mrope, ...}`.
@Suite struct QwenVLFlatConfigTests {
  @Test func theFlatLayoutLoadsTheSameModel() throws {
    let f = try QwenVLFixture("qwen2_5_vl")
    let nested = try JSONSerialization.jsonObject(with: Data(contentsOf: f.checkpoint.appendingPathComponent("config.json"))) as? [String: Any] ?? [:]
    var flat = nested
    var text = try #require(nested["text_config"] as? [String: Any])
    let rope = try #require(text.removeValue(forKey: "rope_parameters") as? [String: Any])
    flat.removeValue(forKey: "text_config")
    for (k, v) in text where k != "model_type" && flat[k] == nil { flat[k] = v }
    flat["rope_theta"] = rope["rope_theta"]
    flat["rope_scaling"] = ["type": "mrope", "mrope_section": rope["mrope_section"] as Any]
    var vision = try #require(nested["vision_config"] as? [String: Any])
    vision.removeValue(forKey: "rope_parameters")
    flat["vision_config"] = vision
    let a = try QwenVLConfig.decode(Data(contentsOf: f.checkpoint.appendingPathComponent("config.json")))
    let b = try QwenVLConfig.decode(JSONSerialization.data(withJSONObject: flat))
    #expect(a == b)
    // A field of the wrong type is named.
    flat["num_hidden_layers"] = "two"
    do {
      _ = try QwenVLConfig.decode(JSONSerialization.data(withJSONObject: flat))
      Issue.record("a string num_hidden_layers was accepted")
    } catch {
      #expect(error.localizedDescription.contains("num_hidden_layers"), "\(error.localizedDescription)")
    }
  }
}

/// The vision MLPs take any activation a config names: SiLU in the two-layer MLP, and a GELU in
/// the gated one, against the formulas in double.
@Suite struct VisionMLPActivationTests {
  static func linear(_ out: Int, _ inF: Int, seed: Int) throws -> Linear {
    let w = (0..<(out * inF)).map { Float(sin(Double($0 * 7 + seed))) * 0.5 }
    return Linear(weight: try Tensor(shape: [out, inF], data: w), bias: (0..<out).map { Float($0 + seed) * 0.01 })
  }
  static func product(_ l: Linear, _ x: [Double]) -> [Double] {
    guard case let .dense(w) = l.weight else { return [] }
    return (0..<l.outFeatures).map { o in
      (0..<l.inFeatures).reduce(Double(l.bias?[o] ?? 0)) { $0 + Double(w.data[o * l.inFeatures + $1]) * x[$1] }
    }
  }

  @Test func siluInTheTwoLayerMLPAndGELUInTheGatedOne() throws {
    let x: [Float] = (0..<8).map { Float($0) * 0.37 - 1.2 }
    let xd = x.map(Double.init)
    let silu = { (v: Double) in v / (1 + exp(-v)) }
    let gelu = { (v: Double) in 0.5 * v * (1 + erf(v / 2.0.squareRoot())) }
    let fc1 = try Self.linear(16, 8, seed: 1), fc2 = try Self.linear(8, 16, seed: 2)
    let plain = GELUMLP(fc1: fc1, fc2: fc2, activation: .silu)(x, rows: 1, threads: 1)
    let plainRef = Self.product(fc2, Self.product(fc1, xd).map(silu))
    #expect(zip(plain, plainRef).allSatisfy { abs(Double($0) - $1) < 1e-4 }, "\(plain) vs \(plainRef)")
    let gate = try Self.linear(16, 8, seed: 3), up = try Self.linear(16, 8, seed: 4), down = try Self.linear(8, 16, seed: 5)
    let gated = SwiGLUMLP(gate: gate, up: up, down: down, activation: .erf)(x, rows: 1, threads: 1)
    let inner = zip(Self.product(gate, xd).map(gelu), Self.product(up, xd)).map { $0 * $1 }
    let gatedRef = Self.product(down, inner)
    #expect(zip(gated, gatedRef).allSatisfy { abs(Double($0) - $1) < 1e-4 }, "\(gated) vs \(gatedRef)")
  }
}
