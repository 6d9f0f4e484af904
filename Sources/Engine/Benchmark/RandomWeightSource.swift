// MARK: - Deterministic random weights, made on request

/// A `WeightSource` holding every tensor a `bluelm_vl` model of `config` reads, with
/// pseudo-random values generated when asked (nothing is stored): matrices uniform with
/// standard deviation 1/sqrt(fan_in), norm weights near 1, biases near 0. The same seed and
/// name always give the same values. For benchmarks and load tests without files.
public struct RandomWeightSource: WeightSource {
  public let seed: UInt64
  private let shapes: [String: [Int]]
  public let tensorNames: [String]

  public init(config: BlueLMVLConfig, seed: UInt64 = 0) {
    self.seed = seed
    var shapes: [String: [Int]] = [:]
    for (name, shape) in BlueLMVLTensorNames.expectedTensors(config) { shapes[name] = shape }
    self.shapes = shapes
    tensorNames = shapes.keys.sorted()
  }

  public func info(_ name: String) -> TensorInfo? {
    shapes[name].map { TensorInfo(name: name, dtype: .f32, shape: $0) }
  }

  public func floats(_ name: String) throws(EngineError) -> [Float] {
    guard let shape = shapes[name] else { throw .missingTensor(name) }
    let count = shape.reduce(1, *)
    // FNV-1a of the name: a per-tensor stream that does not depend on load order.
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
    var random = SeededGenerator(seed: hash ^ seed)
    let (center, halfWidth): (Float, Float)
    if shape.count >= 2 {
      // uniform(-a, a) has std a / sqrt(3); a = sqrt(3 / fan_in) gives std 1/sqrt(fan_in).
      center = 0; halfWidth = (3 / Float(shape.dropFirst().reduce(1, *))).squareRoot()
    } else if name.contains("norm") && name.hasSuffix("weight") {
      center = 1; halfWidth = 0.1
    } else {
      center = 0; halfWidth = 0.1
    }
    var values = [Float](repeating: 0, count: count)
    let scale = 2 * halfWidth / Float(1 << 24)
    var i = 0
    while i < count {
      let bits = random.next()  // two 24-bit uniforms per draw
      values[i] = center - halfWidth + Float(bits & 0xFF_FFFF) * scale
      if i + 1 < count { values[i + 1] = center - halfWidth + Float((bits >> 32) & 0xFF_FFFF) * scale }
      i += 2
    }
    return values
  }
}
