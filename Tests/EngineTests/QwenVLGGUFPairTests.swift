import Foundation
import Testing
@testable import Engine

// MARK: - Qwen-VL GGUF pairs written by llama.cpp's converter, against the folders they came from
//
// Fixtures from scripts/fixtures/make_qwen_vl_gguf_fixtures.py: the tiny folders of
// QwenVLParityTests converted by the converter llama-cpp-python's sdist vendors (f16 and q8_0
// language models, f16 mmproj). A pair must give the folder's model: the same configuration, the
// same vocabulary and ids, and logits within the f16 rounding of the weights. The pair does not
// store Qwen2.5-VL's attention window (the tiny folder uses 56 px, published models 112), so the
// folder's model is built with the pair's window for the comparison.

struct QwenVLGGUFPairFixture {
  let family: String
  let dir: URL
  let folder: QwenVLFixture

  init(_ family: String) throws {
    self.family = family
    let root = try #require(Bundle.module.url(forResource: "qwen-vl-gguf", withExtension: nil, subdirectory: "Fixtures"))
    dir = root.appendingPathComponent(family)
    folder = try QwenVLFixture(family)
  }

  func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

  /// The folder's pixel budget, given to the pair (a pair does not store one).
  func budget() throws -> LoadOptions {
    let hf = try ModelLoader.load(path: folder.checkpoint.path)
    guard case let .nativeResolution(r)? = hf.vision?.layout else { throw EngineError.invalidArgument("no resize") }
    return LoadOptions(minPixels: r.minPixels, maxPixels: r.maxPixels)
  }

  func loadPair(_ model: String = "model-f16.gguf", threads: Int = 2) throws -> LoadedModel {
    var options = try budget()
    options.mmproj = path("mmproj-f16.gguf")
    return try ModelLoader.load(path: path(model), options: options, threads: threads)
  }

  /// The folder's model, with the attention window a pair implies.
  func folderModel() throws -> QwenVLModel {
    var config = try QwenVLConfig.decode(Data(contentsOf: folder.checkpoint.appendingPathComponent("config.json")))
    config.vision.windowSize = 112
    return try QwenVLModel(config: config, weights: try SafetensorsCheckpoint(directory: folder.checkpoint), threads: 2)
  }
}

@Suite struct QwenVLGGUFPairTests {
  @Test(arguments: QwenVLFixture.families)
  func configurationAndVocabularyMatchTheFolder(_ family: String) throws {
    let f = try QwenVLGGUFPairFixture(family)
    let pair = try f.loadPair()
    let hf = try ModelLoader.load(path: f.folder.checkpoint.path)
    #expect(pair.family == family)
    #expect(pair.mmprojPath == f.path("mmproj-f16.gguf"))
    let p = try #require(pair.network as? QwenVLModel), h = try f.folderModel()
    #expect(p.config.text == h.config.text)
    var folderVision = h.config.vision
    if family != "qwen2_5_vl" { folderVision.fullAttentionBlocks = p.config.vision.fullAttentionBlocks }  // unused there
    #expect(p.config.vision == folderVision)
    #expect(p.config.mropeSection == h.config.mropeSection)
    let pairIds: [Int] = [p.config.imageTokenId, p.config.visionStartTokenId, p.config.visionEndTokenId]
    let folderIds: [Int] = [h.config.imageTokenId, h.config.visionStartTokenId, h.config.visionEndTokenId]
    #expect(pairIds == folderIds)
    #expect(pair.vision == hf.vision, "processor settings and image token ids")
    #expect(pair.template == hf.template)
    #expect(pair.eosIds.isSubset(of: hf.eosIds) && pair.eosIds.contains(388))
    #expect(pair.notes.contains { $0.contains("--min-pixels/--max-pixels") })
    for c in f.folder.manifest.cases {
      #expect(pair.tokenizer.encode(c.prompt) == c.prompt_ids, "\(c.name): tokenizer")
    }
  }

  @Test(arguments: QwenVLFixture.families)
  func f16PairLogitsMatchTheFolder(_ family: String) throws {
    let f = try QwenVLGGUFPairFixture(family)
    let p = try #require(try f.loadPair().network as? QwenVLModel)
    let h = try f.folderModel()
    let pad = h.config.imageTokenId
    for c in f.folder.manifest.cases {
      let grids = c.images.map { ImageGrid(t: $0.image_grid_thw[0], h: $0.image_grid_thw[1], w: $0.image_grid_thw[2]) }
      let pixels = try f.folder.floats(c.pixel_values)
      let pe = try p.encodeImages(patches: pixels, grids: grids), he = try h.encodeImages(patches: pixels, grids: grids)
      var pc = p.makeCache(capacity: c.input_ids.count + 4, precision: .f32)
      var hc = h.makeCache(capacity: c.input_ids.count + 4, precision: .f32)
      let pl = try p.logits(tokens: c.input_ids, imageEmbeddings: pe, imageGrids: grids, imagePadId: pad, cache: &pc)
      let hl = try h.logits(tokens: c.input_ids, imageEmbeddings: he, imageGrids: grids, imagePadId: pad, cache: &hc)
      let vision = qwenRelativeError(pe, he), logits = qwenRelativeError(pl, hl)
      #expect(pl.allSatisfy(\.isFinite) && pe.allSatisfy(\.isFinite))
      #expect(vision < 2e-3, "\(family) \(c.name): image features off by \(vision) of max")
      #expect(logits < 1e-3, "\(family) \(c.name): logits off by \(logits) of max")
      print("gguf pair figure: \(family) \(c.name) f16: features \(vision), logits \(logits) of max")
    }
  }

  @Test(arguments: QwenVLFixture.families)
  func q8PairGreedyAgreesWhereMarginsAreClear(_ family: String) throws {
    let f = try QwenVLGGUFPairFixture(family)
    let p = try #require(try f.loadPair("model-q8_0.gguf").network as? QwenVLModel)
    let h = try f.folderModel()
    let pad = h.config.imageTokenId
    var compared = 0
    for c in f.folder.manifest.cases {
      let grids = c.images.map { ImageGrid(t: $0.image_grid_thw[0], h: $0.image_grid_thw[1], w: $0.image_grid_thw[2]) }
      let pixels = try f.folder.floats(c.pixel_values)
      let params = GenerationParameters(maxTokens: 8, sampling: .greedy, eosTokenIds: [])
      let pr = try Generator(model: p, parameters: params).generate(
        prompt: c.input_ids, imageEmbeddings: try p.encodeImages(patches: pixels, grids: grids), imageGrids: grids, imagePadId: pad)
      // The folder model's own margins decide which steps are clear.
      let he = try h.encodeImages(patches: pixels, grids: grids)
      var cache = h.makeCache(capacity: c.input_ids.count + 16)
      var logits = try h.prefill(tokens: c.input_ids, imageEmbeddings: he, imageGrids: grids, imagePadId: pad, cache: &cache)
      for (step, token) in pr.tokens.enumerated() {
        let sorted = logits.sorted(by: >)
        guard sorted[0] - sorted[1] > 0.05 else { break }
        let best = logits.indices.max { logits[$0] < logits[$1] } ?? -1
        #expect(token == best, "\(family) \(c.name): step \(step) q8_0 chose \(token), f32 \(best)")
        compared += 1
        logits = try h.prefill(tokens: [best], imageEmbeddings: nil, imageGrids: [], imagePadId: pad, cache: &cache)
      }
    }
    #expect(compared >= 8, "\(family): only \(compared) greedy steps had a clear margin")
  }

  @Test func aFolderHoldingBothFilesLoads() throws {
    let f = try QwenVLGGUFPairFixture("qwen2_5_vl")
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pair-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    try FileManager.default.copyItem(atPath: f.path("model-f16.gguf"), toPath: dir.appendingPathComponent("Model-F16.gguf").path)
    try FileManager.default.copyItem(atPath: f.path("mmproj-f16.gguf"), toPath: dir.appendingPathComponent("mmproj.gguf").path)
    let model = try ModelLoader.load(path: dir.path)
    #expect(model.family == "qwen2_5_vl")
    #expect(model.path.hasSuffix("Model-F16.gguf") && model.mmprojPath?.hasSuffix("mmproj.gguf") == true)
    #expect(model.notes.contains { $0.contains("published qwen2_5_vl defaults") })
    // A third GGUF makes the folder ambiguous: named, with the files.
    try FileManager.default.copyItem(atPath: f.path("model-q8_0.gguf"), toPath: dir.appendingPathComponent("Model-Q8_0.gguf").path)
    let m = errorText { _ = try ModelLoader.load(path: dir.path) }
    #expect(m.contains("2 language-model GGUF files") && m.contains("Model-Q8_0.gguf"), "\(m)")
  }
}

/// The description of the error `body` throws, "" when it throws none.
func errorText(_ body: () throws -> Void) -> String {
  do { try body(); return "" } catch { return "\(error)" }
}

// MARK: - Pairs that do not belong together, or lack what they need

@Suite struct QwenVLGGUFPairRefusalTests {
  /// A copy of `file` with `find` replaced by `replace` (same length) once, in a temporary file.
  func patched(_ file: String, _ find: String, _ replace: String) throws -> String {
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
    let needle = Array(find.utf8), sub = Array(replace.utf8)
    precondition(needle.count == sub.count)
    let at = try #require((0...(bytes.count - needle.count)).first { Array(bytes[$0..<($0 + needle.count)]) == needle })
    bytes.replaceSubrange(at..<(at + needle.count), with: sub)
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("patched-\(UUID().uuidString).gguf")
    try Data(bytes).write(to: out)
    return out.path
  }

  /// A copy of `file` with the uint32 value of metadata `key` set to `value`.
  func patched(_ file: String, key: String, uint32 value: UInt32) throws -> String {
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
    let needle = Array(key.utf8)
    let at = try #require((0...(bytes.count - needle.count)).first { Array(bytes[$0..<($0 + needle.count)]) == needle })
    let type = at + needle.count, v = type + 4  // the key, then its type (uint32 = 4), then the value
    #expect(bytes[type] == 4, "\(key) is not a uint32")
    withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(v..<(v + 4), with: $0) }
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("patched-\(UUID().uuidString).gguf")
    try Data(bytes).write(to: out)
    return out.path
  }

  func message(_ body: () throws -> Void) -> String { errorText(body) }

  @Test func anMmprojOfAnotherModelIsRefusedNamingBothFiles() throws {
    let a = try QwenVLGGUFPairFixture("qwen2_5_vl"), b = try QwenVLGGUFPairFixture("qwen3_vl")
    let lm = a.path("model-f16.gguf")
    // Another family's projector.
    var m = message { _ = try ModelLoader.load(path: lm, options: LoadOptions(mmproj: b.path("mmproj-f16.gguf"))) }
    #expect(m.contains(lm) && m.contains(b.path("mmproj-f16.gguf")) && m.contains("qwen3vl_merger"), "\(m)")
    // (Another model of the same architecture and widths cannot be told apart by the files; one of
    // other widths is refused by its projection width, below.)
    // No mmproj, an mmproj given as the model, an mmproj with a text model.
    m = message { _ = try ModelLoader.load(path: lm) }
    #expect(m.contains("--mmproj"), "\(m)")
    m = message { _ = try ModelLoader.load(path: a.path("mmproj-f16.gguf")) }
    #expect(m.contains("mmproj file"), "\(m)")
  }

  @Test func aWrongWidthOrAMissingKeyIsNamed() throws {
    let a = try QwenVLGGUFPairFixture("qwen2_5_vl")
    let lm = a.path("model-f16.gguf"), mm = a.path("mmproj-f16.gguf")
    let missing = try patched(mm, "clip.vision.projection_dim", "clip.vision.projectiXn_dim")
    defer { try? FileManager.default.removeItem(atPath: missing) }
    var m = message { _ = try ModelLoader.load(path: lm, options: LoadOptions(mmproj: missing)) }
    #expect(m.contains(missing) && m.contains(lm) && m.contains("clip.vision.projection_dim"), "\(m)")
    // n_embd: the projector writes features of another width than the language model's.
    let narrow = try patched(mm, key: "clip.vision.projection_dim", uint32: 48)
    defer { try? FileManager.default.removeItem(atPath: narrow) }
    m = message { _ = try ModelLoader.load(path: lm, options: LoadOptions(mmproj: narrow)) }
    #expect(m.contains(narrow) && m.contains(lm) && m.contains("projection_dim is 48") && m.contains("embedding_length is 64"), "\(m)")
    // The language model's width disagrees with its own embedding table.
    let wide = try patched(lm, key: "qwen2vl.embedding_length", uint32: 96)
    defer { try? FileManager.default.removeItem(atPath: wide) }
    m = message { _ = try ModelLoader.load(path: wide, options: LoadOptions(mmproj: mm)) }
    #expect(m.contains(wide) && m.contains("qwen2vl.embedding_length = 96"), "\(m)")
    let window = try patched(mm, "clip.vision.n_wa_pattern", "clip.vision.n_wa_patterX")
    defer { try? FileManager.default.removeItem(atPath: window) }
    m = message { _ = try ModelLoader.load(path: lm, options: LoadOptions(mmproj: window)) }
    #expect(m.contains(window) && m.contains("n_wa_pattern"), "\(m)")
  }
}
