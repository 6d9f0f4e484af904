import Engine
import Foundation
import Imaging
import Testing
@testable import Grounding

// MARK: - A GGUF pair in gui-agent against llama.cpp's mtmd on the same pair
//
// Fixtures from scripts/fixtures/make_qwen_vl_gguf_fixtures.py (Tests/EngineTests/Fixtures/
// qwen-vl-gguf): llama.cpp's mtmd ran the pair on an image already on the model's grid, so
// neither side resizes or pads (llama.cpp keeps the aspect ratio and pads; the Hugging Face
// processor, which we follow, resizes). Compared: the text ids, the image token count, every
// image token's M-RoPE position, the positions the image takes, and the logits teacher-forced
// along llama.cpp's greedy tokens: they differ by llama.cpp's rounding of the activations, so every
// llama.cpp token must be our argmax or within a small logit gap of it, and the logits close.

private struct MtmdReference: Decodable {
  struct Chunk: Decodable {
    let type: String
    let tokens: [Int]?
    let n_tokens: Int?
    let nx: Int?
    let ny: Int?
    let n_pos: Int
    let pos_0: Int
    let decoder_pos: [[Int]]?
  }
  struct Logits: Decodable { let file: String; let shape: [Int] }
  let chunks: [Chunk]
  let n_past: Int
  let n_vocab: Int
  let greedy_tokens: [Int]
  let logits: Logits
}

private struct PairFolder {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("EngineTests/Fixtures/qwen-vl-gguf")
  let family: String
  var dir: URL { Self.root.appendingPathComponent(family) }
  func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
  func reference(_ type: String) throws -> (MtmdReference, [Float]) {
    let ref = try JSONDecoder().decode(MtmdReference.self, from: Data(contentsOf: dir.appendingPathComponent("mtmd-\(type).json")))
    let data = try Data(contentsOf: dir.appendingPathComponent(ref.logits.file))
    let floats = data.withUnsafeBytes { raw in
      (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
    }
    return (ref, floats)
  }
}

@Suite struct QwenVLGGUFMtmdTests {
  static let cases = ["qwen2_vl", "qwen2_5_vl", "qwen3_vl"].flatMap { f in ["f16", "q8_0"].map { (f, $0) } }

  @Test(arguments: cases)
  func matchesLlamaCppOnAGridSizedImage(_ family: String, _ type: String) throws {
    let folder = PairFolder(family: family)
    let (ref, refLogits) = try folder.reference(type)
    // A budget that takes the grid-sized image as it is (Qwen3-VL's published minimum is larger).
    let model = try ModelLoader.load(path: folder.path("model-\(type).gguf"),
                                     options: LoadOptions(mmproj: folder.path("mmproj-f16.gguf"), minPixels: 3136), threads: 1)
    let network = try #require(model.network as? QwenVLModel)
    let image = try PNG.read(path: folder.path("grid_image.png"))
    let pipeline = try VisionLanguagePipeline(model: model)
    let prompt = "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Click the OK button<|im_end|>\n<|im_start|>assistant\n"
    let prepared = try pipeline.prepare(prompt: prompt, images: [image], raw: true)
    let sizes: [[Int]] = prepared.resizedSizes.map { [$0.width, $0.height] }
    #expect(sizes == [[image.width, image.height]], "the image was resized")

    // Ids: llama.cpp's text chunks around the image's tokens.
    let imageChunk = try #require(ref.chunks.first { $0.type == "image" })
    let pad = network.config.imageTokenId
    var expected: [Int] = []
    for chunk in ref.chunks {
      expected += chunk.type == "image" ? Array(repeating: pad, count: chunk.n_tokens ?? -1) : (chunk.tokens ?? [])
    }
    #expect(prepared.ids == expected, "\(family): ids \(prepared.ids) vs llama.cpp \(expected)")
    let grid = try #require(prepared.imageGrids.first)
    let merge = network.config.vision.mergeSize
    let merged: [Int] = [grid.h / merge, grid.w / merge], llamaGrid: [Int] = [imageChunk.ny ?? -1, imageChunk.nx ?? -1]
    #expect(merged == llamaGrid, "merged grid")

    // Positions: each image token's (t, row, column), and where the text after it starts.
    let (positions, _) = try network.ropePositions(tokens: prepared.ids, imagePadId: pad, grids: prepared.imageGrids,
                                                   after: network.makeCache(capacity: 1))
    let first = try #require(prepared.ids.firstIndex(of: pad))
    let ours = (0..<(imageChunk.n_tokens ?? 0)).map { k in (0..<3).map { positions[(first + k) * 3 + $0] } }
    // llama.cpp lists [t, x, y]; the M-RoPE sections are (t, h, w) = (t, y, x).
    let theirs = (imageChunk.decoder_pos ?? []).map { [$0[0], $0[2], $0[1]] }
    #expect(ours == theirs, "\(family): image positions")
    let last = (prepared.ids.count - 1) * 3
    #expect(positions[last] + 1 == ref.n_past, "\(family): the prompt takes \(positions[last] + 1) positions, llama.cpp \(ref.n_past)")

    // Logits along llama.cpp's greedy tokens.
    var cache = network.makeCache(capacity: prepared.ids.count + 16)
    var logits = try network.prefill(tokens: prepared.ids, imageEmbeddings: prepared.imageEmbeddings,
                                     imageGrids: prepared.imageGrids, imagePadId: pad, cache: &cache)
    let vocab = ref.n_vocab
    var worstGap: Float = 0, worstDiff: Float = 0, argmaxEqual = 0
    for (k, token) in ref.greedy_tokens.enumerated() {
      let row = Array(refLogits[(k * vocab)..<((k + 1) * vocab)])
      #expect(logits.count == vocab && logits.allSatisfy(\.isFinite))
      let best = logits.indices.max { logits[$0] < logits[$1] } ?? -1
      let gap = logits[best] - logits[token]
      worstGap = max(worstGap, gap)
      worstDiff = max(worstDiff, zip(logits, row).map { abs($0 - $1) }.max() ?? .infinity)
      if best == token { argmaxEqual += 1 }
      #expect(gap <= 0.05, "\(family) \(type) step \(k): llama.cpp chose \(token), \(gap) below our best \(best)")
      logits = try network.prefill(tokens: [token], imageEmbeddings: nil, imageGrids: [], imagePadId: pad, cache: &cache)
    }
    let scale = refLogits.map(abs).max() ?? 1
    // llama.cpp rounds activations to f16 before f16 products, and to 8-bit blocks before q8_0
    // ones (we multiply float activations): measured 0.1-0.15 % and 1.6-2.7 % of max |logit|.
    let bound: Float = type == "f16" ? 0.003 : 0.04
    #expect(worstDiff / scale < bound, "\(family) \(type): logits differ by \(worstDiff) (max |logit| \(scale))")
    print("mtmd figure: \(family) \(type): \(argmaxEqual)/\(ref.greedy_tokens.count) argmax equal, worst gap \(worstGap), max |diff| \(worstDiff) of max |logit| \(scale)")
  }
}
