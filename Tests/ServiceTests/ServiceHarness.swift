import Agent
import Engine
import Foundation
import Imaging
@testable import Service

/// The tiny random checkpoint (answers are noise: the tests check the wiring) and a service on
/// 127.0.0.1 with a kernel-chosen port, started in-process.
enum Fixtures {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("..").standardized
  static let tinyPath = root.appendingPathComponent("GroundingTests/Fixtures/tiny-bluelm").path
  static let pipelineFolder = root.appendingPathComponent("GroundingTests/Fixtures/pipeline")
  static let repository = root.deletingLastPathComponent()

  /// Loaded once for the whole suite (one thread: results are deterministic).
  static let tiny: Result<LoadedModel, EngineError> = Result { () throws(EngineError) in try ModelLoader.load(path: tinyPath, threads: 1) }

  static func model() throws -> LoadedModel { try tiny.get() }

  /// A screenshot-like PNG from the grounding fixtures.
  static func screenshotPNG() throws -> Data {
    let files = try FileManager.default.contentsOfDirectory(atPath: pipelineFolder.path).filter { $0.hasSuffix(".png") }.sorted()
    guard let f = files.first else { throw TestFailure("no PNG in \(pipelineFolder.path)") }
    return try Data(contentsOf: pipelineFolder.appendingPathComponent(f))
  }

  static func temporaryFolder(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("gui-agent-service-\(getpid())-\(name)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }
}

/// A running service and a client for it; `stop()` drains and closes.
final class RunningService {
  let service: GUIAgentService
  let client: RawHTTPClient
  let store: EpisodeStore?

  /// `model`: the tiny checkpoint unless given.
  init(_ configure: (inout ServiceConfiguration) -> Void = { _ in }, store: EpisodeStore? = nil,
       launcher: ((InferenceQueue) -> EpisodeLauncher)? = nil, model: LoadedModel? = nil) throws {
    var config = ServiceConfiguration()
    config.port = 0
    config.modelName = "tiny-bluelm"
    configure(&config)
    self.store = store
    service = try GUIAgentService(model: try model ?? Fixtures.model(), configuration: config, store: store, launcher: launcher)
    try service.start()
    client = RawHTTPClient(port: service.port)
  }

  func stop() { service.shutdown(timeout: 30) }
  deinit { service.shutdown(timeout: 30) }
}
