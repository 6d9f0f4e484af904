import Engine
import Foundation
import Imaging
import Testing
@testable import Grounding

// GUI-Actor's pointer head on Qwen2-VL and Qwen2.5-VL folders, against GUI-Actor's published head
// and point rule (scripts/fixtures/make_gui_actor_fixtures.py; fixtures in
// Tests/EngineTests/Fixtures/qwen-vl/gui_actor_qwen2_vl* and gui_actor_qwen2_5_vl*): the prompt GUI-Actor's inference
// builds, the head's scores over the image tokens, and the point.

private struct GUIActorManifest: Decodable {
  struct Array1: Decodable { let file: String; let shape: [Int] }
  struct Image: Decodable { let file: String; let width: Int; let height: Int }
  struct Prediction: Decodable { let best_point: [Double] }
  struct Case: Decodable {
    let name: String, image: Image, instruction: String, input_ids: [Int]
    let pointer_scores: Array1, pointer_logits: Array1, n_width: Int, n_height: Int, prediction: Prediction
  }
  let cases: [Case]
}

@Suite struct GUIActorQwenTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("EngineTests/Fixtures/qwen-vl")

  fileprivate func floats(_ a: GUIActorManifest.Array1, _ dir: URL) throws -> [Float] {
    let data = try Data(contentsOf: dir.appendingPathComponent(a.file))
    return data.withUnsafeBytes { raw in
      (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
    }
  }

  @Test(arguments: ["gui_actor_qwen2_vl", "gui_actor_qwen2_5_vl"])
  func scoresAndPointMatchGUIActor(folder: String) throws {
    let refs = Self.root.appendingPathComponent(folder + "-ref")
    let manifest = try JSONDecoder().decode(GUIActorManifest.self, from: Data(contentsOf: refs.appendingPathComponent("manifest.json")))
    let model = try ModelLoader.load(path: Self.root.appendingPathComponent(folder).path, threads: 2)
    let grounder = try Grounder(model: model)
    #expect(grounder.method == .pointer)
    for c in manifest.cases {
      let image = try PNG.read(path: refs.appendingPathComponent(c.image.file).path)
      let pass = try grounder.pointerPass(image: image, instruction: c.instruction)
      // GUI-Actor's prompt ends at <|pointer_end|>) ; our pass stops at <|pointer_end|>.
      #expect(Array(c.input_ids.prefix(pass.prepared.ids.count)) == pass.prepared.ids, "\(c.name): prompt ids")
      #expect(pass.canvas.rows == c.n_height && pass.canvas.cols == c.n_width)
      let reference = try floats(c.pointer_scores, refs)
      let worst = maxAbsDifference(pass.scores.scores, reference)
      #expect(worst < 1e-4, "\(c.name): scores off by \(worst)")
      let logits = try floats(c.pointer_logits, refs)
      let logitWorst = maxAbsDifference(pass.scores.logits, logits)
      #expect(logitWorst < 1e-3 * max(1, logits.map(abs).max() ?? 1), "\(c.name): logits off by \(logitWorst)")
      // The point: GUI-Actor's best region centre (fractions of the image) in original pixels.
      let result = try grounder.ground(image: image, instruction: c.instruction)
      let point = try #require(result.imagePoint, "\(c.name): no point")
      let expectedX = c.prediction.best_point[0] * Double(c.image.width)
      let expectedY = c.prediction.best_point[1] * Double(c.image.height)
      #expect(abs(point.x - expectedX) < 0.05 && abs(point.y - expectedY) < 0.05,
              "\(c.name): point (\(point.x), \(point.y)) vs GUI-Actor's (\(expectedX), \(expectedY))")
    }
  }
}
