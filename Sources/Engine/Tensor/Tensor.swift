// MARK: - Tensor

/// A dense float32 array with its row-major shape (PyTorch order). Weights live in these;
/// activations are plain `[Float]` with the shape in a comment where they are made.
public struct Tensor: Sendable, Equatable {
  public let shape: [Int]
  public var data: [Float]

  /// Throws when `data.count` is not the product of `shape`.
  public init(shape: [Int], data: [Float]) throws(EngineError) {
    let count = shape.reduce(1, *)
    guard count == data.count, shape.allSatisfy({ $0 >= 0 }) else {
      throw .invalidArgument("tensor of shape \(shape) needs \(count) values, got \(data.count)")
    }
    self.shape = shape
    self.data = data
  }

  public var count: Int { data.count }
}

// MARK: - Loading with checks

extension WeightSource {
  /// The tensor `name`, checked to exist and to have exactly `shape`.
  /// Throws `missingTensor(name)` or `badTensorShape(name, expected, actual)`.
  public func tensor(_ name: String, shape: [Int]) throws(EngineError) -> Tensor {
    guard let info = info(name) else { throw .missingTensor(name) }
    guard info.shape == shape else {
      throw .badTensorShape(name: name, expected: shape, actual: info.shape)
    }
    let values = try floats(name)
    guard values.count == info.elementCount else {
      throw .malformedWeights(file: name, reason: "\(values.count) values for shape \(info.shape)")
    }
    return try Tensor(shape: shape, data: values)
  }
}
