import Foundation

/// Errors of the Engine module; each case carries the value that was wrong.
/// Add cases as the engine grows; keep messages specific (file, tensor, field, value).
public enum EngineError: Error, LocalizedError, Equatable {
  case invalidArgument(String)
  case missingTensor(String)
  case badTensorShape(name: String, expected: [Int], actual: [Int])
  /// A weights file (safetensors, GGUF) is malformed: which file, and what is wrong.
  case malformedWeights(file: String, reason: String)
  case missingConfigField(String)
  case badConfig(String)
  case tokenizer(String)
  /// config.json names pointer token ids but the checkpoint lacks these pointer-head tensors.
  case missingPointerHeadTensors([String])

  public var errorDescription: String? {
    switch self {
    case let .invalidArgument(m): m
    case let .missingTensor(n): "tensor '\(n)' is missing from the checkpoint"
    case let .badTensorShape(n, e, a): "tensor '\(n)' has shape \(a), expected \(e)"
    case let .malformedWeights(f, r): "\(f): \(r)"
    case let .missingConfigField(f): "config.json: required field '\(f)' is missing"
    case let .badConfig(m): "config.json: \(m)"
    case let .tokenizer(m): "tokenizer: \(m)"
    case let .missingPointerHeadTensors(names):
      "config.json names pointer token ids (a pointer head), but the checkpoint lacks "
        + (names.count == 1 ? "its tensor " : "\(names.count) of its tensors: ") + names.map { "'\($0)'" }.joined(separator: ", ")
    }
  }
}
