import Foundation

// MARK: - Which weights answered

/// The SHA-256 of a loaded model's weight files, computed once on first use (a full read of the
/// files: about 30 ms for the embedded model, seconds for a multi-gigabyte GGUF) and kept.
final class WeightsDigestCache: @unchecked Sendable {
  private let lock = NSLock()
  private var value: String?

  func get(_ make: () -> String) -> String {
    lock.withLock {
      if let value { return value }
      let v = make()
      value = v
      return v
    }
  }
}

extension LoadedModel {
  /// The SHA-256 of the weights in use, as `sha256sum` prints it: the file's digest for a
  /// single-file model, `name=digest` pairs joined by `,` for shards; empty for weights in
  /// memory. Episodes record it beside the model's path, so a trace names the exact weights.
  public func weightsDigest() -> String {
    digestCache.get {
      let files = network.weightFiles
      if files.count == 1 { return files[0].sha256() }
      return files.map { "\(URL(fileURLWithPath: $0.path).lastPathComponent)=\($0.sha256())" }.joined(separator: ",")
    }
  }

  /// Throws `malformedWeights` when a weight file changed on disk since the model was loaded
  /// (see `MappedFile`); the models also check before each image and prompt.
  public func checkWeightsUnchanged() throws(EngineError) {
    try WeightFileRecord.checkUnchanged(network.weightFiles)
  }
}
