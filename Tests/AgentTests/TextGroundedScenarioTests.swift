import Foundation
import Testing
import TestSupport
@testable import Agent

/// The grounded scenarios (Scenarios/grounded/) with `--grounder ocr`: their element
/// descriptions are found as screen text by Tesseract, with no model loaded.
@Suite(.serialized) struct TextGroundedScenarioTests {
  /// The three whose targets are named by their text ("the Project name field", "the Keep
  /// button", "the Submit button") pass; xedit's "the text area" has no text to read and is
  /// left out (hybrid mode gives it to the model).
  @Test(.timeLimit(.minutes(5))) func textNamedScenariosPassOnOCR() throws {
    let folder = try TempFolder()
    defer { folder.cleanup() }
    let names = ["gtk3-entry-grounded", "gtk3-question-grounded", "tk-form-grounded"]
    let store = folder.file("episodes.sqlite").path
    for name in names {
      let file = GroundedScenarioTests.grounded.appendingPathComponent("\(name).json").path
      let r = try runProgram(try guiAgentBinary(), ["scenario", "run", file, "--grounder", "ocr", "--store", store, "--json"])
      let report = try JSONDecoder().decode(ScenarioReport.self, from: Data(r.stdout.utf8))
      #expect(r.status == 0 && report.passed == 1, "\(name): \(r.stdout)\n\(r.stderr)")
    }
    // The episodes record OCR as their grounding.
    let db = try EpisodeStore(path: URL(fileURLWithPath: store))
    let episodes = try db.episodes().map { try db.episode($0.id) }
    #expect(episodes.count == names.count)
    #expect(episodes.allSatisfy { $0.models["grounding"]?.contains("ocr: tesseract") == true }, "\(episodes.map(\.models))")
  }
}
