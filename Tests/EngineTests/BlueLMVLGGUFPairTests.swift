import Foundation
import Testing
@testable import Engine

// MARK: - bluelm_vl GGUF pairs written by `GGUFExport`, against the folders they came from
//
// The embedded nano model (f16 safetensors) and the tiny pointer-head checkpoint are exported
// into a temporary folder and loaded back with --mmproj. At f16 the pair holds the folder's
// values exactly (vision norms and biases become f32, which is exact), so features, logits and
// pointer scores agree to ~1e-6 (the tiny checkpoint is f32: f16 rounding); at q8_0 the greedy token agrees where the folder's margin is
// clear.

private enum BlueLMPair {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  static let nano = root.appendingPathComponent("Models/bluelm-vl-nano")
  static let tiny = root.appendingPathComponent("Tests/GroundingTests/Fixtures/tiny-bluelm")

  /// Exports `folder` at `type` into a fresh temporary folder; returns (LM path, mmproj path).
  static func export(_ folder: URL, _ type: GGUFModelType = .f16) throws -> (String, String) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bluelm-pair-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let options = GGUFExportOptions(modelType: type, output: dir.appendingPathComponent("model-\(type.rawValue).gguf").path, threads: 2)
    _ = try GGUFExport.exportFolder(folder, options: options)
    return (options.output, options.resolvedProjectorOutput)
  }

  static func load(_ pair: (String, String)) throws -> LoadedModel {
    try ModelLoader.load(path: pair.0, options: LoadOptions(mmproj: pair.1), threads: 2)
  }

  /// Normalized random tiles (n, 3, T, T), fixed seed.
  static func tiles(_ n: Int, size: Int) -> [Float] {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    return (0..<(n * 3 * size * size)).map { _ in
      state = state &* 6364136223846793005 &+ 1442695040888963407
      return Float(state >> 40) / Float(1 << 24) * 2 - 1
    }
  }
}

@Suite struct BlueLMVLGGUFPairTests {
  @Test(arguments: [BlueLMPair.nano, BlueLMPair.tiny])
  func f16PairEqualsTheFolder(_ folder: URL) throws {
    let pairPaths = try BlueLMPair.export(folder)
    let pair = try BlueLMPair.load(pairPaths)
    let hf = try ModelLoader.load(path: folder.path, threads: 2)
    #expect(pair.family == "bluelm_vl")
    #expect(pair.mmprojPath == pairPaths.1)
    #expect(pair.vision == hf.vision, "AnyRes settings and image token ids")
    #expect(pair.template == hf.template)
    #expect(pair.thinkingMarkers == hf.thinkingMarkers)
    #expect(pair.eosIds == hf.eosIds)
    #expect(pair.promptTemplate == hf.promptTemplate)
    for text in ["Click the OK button.", "[|Human|]:hello <|image_start|><|image_pad|><|image_end|>[|AI|]:",
                 "héllo wörld 123 [|BlueThink|]x[|/BlueThink|]</s>", "  two  spaces\nnewline"] {
      #expect(pair.tokenizer.encode(text) == hf.tokenizer.encode(text), "\(text)")
    }
    let p = try #require(pair.network as? BlueLMVLModel), h = try #require(hf.network as? BlueLMVLModel)
    #expect((p.pointerTokenIds == nil) == (h.pointerTokenIds == nil))
    let size = p.config.visionConfig.imageSize
    let tiles = BlueLMPair.tiles(2, size: size)
    let pf = try p.encodeImages(tiles: tiles), hfF = try h.encodeImages(tiles: tiles)
    #expect(pf.count == hfF.count)
    // The nano checkpoint is f16 (the pair holds the same values); the tiny one is f32 (f16 rounding).
    let tolerance: Float = folder == BlueLMPair.nano ? 1e-5 : 1e-2
    #expect(relativeError(pf, hfF) <= tolerance, "image features")
    let pad = try #require(hf.vision?.tokenIds.imagePad)
    let rows = hfF.count / h.config.textConfig.hiddenSize
    let text = hf.tokenizer.encode("[|Human|]:describe")
    let ids = text + Array(repeating: pad, count: rows) + hf.tokenizer.encode("[|AI|]:")
    var c1 = p.makeCache(capacity: ids.count + 4), c2 = h.makeCache(capacity: ids.count + 4)
    let pl = try p.logits(tokens: ids, imageEmbeddings: pf, imagePadId: pad, cache: &c1)
    let hl = try h.logits(tokens: ids, imageEmbeddings: hfF, imagePadId: pad, cache: &c2)
    #expect(relativeError(pl, hl) <= tolerance, "logits")
    if let pointer = h.pointerTokenIds {
      let pids = text + Array(repeating: pad, count: rows) + pointer.sequence
      let ps = try p.pointerScores(tokens: pids, imageEmbeddings: pf, imagePadId: pad, keyRows: 0..<rows)
      let hs = try h.pointerScores(tokens: pids, imageEmbeddings: hfF, imagePadId: pad, keyRows: 0..<rows)
      #expect(relativeError(ps.scores, hs.scores) <= tolerance, "pointer scores")
    }
  }

  @Test func q8PairAgreesGreedilyWhereTheMarginIsClear() throws {
    let pair = try BlueLMPair.load(try BlueLMPair.export(BlueLMPair.nano, .q8_0))
    let hf = try ModelLoader.load(path: BlueLMPair.nano.path, threads: 2)
    let p = try #require(pair.network as? BlueLMVLModel), h = try #require(hf.network as? BlueLMVLModel)
    let ids = hf.tokenizer.encode("[|Human|]:Open the settings menu and click Save.[|AI|]:")
    var c1 = p.makeCache(capacity: ids.count), c2 = h.makeCache(capacity: ids.count)
    let pl = try p.logits(tokens: ids, cache: &c1), hl = try h.logits(tokens: ids, cache: &c2)
    let vocab = h.vocabularySize
    let err = relativeError(pl, hl)
    #expect(err <= 0.01, "q8_0 logits, relative error \(err)")
    var compared = 0
    for i in ids.indices {
      let row = Array(hl[(i * vocab)..<((i + 1) * vocab)]), qrow = Array(pl[(i * vocab)..<((i + 1) * vocab)])
      let sorted = row.sorted(by: >)
      let scale = row.map(abs).max() ?? 1
      // Clear: the top-2 gap is well above q8_0's error on the logits (~0.3% of their scale).
      guard sorted[0] - sorted[1] > 0.02 * scale else { continue }
      compared += 1
      #expect(qrow.indices.max { qrow[$0] < qrow[$1] } == row.indices.max { row[$0] < row[$1] }, "position \(i)")
    }
    #expect(compared > 0, "no position with a clear margin")
  }

  @Test func mismatchedPairsAreRefusedNamingBothFiles() throws {
    let blue = try BlueLMPair.export(BlueLMPair.tiny)
    let qwen = try QwenVLGGUFPairFixture("qwen2_vl")
    let qwenLM = qwen.path("model-f16.gguf"), qwenMM = qwen.path("mmproj-f16.gguf")
    for (lm, mm) in [(qwenLM, blue.1), (blue.0, qwenMM)] {
      do {
        _ = try ModelLoader.load(path: lm, options: LoadOptions(mmproj: mm))
        Issue.record("\(lm) + \(mm) loaded")
      } catch {
        let message = "\(error)"
        #expect(message.contains(lm) && message.contains(mm), "\(message)")
      }
    }
    // Two bluelm_vl models of different sizes.
    let nano = try BlueLMPair.export(BlueLMPair.nano)
    #expect(throws: EngineError.self) { try ModelLoader.load(path: nano.0, options: LoadOptions(mmproj: blue.1)) }
  }
}
