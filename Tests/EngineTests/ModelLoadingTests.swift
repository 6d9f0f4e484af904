import Foundation
import Testing
@testable import Engine

// MARK: - Config decoding and checkpoint errors

/// A dictionary-backed `WeightSource` for tests.
struct MemoryWeights: WeightSource {
  var tensors: [String: Tensor]
  var tensorNames: [String] { tensors.keys.sorted() }
  func info(_ name: String) -> TensorInfo? {
    tensors[name].map { TensorInfo(name: name, dtype: .f32, shape: $0.shape) }
  }
  func floats(_ name: String) throws(EngineError) -> [Float] {
    guard let t = tensors[name] else { throw .missingTensor(name) }
    return t.data
  }
}

@Suite("Model loading")
struct ModelLoadingTests {
  static func fixtureConfig() throws -> (URL, [String: Any]) {
    let fixture = try ModelFixture("llama_gqa")
    let data = try Data(contentsOf: fixture.directory.appendingPathComponent("config.json"))
    return (fixture.directory, try #require(JSONSerialization.jsonObject(with: data) as? [String: Any]))
  }

  static func decode(_ object: [String: Any]) throws(EngineError) -> BlueLMVLConfig {
    // JSONSerialization of a dictionary we built cannot fail.
    let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
    return try BlueLMVLConfig.decode(data)
  }

  @Test("config defaults: head_dim, kv heads, eps, theta; unknown fields ignored")
  func defaults() throws {
    var (_, object) = try Self.fixtureConfig()
    var text = try #require(object["text_config"] as? [String: Any])
    for key in ["num_key_value_heads", "head_dim", "rms_norm_eps", "rope_theta", "tie_word_embeddings"] {
      text.removeValue(forKey: key)
    }
    text["some_future_field"] = [1, 2]
    object["text_config"] = text
    object.removeValue(forKey: "anyres")
    let config = try Self.decode(object)
    #expect(config.textConfig.headDim == 48 / 4)
    #expect(config.textConfig.numKeyValueHeads == 4)
    #expect(config.textConfig.ropeTheta == 10000)
    #expect(config.textConfig.tieWordEmbeddings == false)
    #expect(config.anyres.tileSize == config.visionConfig.imageSize)
    #expect(config.tokensPerTile == 4)
  }

  @Test("a missing required field is named by its path",
        arguments: [("text_config", "hidden_size"), ("vision_config", "patch_size"), ("", "vision_config"), ("text_config", "model_type")])
  func missingField(section: String, field: String) throws {
    var (_, object) = try Self.fixtureConfig()
    if section.isEmpty {
      object.removeValue(forKey: field)
    } else {
      var sub = try #require(object[section] as? [String: Any])
      sub.removeValue(forKey: field)
      object[section] = sub
    }
    let path = section.isEmpty ? field : "\(section).\(field)"
    #expect(throws: EngineError.missingConfigField(path)) { try Self.decode(object) }
  }

  @Test("inconsistent sizes are rejected with the values")
  func badSizes() throws {
    var (_, object) = try Self.fixtureConfig()
    var text = try #require(object["text_config"] as? [String: Any])
    text["num_key_value_heads"] = 3
    object["text_config"] = text
    #expect(throws: EngineError.badConfig("text_config.num_attention_heads 4 is not a multiple of num_key_value_heads 3")) {
      try Self.decode(object)
    }
  }

  @Test("prompt_template: optional, must hold {instruction} and at most one image")
  func promptTemplate() throws {
    var (_, object) = try Self.fixtureConfig()
    #expect(try Self.decode(object).promptTemplate == nil)
    object["prompt_template"] = "{instruction}<|image_pad|>"
    #expect(try Self.decode(object).promptTemplate == "{instruction}<|image_pad|>")
    object["prompt_template"] = "<|image_pad|>click"
    #expect(throws: EngineError.badConfig("prompt_template '<|image_pad|>click' does not contain {instruction}")) {
      try Self.decode(object)
    }
    object["prompt_template"] = "<|image_pad|>{instruction}<|image_pad|>"
    #expect(throws: EngineError.badConfig(
      "prompt_template '<|image_pad|>{instruction}<|image_pad|>' places more than one image")) {
      try Self.decode(object)
    }
    object["prompt_template"] = 7
    #expect(throws: EngineError.badConfig("field 'prompt_template' has the wrong type")) { try Self.decode(object) }
  }

  @Test("a missing tensor and a tensor of the wrong shape are named")
  func tensorErrors() throws {
    let (directory, object) = try Self.fixtureConfig()
    let config = try Self.decode(object)
    let file = try SafetensorsCheckpoint(directory: directory)
    var tensors: [String: Tensor] = [:]
    for name in file.tensorNames {
      let info = try #require(file.info(name))
      tensors[name] = try Tensor(shape: info.shape, data: file.floats(name))
    }
    let complete = MemoryWeights(tensors: tensors)
    _ = try BlueLMVLModel(config: config, weights: complete)

    var missing = complete
    missing.tensors.removeValue(forKey: "language_model.model.layers.1.mlp.up_proj.weight")
    #expect(throws: EngineError.missingTensor("language_model.model.layers.1.mlp.up_proj.weight")) {
      try BlueLMVLModel(config: config, weights: missing)
    }
    var wrong = complete
    let name = "vision_model.encoder.layers.0.self_attn.k_proj.weight"
    wrong.tensors[name] = try Tensor(shape: [16, 64], data: [Float](repeating: 0, count: 1024))
    #expect(throws: EngineError.badTensorShape(name: name, expected: [32, 32], actual: [16, 64])) {
      try BlueLMVLModel(config: config, weights: wrong)
    }
  }

  @Test("the name table lists exactly the tensors of the fixture (minus the pooling head)",
        arguments: ModelFixture.variants)
  func nameTable(variant: String) throws {
    let fixture = try ModelFixture(variant)
    let model = try fixture.model()
    let file = try SafetensorsCheckpoint(directory: fixture.directory)
    let expected = BlueLMVLTensorNames.expectedTensors(model.config)
    let stored = file.tensorNames.filter { !$0.hasPrefix("vision_model.head.") }
    #expect(expected.map(\.name).sorted() == stored)
    for (name, shape) in expected { #expect(file.info(name)?.shape == shape, "\(name)") }
  }

  @Test("the registry picks the family by model_type and rejects unknown ones")
  func registry() throws {
    let fixture = try ModelFixture("qwen2_tied_bf16")
    let model = try ModelRegistry.load(directory: fixture.directory)
    #expect(model.vocabularySize == 300)
    #expect(throws: EngineError.self) { try ModelRegistry.modelType(Data(#"{"model_type": 3}"#.utf8)) }
    #expect(throws: EngineError.missingConfigField("model_type")) { try ModelRegistry.modelType(Data("{}".utf8)) }
  }

  @Test("image embeddings must match the image_pad count; ids must be in the vocabulary")
  func inputErrors() throws {
    let fixture = try ModelFixture("llama_gqa")
    let model = try fixture.model()
    var cache = model.makeCache(capacity: 8)
    #expect(throws: EngineError.self) {
      try model.prefill(tokens: [1, fixture.imagePad], imageEmbeddings: [Float](repeating: 0, count: 96),
                        imagePadId: fixture.imagePad, cache: &cache)
    }
    #expect(throws: EngineError.invalidArgument("token id 320 is outside the vocabulary 0..<320")) {
      try model.prefill(tokens: [320], cache: &cache)
    }
    #expect(throws: EngineError.invalidArgument("KV cache full: 0 + 9 positions exceed capacity 8")) {
      try model.prefill(tokens: Array(repeating: 1, count: 9), cache: &cache)
    }
    #expect(cache.length == 0)
  }
}
