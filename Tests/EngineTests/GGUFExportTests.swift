import Foundation
import Testing
@testable import Engine

// GGUF export of the tiny Qwen-VL folders against llama.cpp's converter (f16 pair, q8_0 model)
// and llama-quantize (q4_0, q4_k = Q4_K_M, q5_k = Q5_K_M, q6_k): the same metadata keys in the same
// order with the same values (general.name aside: the converter title-cases a guess), the same
// tensors in the same order, types, shapes and bytes. Run in release mode.

@Suite struct GGUFExportTests {
  @Test(arguments: ExportFixtures.families)
  func f16PairEqualsTheConverters(_ family: String) throws {
    let dir = try WeightScratchDirectory()
    defer { dir.cleanup() }
    let (model, mmproj, summary) = try ExportFixtures.export(family, .f16, into: dir)
    try expectSameGGUF(try GGUFFile(path: model), try ExportFixtures.reference(family, "model-f16"))
    try expectSameGGUF(try GGUFFile(path: mmproj), try ExportFixtures.reference(family, "mmproj-f16"))
    #expect(summary.fallbacks.isEmpty && summary.skipped.isEmpty)
    #expect(summary.files.map(\.role) == ["model", "mmproj"])
    #expect(summary.files.first?.bytes == (try FileManager.default.attributesOfItem(atPath: model)[.size] as? Int))
  }

  @Test(arguments: ExportFixtures.families)
  func q8_0ModelEqualsTheConverters(_ family: String) throws {
    let dir = try WeightScratchDirectory()
    defer { dir.cleanup() }
    let (model, _, _) = try ExportFixtures.export(family, .q8_0, into: dir)
    try expectSameGGUF(try GGUFFile(path: model), try ExportFixtures.reference(family, "model-q8_0"))
  }

  /// Re-quantizing the converter's model-f16.gguf gives llama-quantize's file: keys in its order,
  /// its tensor order, types (the mix and its fallbacks: the tiny rows of 64 and 128 values make
  /// every K type fall back) and bytes. From the folder, the same types; the same bytes too where
  /// the checkpoint is f16 or bf16 (qwen2_vl's f32 weights are quantized from f32, where llama.cpp
  /// rounds them to f16 first).
  @Test(arguments: ExportFixtures.families)
  func mixesEqualLlamaQuantize(_ family: String) throws {
    let reference = try ExportFixtures.LlamaQuantize.load()
    let dir = try WeightScratchDirectory()
    defer { dir.cleanup() }
    let f16 = try #require(Bundle.module.url(forResource: "model-f16", withExtension: "gguf", subdirectory: "Fixtures/qwen-vl-gguf/\(family)"))
    for type in [GGUFModelType.q4_0, .q4_k, .q5_k, .q6_k] {
      let expected = try #require(reference.files["\(family)/\(type.rawValue)"])
      let out = dir.url.appendingPathComponent("re-\(type.rawValue).gguf").path
      let summary = try GGUFExport.requantize(f16, options: GGUFExportOptions(modelType: type, output: out, threads: 2))
      let (fromFolder, _, folderSummary) = try ExportFixtures.export(family, type, into: dir)
      for (path, compareBytes) in [(out, true), (fromFolder, family != "qwen2_vl")] {
        let f = try GGUFFile(path: path)
        #expect(f.metadataKeys == expected.keys, "\(family) \(type): keys")
        #expect(f.int("general.file_type") == expected.file_type)
        #expect(f.tensors.map(\.name) == expected.tensors.map { $0[0].text ?? "" }, "\(family) \(type): order")
        for e in expected.tensors {
          let name = e[0].text ?? ""
          let t = try #require(f.tensor(name))
          #expect(ExportFixtures.ggmlName(t.type) == e[1].text && t.dims == e[2].dims, "\(family) \(type) \(name): \(t.type) \(t.dims)")
          if compareBytes { #expect(try ExportFixtures.sha256(f, name) == e[3].text, "\(family) \(type) \(name): bytes") }
        }
      }
      let quantized = expected.tensors.filter { ($0[1].text ?? "").hasPrefix("Q") }.count
      #expect(summary.fallbacks.count <= quantized && summary.fallbacks.count == folderSummary.fallbacks.count)
    }
  }

  /// The mixes on rows that divide into 256-blocks (the tiny fixtures' rows do not): for 8 layers
  /// llama-quantize's Q4_K_M gives attn_v and ffn_down of layers 0, 3, 6, 7 and output.weight
  /// Q6_K (checked with llama_model_quantize on an 8-layer, 256-wide Qwen3-VL and Qwen2.5-VL:
  /// byte-identical files).
  @Test func mixesOnFullBlocks() {
    func type(_ name: String, _ t: GGUFModelType, tied: Bool = false, shape: [Int] = [512, 256]) -> TensorDType {
      GGUFTypePolicy.model(name, shape: shape, type: t, layers: 8, tied: tied).type
    }
    let more = (0..<8).filter { type("blk.\($0).attn_v.weight", .q4_k) == .q6_K }
    #expect(more == [0, 3, 6, 7])
    #expect((0..<8).filter { type("blk.\($0).ffn_down.weight", .q5_k) == .q6_K } == [0, 3, 6, 7])
    #expect((0..<8).allSatisfy { type("blk.\($0).ffn_up.weight", .q4_k) == .q4_K && type("blk.\($0).attn_q.weight", .q5_k) == .q5_K })
    #expect(type("blk.3.attn_v.weight", .q4_0) == .q4_0 && type("blk.3.attn_v.weight", .q6_k) == .q6_K)
    for t in [GGUFModelType.q4_0, .q4_k, .q5_k, .q6_k] {
      #expect(type("output.weight", t) == .q6_K)
      #expect(type("token_embd.weight", t) == t.defaultType)
      #expect(type("token_embd.weight", t, tied: true) == .q6_K)
    }
    #expect(type("output.weight", .q8_0) == .q8_0 && type("output.weight", .f16) == .f16)
    // Rows of 32 x odd: output.weight to Q8_0 (the mix's rule), the rest by fallback.
    #expect(type("output.weight", .q4_k, shape: [416, 96]) == .q8_0)
    #expect(type("blk.0.ffn_up.weight", .q5_k, shape: [128, 96]) == .q5_1)
    #expect(type("blk.0.ffn_up.weight", .q4_0, shape: [128, 40]) == .f16)
    #expect(type("blk.0.attn_norm.weight", .q4_k, shape: [256]) == .f32 && type("blk.0.attn_q.bias", .q4_k, shape: [256]) == .f32)
  }

  /// Every exported tensor dequantizes to the checkpoint's values after the placement transform:
  /// exactly for f32, to f16 rounding for f16, within ~half a step (d / 2, d = amax / 127 in f16)
  /// for q8_0.
  @Test(arguments: ExportFixtures.families)
  func tensorsDequantizeToTheCheckpoint(_ family: String) throws {
    let dir = try WeightScratchDirectory()
    defer { dir.cleanup() }
    let folder = try ExportFixtures.folder(family)
    let checkpoint = try SafetensorsCheckpoint(directory: folder)
    let config = try QwenVLConfig.decode(Data(contentsOf: folder.appendingPathComponent("config.json")))
    let names = QwenVLGGUFNames(family: config.family, deepstackBlocks: config.vision.deepstackBlocks)
    let (model, mmproj, _) = try ExportFixtures.export(family, .q8_0, projector: .f16, into: dir)
    for path in [model, mmproj] {
      let f = try GGUFFile(path: path)
      for t in f.tensors {
        let expected = try #require(try placedValues(checkpoint, names: names, gguf: t.name), "\(t.name) has no source")
        let got = try f.floats(t.name)
        #expect(got.count == expected.count)
        switch t.type {
        case .f32: #expect(got.map(\.bitPattern) == expected.map(\.bitPattern), "\(t.name)")
        case .f16: #expect(got.map(\.bitPattern) == expected.map { Float(Float16($0)).bitPattern }, "\(t.name)")
        default:
          for b in 0..<(got.count / 32) {
            let block = expected[(32 * b)..<(32 * b + 32)], d = (block.map(abs).max() ?? 0) / 127
            let err = zip(got[(32 * b)..<(32 * b + 32)], block).map { abs($0 - $1) }.max() ?? 0
            #expect(err <= d * 0.57 + 1e-12, "\(t.name) block \(b): error \(err), step \(d)")
          }
        }
      }
    }
  }

  /// Round-trip error of the language model's 2-D weights per type (the figures quoted in the
  /// report), bounded a little above what was measured.
  @Test func roundTripErrorPerType() throws {
    let dir = try WeightScratchDirectory()
    defer { dir.cleanup() }
    let folder = try ExportFixtures.folder("qwen3_vl")
    let checkpoint = try SafetensorsCheckpoint(directory: folder)
    let names = QwenVLGGUFNames(family: .qwen3VL, deepstackBlocks: [1])
    let bounds: [(GGUFModelType, Double)] = [(.f16, 0.001), (.q8_0, 0.006), (.q6_k, 0.006), (.q5_k, 0.04), (.q4_k, 0.04), (.q4_0, 0.09)]
    var figures: [String] = []
    for (type, bound) in bounds {
      let (model, _, _) = try ExportFixtures.export("qwen3_vl", type, into: dir)
      let f = try GGUFFile(path: model)
      var got: [Float] = [], want: [Float] = []
      for t in f.tensors where t.dims.count == 2 {
        got += try f.floats(t.name)
        want += try #require(try placedValues(checkpoint, names: names, gguf: t.name))
      }
      let err = rmsRelativeError(got, want)
      figures.append("\(type.rawValue) \(String(format: "%.4f%%", err * 100))")
      #expect(err < bound, "\(type): \(err)")
    }
    print("qwen3_vl tiny LM 2-D weights, RMS relative error: " + figures.joined(separator: ", "))
  }
}
