import Foundation

/// Told, as a model is built, how many of its checkpoint's tensors have been read so far and
/// how many it holds. Called from the loading thread(s); it must return quickly.
public typealias LoadProgress = @Sendable (_ read: Int, _ total: Int) -> Void

/// A ``WeightSource`` that reports the first read of each tensor to a ``LoadProgress``; reads
/// are passed through unchanged. A model may leave some tensors unread (the count then ends
/// below the total).
struct ProgressWeights: WeightSource {
  let base: any WeightSource
  private let counter: ReadCounter

  init(_ base: any WeightSource, progress: @escaping LoadProgress) {
    self.base = base
    counter = ReadCounter(total: base.tensorNames.count, progress: progress)
  }

  var tensorNames: [String] { base.tensorNames }
  func info(_ name: String) -> TensorInfo? { base.info(name) }
  var files: [WeightFileRecord] { base.files }

  func floats(_ name: String) throws(EngineError) -> [Float] {
    let values = try base.floats(name)
    counter.read(name)
    return values
  }

  func matrix(_ name: String) throws(EngineError) -> QuantizedMatrix {
    let m = try base.matrix(name)
    counter.read(name)
    return m
  }
}

/// The names read so far. `@unchecked Sendable`: the set is only touched under the lock.
private final class ReadCounter: @unchecked Sendable {
  private let lock = NSLock()
  private var names = Set<String>()
  private let total: Int
  private let progress: LoadProgress

  init(total: Int, progress: @escaping LoadProgress) { self.total = total; self.progress = progress }

  func read(_ name: String) {
    lock.lock()
    defer { lock.unlock() }
    guard names.insert(name).inserted else { return }
    progress(names.count, total)
  }
}

extension LoadOptions {
  /// `weights`, reporting its reads to `progress` when one is set.
  func observed(_ weights: any WeightSource) -> any WeightSource {
    progress.map { ProgressWeights(weights, progress: $0) } ?? weights
  }
}
