import Foundation
import Synchronization
import Testing
@testable import Engine

/// Load progress: a model built through ``ProgressWeights`` reports each tensor it reads once,
/// counting up to the checkpoint's size, and builds the same model.
@Suite struct LoadProgressTests {
  @Test func everyTensorReadIsReportedOnce() throws {
    let fixture = try ModelFixture("llama_gqa")
    let checkpoint = try SafetensorsCheckpoint(directory: fixture.directory)
    let calls = Mutex<[(Int, Int)]>([])
    let observed = LoadOptions(progress: { read, total in calls.withLock { $0.append((read, total)) } }).observed(checkpoint)
    let config = try BlueLMVLConfig.decode(try ModelRegistry.readConfig(fixture.directory))
    let model = try BlueLMVLModel(config: config, weights: observed, threads: 1)
    let seen = calls.withLock { $0 }
    let total = checkpoint.tensorNames.count
    // One call per tensor read, counting 1, 2, 3, … against the checkpoint's tensor count.
    #expect(!seen.isEmpty)
    #expect(seen.map(\.0) == Array(1...seen.count))
    #expect(seen.allSatisfy { $0.1 == total })
    // The model reads every tensor but SigLIP's pooling head (11 tensors), which bluelm_vl does
    // not use (it takes the tower's patch features).
    let unused = checkpoint.tensorNames.filter { $0.hasPrefix("vision_model.head.") }
    #expect(unused.count == 11)
    #expect(seen.count == total - unused.count, "\(seen.count) of \(total) tensors read")
    _ = model
    // The observed source answers as the checkpoint does.
    #expect(try observed.floats(checkpoint.tensorNames[0]) == (try checkpoint.floats(checkpoint.tensorNames[0])))
  }

  @Test func withoutProgressTheSourceIsUnchanged() throws {
    let checkpoint = try SafetensorsCheckpoint(directory: try ModelFixture("llama_gqa").directory)
    #expect(LoadOptions().observed(checkpoint) is SafetensorsCheckpoint)
    // The callback is not part of equality: options that load the same model compare equal.
    #expect(LoadOptions(floatDecode: true, progress: { _, _ in }) == LoadOptions(floatDecode: true))
  }
}
