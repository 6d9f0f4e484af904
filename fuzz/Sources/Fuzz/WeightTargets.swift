import Engine
import Foundation

// MARK: - Weight files: safetensors, GGUF

extension FuzzTarget {
  static let weightTargets: [FuzzTarget] = [
    FuzzTarget("safetensors", "a .safetensors file: SafetensorsFile(path:) header checks, then every tensor read",
               maxLength: 16 << 10, dictionary: "safetensors") { data in
      let url = Scratch.write(data, as: "input.safetensors")
      guard let file = attempt("safetensors", { try SafetensorsFile(path: url.path) }) else { return }
      readAll(file)
    },
    FuzzTarget("safetensors-index", "model.safetensors.index.json of a sharded checkpoint: SafetensorsCheckpoint(directory:)",
               maxLength: 8 << 10, dictionary: "safetensors", prepare: { _ = shardFolder }) { data in
      _ = Scratch.write(data, as: "checkpoint/" + SafetensorsCheckpoint.indexFileName)
      guard let checkpoint = attempt("checkpoint", { try SafetensorsCheckpoint(directory: shardFolder) }) else { return }
      readAll(checkpoint)
    },
    FuzzTarget("gguf", "a .gguf file: GGUFFile(path:), Tokenizer.gguf, every tensor dequantized, ModelLoader.load",
               maxLength: 64 << 10, dictionary: "gguf") { data in
      let url = Scratch.write(data, as: "input.gguf")
      guard let file = attempt("gguf", { try GGUFFile(path: url.path) }) else { return }
      readAll(file)
      if let tokenizer = attempt("tokenizer", { try Tokenizer.gguf(file) }) { exercise(tokenizer) }
      // The whole text-model load: hyperparameters, tensor shapes, template, end-of-sequence ids.
      _ = attempt("model", { try ModelLoader.load(path: url.path, threads: 1) })
    },
    FuzzTarget("gguf-pair", "a Qwen-VL GGUF pair: the input (after a first byte) as the mmproj beside the tiny qwen2_vl language model (first byte even), or as the language model beside its mmproj (odd): ModelLoader.load with --mmproj, then the tower on one small image",
               maxLength: 256 << 10, dictionary: "gguf") { data in
      guard let first = data.first else { return }
      let fuzzed = Scratch.write(data.dropFirst(), as: "pair-input.gguf").path
      let pair = repositoryRoot.appendingPathComponent("Tests/EngineTests/Fixtures/qwen-vl-gguf/qwen2_vl")
      let (model, mmproj) = first % 2 == 0
        ? (pair.appendingPathComponent("model-f16.gguf").path, fuzzed)
        : (fuzzed, pair.appendingPathComponent("mmproj-f16.gguf").path)
      guard let loaded = attempt("pair", { try ModelLoader.load(path: model, options: LoadOptions(mmproj: mmproj), threads: 1) }),
            let network = loaded.network as? QwenVLModel else { return }
      let v = network.config.vision, grid = ImageGrid(t: 1, h: 2 * v.mergeSize, w: 2 * v.mergeSize)
      guard v.patchValues <= 1 << 16 else { return }
      let patches = [Float](repeating: 0.5, count: grid.t * grid.h * grid.w * v.patchValues)
      _ = attempt("tower", { try network.encodeImages(patches: patches, grids: [grid]) })
    },
  ]

  /// Every tensor as floats and as a matrix: reads every byte range the header validated.
  static func readAll(_ source: any WeightSource) {
    for name in source.tensorNames {
      _ = attempt(name, { try source.floats(name) })
      _ = attempt(name, { try source.matrix(name) })
    }
  }

  /// A checkpoint folder in the scratch folder with one valid shard (`model-00001-of-00001.safetensors`,
  /// tensors `a` f32 [2] and `b` f16 [2]) that a fuzzed index may name.
  static let shardFolder: URL = {
    let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[2],"data_offsets":[8,12]}}"#
    var bytes = Data()
    withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
    bytes.append(contentsOf: header.utf8)
    bytes.append(contentsOf: [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40, 0x00, 0x3C, 0x00, 0xC0])  // 1, 2; 1, -2
    try? FileManager.default.createDirectory(at: Scratch.folder.appendingPathComponent("checkpoint"),
                                             withIntermediateDirectories: true)
    _ = Scratch.write(bytes, as: "checkpoint/model-00001-of-00001.safetensors")
    return Scratch.folder.appendingPathComponent("checkpoint")
  }()
}
