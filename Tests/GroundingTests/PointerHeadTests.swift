import Engine
import Foundation
import Imaging
import Testing
@testable import Grounding

// The pointer head end to end against scripts/fixtures/make_pointer_fixtures.py: the tiny
// checkpoint in Fixtures/pointer-bluelm (float16 weights, GUI-Actor's head names) and, per image,
// PyTorch's softmax scores over the tiles' tokens (training/model.py's PointerHead on
// transformers' tower and decoder) and the point / box / score of the Python region rule.
//
// Tolerance: the reference runs float32 math on the same float16-rounded weights, so Swift and
// PyTorch differ only by float32 rounding: scores within 2e-6 absolute (they are 0.001-0.2),
// logits within 1e-4.

private struct PointerManifest: Decodable {
  struct Region: Decodable {
    let point: [Double], box: [Int], score: Double, tokens: [[Int]], regions: Int
  }
  struct Case: Decodable {
    let name: String, image: String, instruction: String, expanded_ids: [Int], grid: [Int], resized: [Int]
    let thumbnail: Bool, logits: [Float], scores: [Float], region: Region
    let image_point: [Double], pixel: [Int], pixel_box: [Int]
  }
  let vocab_size: Int, token_ids: [String: Int], tokens_per_side: Int, cell: Int, cases: [Case]
}

enum PointerFixture {
  static func directory() throws -> URL {
    try #require(Bundle.module.url(forResource: "pointer-bluelm", withExtension: nil, subdirectory: "Fixtures"))
  }
  fileprivate static func manifest() throws -> PointerManifest {
    let url = try #require(Bundle.module.url(forResource: "manifest", withExtension: "json", subdirectory: "Fixtures/pointer"))
    return try JSONDecoder().decode(PointerManifest.self, from: Data(contentsOf: url))
  }
  static func image(_ file: String) throws -> RGBImage {
    let url = try #require(Bundle.module.url(forResource: file, withExtension: nil, subdirectory: "Fixtures/pointer"))
    return try PNG.read(path: url.path)
  }
  static func model(threads: Int = 1) throws -> LoadedModel { try ModelLoader.load(path: directory().path, threads: threads) }

  /// A scratch copy of the checkpoint whose config.json `edit` changes; removed by the caller.
  static func copy(editingConfig edit: (inout [String: Any]) -> Void = { _ in }) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pointer-\(UUID().uuidString)")
    try FileManager.default.copyItem(at: directory(), to: dir)
    let configURL = dir.appendingPathComponent("config.json")
    var config = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any])
    edit(&config)
    try JSONSerialization.data(withJSONObject: config).write(to: configURL)
    return dir
  }

  /// The message of the error loading `dir` throws (nil when it loads).
  static func loadError(_ dir: URL) -> String? {
    do { _ = try ModelLoader.load(path: dir.path); return nil } catch { return error.localizedDescription }
  }
}

private let caseNames = ["land_150x100", "small_40x30", "strip_150x30"]

@Suite struct PointerHeadParityTests {
  @Test func theFixtureCoversTheGrids() throws {
    let m = try PointerFixture.manifest()
    #expect(m.cases.map(\.name) == caseNames)
    // Several tiles with a thumbnail; a 1x1 grid without; a canvas with whole padding rows.
    #expect(m.cases[0].thumbnail && m.cases[0].grid[0] * m.cases[0].grid[1] > 1)
    #expect(!m.cases[1].thumbnail && m.cases[1].grid == [1, 1])
    #expect(m.cases[2].resized[1] < m.cases[2].grid[0] * 56 - m.cell)
    let model = try PointerFixture.model()
    #expect(model.network.vocabularySize == m.vocab_size)
    let grounder = try Grounder(model: model)
    #expect(grounder.method == .pointer)
  }

  @Test(arguments: caseNames) func promptAndScoresMatchPyTorch(_ name: String) throws {
    let c = try #require(try PointerFixture.manifest().cases.first { $0.name == name })
    let grounder = try Grounder(model: try PointerFixture.model())
    let pass = try grounder.pointerPass(image: try PointerFixture.image(c.image), instruction: c.instruction)
    #expect(pass.prepared.ids == c.expanded_ids)
    #expect(pass.plan.map { [$0.grid.rows, $0.grid.cols] } == c.grid)
    #expect(pass.plan.map { [$0.resizedWidth, $0.resizedHeight] } == c.resized)
    #expect(pass.scores.scores.count == c.scores.count)
    let scoreError = maxAbsDifference(pass.scores.scores, c.scores)
    let logitError = maxAbsDifference(pass.scores.logits, c.logits)
    #expect(scoreError <= 2e-6, "\(name): scores differ by \(scoreError)")
    #expect(logitError <= 1e-4, "\(name): logits differ by \(logitError)")
  }

  @Test(arguments: caseNames) func pointBoxAndScoreMatchTheReference(_ name: String) throws {
    let c = try #require(try PointerFixture.manifest().cases.first { $0.name == name })
    let grounder = try Grounder(model: try PointerFixture.model(threads: 2))
    let image = try PointerFixture.image(c.image)
    let r = try grounder.ground(image: image, instruction: c.instruction)
    #expect(r.method == .pointer && r.found && r.answer.isEmpty)
    #expect(r.point == ScreenPoint(x: c.pixel[0], y: c.pixel[1]))
    #expect(r.box == PixelRect(x: c.pixel_box[0], y: c.pixel_box[1], width: c.pixel_box[2], height: c.pixel_box[3]))
    #expect(abs((r.score ?? -1) - c.region.score) < 1e-5)
    let p = try #require(r.imagePoint)
    #expect(abs(p.x - c.image_point[0]) < 1e-3 && abs(p.y - c.image_point[1]) < 1e-3)
    #expect(Set(r.timings.keys) == ["preprocess", "vision", "prefill", "pointer"])
    // The capture's origin moves the point and the box as for text answers.
    let moved = try grounder.ground(image: image, instruction: c.instruction, origin: ScreenPoint(x: 1920, y: 40))
    #expect(moved.point == ScreenPoint(x: c.pixel[0] + 1920, y: c.pixel[1] + 40))
    #expect(moved.box?.x == c.pixel_box[0] + 1920 && moved.box?.y == c.pixel_box[1] + 40)
  }

  /// The region rule alone on PyTorch's own scores: exactly the Python rule's region.
  @Test(arguments: caseNames) func regionRuleOnTheReferenceScores(_ name: String) throws {
    let m = try PointerFixture.manifest()
    let c = try #require(m.cases.first { $0.name == name })
    let canvas = try PointerCanvas(tileRows: c.grid[0], tileCols: c.grid[1], tokensPerSide: m.tokens_per_side,
                                   tileSize: 56, cell: m.cell, resizedWidth: c.resized[0], resizedHeight: c.resized[1])
    let regions = try canvas.regions(scores: c.scores)
    #expect(regions.count == c.region.regions)
    let best = try #require(regions.first)
    #expect(best.tokens.map { [$0.row, $0.col] } == c.region.tokens)
    #expect([best.box.x0, best.box.y0, best.box.x1, best.box.y1] == c.region.box)
    #expect(abs(best.score - c.region.score) < 1e-9)
    #expect(abs(best.point.x - c.region.point[0]) < 1e-9 && abs(best.point.y - c.region.point[1]) < 1e-9)
  }

  @Test func aMinimumScoreAboveTheBestRegionIsNotFound() throws {
    let c = try #require(try PointerFixture.manifest().cases.first)
    var grounder = try Grounder(model: try PointerFixture.model())
    grounder.minimumScore = c.region.score + 0.01
    let r = try grounder.ground(image: try PointerFixture.image(c.image), instruction: c.instruction)
    #expect(!r.found && r.point == nil && r.box == nil)
    #expect(abs((r.score ?? -1) - c.region.score) < 1e-5)
    guard case let .belowMinimumScore(score, minimum)? = r.noCoordinate else {
      Issue.record("expected belowMinimumScore, got \(String(describing: r.noCoordinate))"); return
    }
    #expect(minimum == grounder.minimumScore && score < minimum)
    #expect(r.noCoordinate?.description.hasPrefix("not found") == true)
    grounder.minimumScore = c.region.score - 0.01
    #expect(try grounder.ground(image: try PointerFixture.image(c.image), instruction: c.instruction).found)
  }

  @Test func thinkingDoesNotApplyToThePointer() throws {
    let grounder = try Grounder(model: try PointerFixture.model())
    let image = try PointerFixture.image("small_40x30.png")
    #expect(throws: GroundingError.self) { try grounder.ground(image: image, instruction: "OK", thinking: .think(budget: 4)) }
  }

  @Test func theTextPathIsUnchangedForAModelWithoutHead() throws {
    let dir = try #require(Bundle.module.url(forResource: "tiny-bluelm", withExtension: nil, subdirectory: "Fixtures"))
    let model = try ModelLoader.load(path: dir.path)
    #expect((model.network as? any PointingModel)?.pointerTokenIds == nil)
    let grounder = try Grounder(model: model)
    #expect(grounder.method == .text)
    let r = try grounder.ground(image: try PointerFixture.image("small_40x30.png"), instruction: "OK", maxTokens: 4)
    #expect(r.method == .text && r.score == nil && r.timings["decode"] != nil)
    #expect(throws: GroundingError.self) { try grounder.pointerPass(image: try PointerFixture.image("small_40x30.png"), instruction: "OK") }
  }
}

// MARK: - Broken checkpoints and prompts

@Suite struct PointerHeadErrorTests {
  /// Hides `name` from the checkpoint: a model.safetensors.index.json whose weight_map lists
  /// every other tensor (a tensor absent from weight_map is not exposed, as in transformers).
  static func hiding(_ name: String, in dir: URL) throws {
    let file = try SafetensorsFile(url: dir.appendingPathComponent("model.safetensors"))
    var map: [String: String] = [:]
    for n in file.tensorNames where n != name { map[n] = "model.safetensors" }
    #expect(map.count == file.tensorNames.count - 1, "\(name) is not in the checkpoint")
    try JSONSerialization.data(withJSONObject: ["metadata": [String: String](), "weight_map": map])
      .write(to: dir.appendingPathComponent(SafetensorsCheckpoint.indexFileName))
  }

  @Test(arguments: ["multi_patch_pointer_head.projection_dec.2.bias",
                    "multi_patch_pointer_head.self_attention.in_proj_weight"])
  func aMissingHeadTensorIsNamed(_ name: String) throws {
    let dir = try PointerFixture.copy()
    defer { try? FileManager.default.removeItem(at: dir) }
    try Self.hiding(name, in: dir)
    let message = try #require(PointerFixture.loadError(dir))
    #expect(message.contains(name) && message.contains("pointer"), "\(message)")
  }

  @Test func headTensorsWithoutTokenIdsAreAnError() throws {
    let dir = try PointerFixture.copy { config in
      for key in ["pointer_start_token_id", "pointer_pad_token_id", "pointer_end_token_id"] { config[key] = nil }
    }
    defer { try? FileManager.default.removeItem(at: dir) }
    let message = try #require(PointerFixture.loadError(dir))
    #expect(message.contains("multi_patch_pointer_head.") && message.contains("pointer_pad_token_id"), "\(message)")
  }

  @Test func aPointerIdBeyondTheVocabularyIsNamed() throws {
    let dir = try PointerFixture.copy { $0["pointer_pad_token_id"] = 400 }
    defer { try? FileManager.default.removeItem(at: dir) }
    let message = try #require(PointerFixture.loadError(dir))
    #expect(message.contains("pointer_pad_token_id 400") && message.contains("outside the vocabulary"), "\(message)")
  }

  @Test func onlySomePointerIdsIsAnError() throws {
    let dir = try PointerFixture.copy { $0["pointer_end_token_id"] = nil }
    defer { try? FileManager.default.removeItem(at: dir) }
    let message = try #require(PointerFixture.loadError(dir))
    #expect(message.contains("pointer_end_token_id missing"), "\(message)")
  }

  @Test func anIdThatIsNotThePointerTokenIsAnError() throws {
    // 12 is a valid id, but not <|pointer_pad|> in tokenizer.json.
    let dir = try PointerFixture.copy { $0["pointer_pad_token_id"] = 12 }
    defer { try? FileManager.default.removeItem(at: dir) }
    let message = try #require(PointerFixture.loadError(dir))
    #expect(message.contains("pointer_pad_token_id is 12") && message.contains("<|pointer_pad|>"), "\(message)")
  }

  @Test func aHeadTensorOfTheWrongShapeIsNamed() throws {
    // weight_map sends layer_norm.weight to a second shard holding a (3,) tensor of that name.
    let dir = try PointerFixture.copy()
    defer { try? FileManager.default.removeItem(at: dir) }
    let name = "multi_patch_pointer_head.layer_norm.weight"
    try Self.hiding(name, in: dir)
    var header = #"{"\#(name)":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}"#
    while header.utf8.count % 8 != 0 { header += " " }
    var bytes = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Array($0) } + Array(header.utf8)
    for v: Float in [1, 2, 3] { bytes += withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
    try Data(bytes).write(to: dir.appendingPathComponent("bad.safetensors"))
    let indexURL = dir.appendingPathComponent(SafetensorsCheckpoint.indexFileName)
    var index = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: indexURL)) as? [String: Any])
    var map = try #require(index["weight_map"] as? [String: String])
    map[name] = "bad.safetensors"
    index["weight_map"] = map
    try JSONSerialization.data(withJSONObject: index).write(to: indexURL)
    let message = try #require(PointerFixture.loadError(dir))
    #expect(message.contains(name) && message.contains("[3]") && message.contains("[64]"), "\(message)")
  }

  @Test func aPromptWithoutThePointerPadIsRefused() throws {
    let model = try PointerFixture.model()
    let network = try #require(model.network as? any PointingModel)
    let ids = try #require(network.pointerTokenIds)
    let tokens = model.tokenizer.encode("[|Human|]:hello[|AI|]:") + [ids.start, ids.end]
    do {
      _ = try network.pointerScores(tokens: tokens, imageEmbeddings: [Float](repeating: 0, count: 64 * 16),
                                    imagePadId: -1, keyRows: 0..<16)
      Issue.record("a prompt without <|pointer_pad|> was accepted")
    } catch {
      #expect(error.localizedDescription.contains("0 <|pointer_pad|> tokens"), "\(error.localizedDescription)")
    }
  }
}
