import Foundation
import Testing
@testable import Engine

// Bad folders refused by the GGUF export with an error naming the file and the bad value, and no
// output (nor .tmp) left behind.

@Suite struct GGUFExportFailureTests {
  /// A copy of the tiny folder `family` in a scratch directory, changed by `edit`.
  private func brokenCopy(_ family: String, in dir: WeightScratchDirectory, _ edit: (URL) throws -> Void) throws -> URL {
    let copy = dir.url.appendingPathComponent("in-\(family)")
    try FileManager.default.copyItem(at: try ExportFixtures.folder(family), to: copy)
    try edit(copy)
    return copy
  }

  /// Runs the export of `folder` into `dir/out` and returns the error message; checks that the
  /// output directory holds nothing afterwards.
  private func failure(_ folder: URL, _ dir: WeightScratchDirectory, output: String? = nil,
                       sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    let out = dir.url.appendingPathComponent("out")
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    let message = weightErrorMessage {
      _ = try GGUFExport.exportFolder(folder, options: GGUFExportOptions(
        modelType: .q8_0, output: output ?? out.appendingPathComponent("m.gguf").path, threads: 2))
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).isEmpty, "files left behind", sourceLocation: sourceLocation)
    return try #require(message, "the export did not fail", sourceLocation: sourceLocation)
  }

  private func editConfig(_ folder: URL, _ change: (inout [String: Any]) -> Void) throws {
    let url = folder.appendingPathComponent("config.json")
    var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    change(&object)
    try JSONSerialization.data(withJSONObject: object).write(to: url)
  }

  @Test func missingConfig() throws {
    let dir = try WeightScratchDirectory()
    defer { dir.cleanup() }
    let folder = try brokenCopy("qwen2_vl", in: dir) { try FileManager.default.removeItem(at: $0.appendingPathComponent("config.json")) }
    let m = try failure(folder, dir)
    #expect(m.contains(folder.appendingPathComponent("config.json").path) && m.contains("missing"), "\(m)")
  }

  @Test func unknownModelType() throws {
    let dir = try WeightScratchDirectory()
    defer { dir.cleanup() }
    let folder = try brokenCopy("qwen2_vl", in: dir) { try editConfig($0) { $0["model_type"] = "llava_next" } }
    let m = try failure(folder, dir)
    #expect(m.contains("llava_next"), "\(m)")
  }

  @Test func missingTensor() throws {
    let dir = try WeightScratchDirectory()
    defer { dir.cleanup() }
    let folder = try brokenCopy("qwen2_5_vl", in: dir) { f in
      let url = f.appendingPathComponent("model.safetensors.index.json")
      var index = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
      var map = try #require(index["weight_map"] as? [String: Any])
      map["model.layers.1.mlp.up_proj.weight"] = nil
      index["weight_map"] = map
      try JSONSerialization.data(withJSONObject: index).write(to: url)
    }
    let m = try failure(folder, dir)
    #expect(m.contains("model.layers.1.mlp.up_proj.weight") && m.contains("missing"), "\(m)")
  }

  /// A NaN in a weight stops the export at that tensor (after others were written) and names it.
  @Test func nonFiniteWeight() throws {
    let dir = try WeightScratchDirectory()
    defer { dir.cleanup() }
    let folder = try brokenCopy("qwen2_vl", in: dir) { f in
      let url = f.appendingPathComponent("model.safetensors")
      let range = try #require(try SafetensorsFile(url: url).tensor("model.layers.1.mlp.up_proj.weight")?.byteRange)
      let handle = try FileHandle(forWritingTo: url)
      try handle.seek(toOffset: UInt64(range.lowerBound + 4 * 70))
      try handle.write(contentsOf: withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { Data($0) })
      try handle.close()
    }
    let m = try failure(folder, dir)
    #expect(m.contains("blk.1.ffn_up.weight") && m.contains("nan") && m.contains("element 70"), "\(m)")
  }

  @Test func unwritableOutput() throws {
    let dir = try WeightScratchDirectory()
    defer { dir.cleanup() }
    let target = dir.url.appendingPathComponent("no/such/dir/m.gguf").path
    let m = try failure(try ExportFixtures.folder("qwen3_vl"), dir, output: target)
    #expect(m.contains(target + ".tmp") && m.contains("cannot create"), "\(m)")
  }

  @Test func mmprojRequantizeIsRefused() throws {
    let dir = try WeightScratchDirectory()
    defer { dir.cleanup() }
    let mmproj = try #require(Bundle.module.url(forResource: "mmproj-f16", withExtension: "gguf", subdirectory: "Fixtures/qwen-vl-gguf/qwen3_vl"))
    let out = dir.url.appendingPathComponent("x.gguf").path
    let m = weightErrorMessage { _ = try GGUFExport.requantize(mmproj, options: GGUFExportOptions(modelType: .q8_0, output: out)) }
    #expect(m?.contains("mmproj") == true, "\(m ?? "no error")")
    #expect(!FileManager.default.fileExists(atPath: out))
  }
}
