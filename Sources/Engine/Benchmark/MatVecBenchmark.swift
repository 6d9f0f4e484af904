import Dispatch

// MARK: - A decode step's matrix-vector product, in cache and from memory

/// Times the product a decode step runs for every weight matrix (one activation row, int8
/// activations and integer block dots for quantized types) twice: on a matrix small enough to
/// stay in the L2 cache, which gives the kernel's own speed, and on one far larger than the
/// caches, which gives what memory allows; beside the machine's read bandwidth with the same
/// threads (`int8Activations` false: the float-activation kernels, `--float-decode`). Weights are random blocks (every quant pattern) with small finite scales.
public enum MatVecBenchmark {
  public struct Result: Sendable {
    public let type: TensorDType
    public let columns: Int
    public let threads: Int
    /// Weight bytes per second with a 256 KB matrix read again and again (in cache).
    public let cachedBytesPerSecond: Double
    /// Weight bytes per second over a `megabytes` matrix (streamed from memory).
    public let streamingBytesPerSecond: Double
    /// Nanoseconds per block of `type` per row in cache (all threads together).
    public let cachedNanosecondsPerBlock: Double
    /// `MemoryBandwidth.measure` with the same threads.
    public let readBandwidth: Double
  }

  public static func run(type: TensorDType, columns: Int = 576, threads: Int, megabytes: Int = 256,
                         rounds: Int = 5, int8Activations: Bool = true) throws(EngineError) -> Result {
    guard type != .q8_K, let rowBytes = type.rowBytes(columns) else {
      throw .invalidArgument("matvec: \(columns) columns do not divide into \(type) blocks")
    }
    var rng = SeededGenerator(seed: 5)
    let smallRows = max(2, (256 << 10) / rowBytes)
    let small = randomRows(type, bytes: smallRows * rowBytes, &rng)
    let bigRows = max(smallRows, (max(1, megabytes) << 20) / rowBytes / smallRows * smallRows)
    var bigBytes = [UInt8]()
    bigBytes.reserveCapacity(bigRows * rowBytes)
    for _ in 0..<bigRows / smallRows { bigBytes += small }
    let cached = try QuantizedMatrix(type: type, rows: smallRows, columns: columns, bytes: small)
    let big = try QuantizedMatrix(type: type, rows: bigRows, columns: columns, bytes: bigBytes)
    bigBytes = []
    let x = (0..<columns).map { _ in Float(rng.nextUnit() * 2 - 1) }
    var out = [Float](repeating: 0, count: bigRows)

    /// Best seconds of `rounds` rounds of `repeats` products of `m`.
    func best(_ m: QuantizedMatrix, repeats: Int) -> Double {
      var best = Double.infinity
      x.withUnsafeBufferPointer { xp in
        out.withUnsafeMutableBufferPointer { op in
          guard let xb = xp.baseAddress, let ob = op.baseAddress else { return }
          m.linearProduct(xb, rows: 1, bias: nil, int8Decode: int8Activations, threads: threads, ob)  // warm-up
          for _ in 0..<max(1, rounds) {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<repeats { m.linearProduct(xb, rows: 1, bias: nil, int8Decode: int8Activations, threads: threads, ob) }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(repeats))
          }
        }
      }
      return best
    }
    let cachedSeconds = best(cached, repeats: 200)
    let streamingSeconds = best(big, repeats: 2)
    let blocks = Double(smallRows * columns / type.blockSize)
    return Result(type: type, columns: columns, threads: threads,
                  cachedBytesPerSecond: Double(small.count) / cachedSeconds,
                  streamingBytesPerSecond: Double(bigRows * rowBytes) / streamingSeconds,
                  cachedNanosecondsPerBlock: cachedSeconds * 1e9 / blocks,
                  readBandwidth: MemoryBandwidth.measure(threads: threads))
  }

  /// `count` bytes of whole random blocks of `type`, their f16 scales and minimums set to small
  /// finite values (random bits there could be NaN or infinite).
  static func randomRows(_ type: TensorDType, bytes count: Int, _ rng: inout SeededGenerator) -> [UInt8] {
    var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    let halves: [Int] = switch type {
    case .q4_1, .q5_1, .q4_K, .q5_K: [0, 2]
    case .q4_0, .q5_0, .q8_0: [0]
    case .q6_K: [208]
    case .q8_K, .f32, .f16, .bf16: []
    }
    if !type.isQuantized {  // every element a small float of the type
      let f = (0..<count / type.blockBytes).map { _ in Float(rng.nextUnit() - 0.5) * 0.1 }
      switch type {
      case .f32: return f.withUnsafeBytes { [UInt8]($0) }
      case .f16: return f.flatMap { v in withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { [UInt8]($0) } }
      default: return f.flatMap { v in withUnsafeBytes(of: UInt16(v.bitPattern >> 16).littleEndian) { [UInt8]($0) } }
      }
    }
    for block in stride(from: 0, to: count - type.blockBytes + 1, by: type.blockBytes) {
      for offset in halves {
        let h = Float16(Float(rng.nextUnit() - 0.3) * 0.02).bitPattern
        bytes[block + offset] = UInt8(h & 0xff)
        bytes[block + offset + 1] = UInt8(h >> 8)
      }
    }
    return bytes
  }
}
