import Foundation

// MARK: - Opening a checkpoint by its form

/// Opens the weights at `url`: a directory (a safetensors checkpoint, see `SafetensorsCheckpoint`),
/// a `.safetensors` file or a `.gguf` file.
/// - Throws: `malformedWeights` for another kind of path or an invalid file.
public func openWeights(at url: URL) throws(EngineError) -> any WeightSource {
  var isDirectory: ObjCBool = false
  guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
    throw .malformedWeights(file: url.path, reason: "no such file or directory")
  }
  if isDirectory.boolValue { return try SafetensorsCheckpoint(directory: url) }
  switch url.pathExtension.lowercased() {
  case "safetensors": return try SafetensorsFile(url: url)
  case "gguf": return try GGUFFile(url: url)
  default:
    throw .malformedWeights(file: url.path, reason: "unknown weights format '.\(url.pathExtension)' (expected .safetensors, .gguf or a directory)")
  }
}
