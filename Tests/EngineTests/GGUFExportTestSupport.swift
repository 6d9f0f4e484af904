import Foundation
import Testing
@testable import Engine

// MARK: - Fixtures and comparisons for the GGUF export tests
//
// Fixtures/qwen-vl/F: the tiny Qwen-VL folders; Fixtures/qwen-vl-gguf/F: llama.cpp's converter's
// pair of each (scripts/fixtures/make_qwen_vl_gguf_fixtures.py); Fixtures/weights/quantize/
// llama-quantize.json: llama-quantize's own output of those model-f16.gguf, summarized
// (scripts/fixtures/make_quantize_fixtures.py).

enum ExportFixtures {
  static let families = ["qwen2_vl", "qwen2_5_vl", "qwen3_vl"]

  static func folder(_ family: String) throws -> URL {
    try #require(Bundle.module.url(forResource: family, withExtension: nil, subdirectory: "Fixtures/qwen-vl"))
  }

  static func reference(_ family: String, _ file: String) throws -> GGUFFile {
    let url = try #require(Bundle.module.url(forResource: file, withExtension: "gguf", subdirectory: "Fixtures/qwen-vl-gguf/\(family)"),
                           "Fixtures/qwen-vl-gguf/\(family)/\(file).gguf is missing")
    return try GGUFFile(url: url)
  }

  /// llama-quantize.json: per "family/type" the metadata keys in order, file_type and tensors.
  struct LlamaQuantize: Decodable {
    struct File: Decodable {
      let file_type: Int
      let keys: [String]
      /// [name, ggml type name, ggml dims, sha256 of the bytes]
      let tensors: [[Entry]]
    }
    enum Entry: Decodable {
      case text(String), dims([Int])
      init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { self = .text(s) } else { self = .dims(try c.decode([Int].self)) }
      }
      var text: String? { if case let .text(s) = self { s } else { nil } }
      var dims: [Int]? { if case let .dims(d) = self { d } else { nil } }
    }
    let files: [String: File]

    static func load() throws -> LlamaQuantize {
      let url = try #require(Bundle.module.url(forResource: "llama-quantize", withExtension: "json", subdirectory: "Fixtures/weights/quantize"))
      return try JSONDecoder().decode(LlamaQuantize.self, from: Data(contentsOf: url))
    }
  }

  /// ggml's upper-case type name of a TensorDType ("Q4_K", "F16").
  static func ggmlName(_ t: TensorDType) -> String { t.rawValue.uppercased() }

  /// SHA-256 of a tensor's stored bytes.
  static func sha256(_ f: GGUFFile, _ name: String) throws -> String {
    try f.withRawBytes(name) { SHA256.hex($0) }
  }

  static func bytes(_ f: GGUFFile, _ name: String) throws -> [UInt8] {
    try f.withRawBytes(name) { [UInt8]($0) }
  }

  /// Exports `family` into `dir`; returns the model and mmproj paths and the summary.
  static func export(_ family: String, _ type: GGUFModelType, projector: GGUFProjectorType = .f16,
                     into dir: WeightScratchDirectory) throws -> (String, String, GGUFExportSummary) {
    let model = dir.url.appendingPathComponent("\(family)-\(type.rawValue).gguf").path
    let mmproj = dir.url.appendingPathComponent("\(family)-mmproj-\(projector.rawValue).gguf").path
    let summary = try GGUFExport.exportFolder(try folder(family), options: GGUFExportOptions(
      modelType: type, projectorType: projector, output: model, projectorOutput: mmproj, threads: 2))
    return (model, mmproj, summary)
  }
}

/// Expects `ours` to equal `reference`: metadata keys in the same order with equal values (keys
/// in `ignoring` only present), tensors in the same order with equal types, shapes and bytes.
func expectSameGGUF(_ ours: GGUFFile, _ reference: GGUFFile, ignoring: Set<String> = ["general.name"],
                    sourceLocation: SourceLocation = #_sourceLocation) throws {
  #expect(ours.metadataKeys == reference.metadataKeys, "key order", sourceLocation: sourceLocation)
  for key in reference.metadataKeys where !ignoring.contains(key) {
    #expect(ours.metadata[key] == reference.metadata[key], "\(key): \(ours.metadata[key]?.summary ?? "absent") vs \(reference.metadata[key]?.summary ?? "")",
            sourceLocation: sourceLocation)
  }
  #expect(ours.tensors.map(\.name) == reference.tensors.map(\.name), "tensor order", sourceLocation: sourceLocation)
  for t in reference.tensors {
    guard let o = ours.tensor(t.name) else { Issue.record("missing \(t.name)", sourceLocation: sourceLocation); continue }
    #expect(o.type == t.type && o.dims == t.dims, "\(t.name): \(o.type) \(o.dims) vs \(t.type) \(t.dims)", sourceLocation: sourceLocation)
    if o.type == t.type, o.dims == t.dims {
      #expect(try ExportFixtures.bytes(ours, t.name) == ExportFixtures.bytes(reference, t.name), "\(t.name): bytes differ",
              sourceLocation: sourceLocation)
    }
  }
}

/// The checkpoint values an exported GGUF tensor holds, after the converter's transform (a third
/// of the fused qkv rows, one frame of the Conv3d patch weight).
func placedValues(_ checkpoint: SafetensorsCheckpoint, names: QwenVLGGUFNames, gguf name: String) throws -> [Float]? {
  for source in checkpoint.tensorNames {
    guard let (_, placement) = names.placement(of: source), let k = placement.names.firstIndex(of: name) else { continue }
    let all = try checkpoint.floats(source)
    let shape = try #require(checkpoint.info(source)?.shape)
    switch placement {
    case .same: return all
    case let .splitRows(parts):
      let n = all.count / parts.count
      return Array(all[(k * n)..<((k + 1) * n)])
    case let .splitFrames(frames):
      let plane = shape[3] * shape[4], count = frames.count
      var out: [Float] = []
      for p in 0..<(shape[0] * shape[1]) {
        let start = (p * count + k) * plane
        out += all[start..<(start + plane)]
      }
      return out
    }
  }
  return nil
}
