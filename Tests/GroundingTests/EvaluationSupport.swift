import Foundation
import Imaging
import Testing
@testable import Grounding

/// The screenspot-mini fixture (scripts/make-screenspot-mini: real Tk windows under Xvfb, boxes
/// from Tk's geometry) and scratch folders for evaluation tests.
enum EvalFixture {
  static let v1 = "screenspot_mini.json", v2 = "screenspot_mini_v2.json", pro = "tk_mini_pro.json"

  static var folder: URL {
    get throws {
      try #require(Bundle.module.url(forResource: "screenspot-mini", withExtension: nil, subdirectory: "Fixtures"),
                   "missing fixture folder screenspot-mini")
    }
  }

  static func annotations(_ name: String, format: ScreenSpotFormat? = nil) throws -> ScreenSpotAnnotations {
    try ScreenSpotAnnotations.read(path: folder.appendingPathComponent(name).path, format: format)
  }

  static func samples(_ name: String) throws -> [ScreenSpotSample] {
    try annotations(name).entries.map { entry in
      guard case let .sample(s) = entry else { throw EvalTestError("fixture entry \(entry.key) is invalid") }
      return s
    }
  }
}

struct EvalTestError: Error, CustomStringConvertible {
  let description: String
  init(_ d: String) { description = d }
}

/// A fresh temporary folder, removed when the value goes away.
final class ScratchFolder {
  let url: URL
  init() throws {
    url = FileManager.default.temporaryDirectory.appendingPathComponent("eval-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }
  func path(_ name: String) -> String { url.appendingPathComponent(name).path }
  func write(_ text: String, to name: String) throws { try Data(text.utf8).write(to: url.appendingPathComponent(name)) }
  func writePNG(width: Int, height: Int, to name: String) throws {
    try PNG.write(try RGBImage(width: width, height: height, fill: RGB(200, 200, 200)), to: path(name))
  }
  deinit { try? FileManager.default.removeItem(at: url) }
}

extension ScreenSpotEvaluator {
  /// Runs without a results file and returns the records.
  func records(_ annotations: ScreenSpotAnnotations, existing: [EvaluationRecord] = []) throws -> [EvaluationRecord] {
    try run(annotations, existing: existing) { _, _, _ in }.records
  }
}
