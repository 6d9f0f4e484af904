import Foundation

// MARK: - Registry: config.json's model_type -> model family

/// Loads a checkpoint directory by the `model_type` in its config.json.
public enum ModelRegistry {
  /// Makes a model from config.json's bytes and the checkpoint's tensors.
  public typealias Family = @Sendable (_ config: Data, _ weights: any WeightSource, _ threads: Int)
    throws(EngineError) -> any VisionLanguageModel

  /// The known families by `model_type`.
  public static let families: [String: Family] = [
    "bluelm_vl": { (config, weights, threads) throws(EngineError) in
      try BlueLMVLModel(config: BlueLMVLConfig.decode(config), weights: weights, threads: threads)
    },
    "qwen2_vl": { (config, weights, threads) throws(EngineError) in
      try QwenVLModel(config: QwenVLConfig.decode(config), weights: weights, threads: threads)
    },
    "qwen2_5_vl": { (config, weights, threads) throws(EngineError) in
      try QwenVLModel(config: QwenVLConfig.decode(config), weights: weights, threads: threads)
    },
    "qwen3_vl": { (config, weights, threads) throws(EngineError) in
      try QwenVLModel(config: QwenVLConfig.decode(config), weights: weights, threads: threads)
    },
  ]

  /// Reads `directory/config.json`, picks the family by `model_type`, and loads the weights
  /// through `weights` (default: the safetensors checkpoint in the directory).
  public static func load(
    directory: URL, threads: Int = 1,
    weights: (URL) throws(EngineError) -> any WeightSource = { (url) throws(EngineError) in
      try SafetensorsCheckpoint(directory: url)
    }
  ) throws(EngineError) -> any VisionLanguageModel {
    let data = try readConfig(directory)
    let type = try modelType(data)
    guard let family = families[type] else {
      throw .badConfig("model_type '\(type)' is not one of \(families.keys.sorted())")
    }
    return try family(data, try weights(directory), threads)
  }

  /// `load` for callers that need the concrete `bluelm_vl` model (its config, vision-only
  /// features).
  public static func loadBlueLMVL(
    directory: URL, threads: Int = 1,
    weights: (URL) throws(EngineError) -> any WeightSource = { (url) throws(EngineError) in
      try SafetensorsCheckpoint(directory: url)
    }
  ) throws(EngineError) -> BlueLMVLModel {
    let config = try BlueLMVLConfig.decode(try readConfig(directory))
    return try BlueLMVLModel(config: config, weights: try weights(directory), threads: threads)
  }

  static func readConfig(_ directory: URL) throws(EngineError) -> Data {
    let url = directory.appendingPathComponent("config.json")
    do { return try Data(contentsOf: url) } catch {
      throw .badConfig("cannot read \(url.path): \(error.localizedDescription)")
    }
  }

  /// The top-level `model_type` of config.json.
  static func modelType(_ data: Data) throws(EngineError) -> String {
    struct Probe: Decodable { let model_type: String }
    do { return try JSONDecoder().decode(Probe.self, from: data).model_type } catch DecodingError.keyNotFound {
      throw .missingConfigField("model_type")
    } catch {
      throw .badConfig("not valid JSON or model_type is not a string: \(error.localizedDescription)")
    }
  }
}
