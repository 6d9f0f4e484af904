import Foundation
import Testing
@testable import Grounding

// Reading the three ScreenSpot layouts, on the real-data fixture written in all three.
@Suite struct EvaluationFormatTests {
  @Test func detectsTheThreeFormats() throws {
    #expect(try EvalFixture.annotations(EvalFixture.v1).format == .v1)
    #expect(try EvalFixture.annotations(EvalFixture.v2).format == .v2)
    #expect(try EvalFixture.annotations(EvalFixture.pro).format == .pro)
  }

  // v1/v2 store [x, y, w, h], Pro [x1, y1, x2, y2]: the script wrote each box both ways from one
  // Tk geometry, so all three readers must yield the same boxes, types and instructions.
  @Test func allThreeReadTheSameBoxes() throws {
    let v1 = try EvalFixture.samples(EvalFixture.v1)
    let v2 = try EvalFixture.samples(EvalFixture.v2)
    let pro = try EvalFixture.samples(EvalFixture.pro)
    #expect(v1 == v2)
    #expect(v1.map(\.box) == pro.map(\.box))
    #expect(v1.map(\.uiType) == pro.map(\.uiType) && v1.map(\.instruction) == pro.map(\.instruction))
    #expect(Set(pro.map(\.source)) == ["linux"] && pro.allSatisfy { $0.declaredSize == [640, 480] })
    #expect(Set(v1.map(\.source)) == ["tk-settings", "tk-login", "tk-editor"])
    #expect(v1.filter { $0.uiType == "icon" }.count == 4)
    // The Save button: x 420, width 102 -> x2 522.
    #expect(v1[0].box == EvaluationBox(x1: 420, y1: 420, x2: 522, y2: 451) && v1[0].instruction == "save the preferences")
  }

  @Test func groupsByAnotherField() throws {
    let a = try ScreenSpotAnnotations.read(path: try EvalFixture.folder.appendingPathComponent(EvalFixture.pro).path,
                                           groupBy: "group")
    let r = AccuracyReport(records: try ScreenSpotEvaluator(imagesDirectory: try EvalFixture.folder.path, method: .center).records(a))
    // settings (6) and login (4) are "Office", the editor (5) "Dev".
    #expect(r.bySource.mapValues(\.all.n) == ["Office": 10, "Dev": 5])
    let missing = try ScreenSpotAnnotations.read(path: try EvalFixture.folder.appendingPathComponent(EvalFixture.v1).path,
                                                 groupBy: "group")
    #expect(missing.entries.allSatisfy {
      if case let .invalid(_, _, _, reason) = $0 { reason == "missing field group" } else { false }
    })
  }

  @Test func forcedFormatOverridesDetection() throws {
    let asPro = try EvalFixture.annotations(EvalFixture.v1, format: .pro)
    #expect(asPro.format == .pro)
    // v1 entries lack ui_type/platform/img_size, so read as Pro every one is invalid.
    for entry in asPro.entries {
      guard case let .invalid(_, _, _, reason) = entry else { Issue.record("\(entry.key) read as Pro"); continue }
      #expect(reason == "missing field ui_type")
    }
    let asV2 = try EvalFixture.annotations(EvalFixture.v1, format: .v2)
    let asV1 = try EvalFixture.annotations(EvalFixture.v1)
    #expect(asV2.format == .v2 && asV2.entries == asV1.entries)
  }

  @Test(arguments: [
    (#"[{"img_filename": "a.png", "data_type": "text", "ui_type": "text"}]"#, "both"),
    (#"[{"img_filename": "a.png", "bbox": [1, 2, 3, 4]}]"#, "no entry has"),
    ("", "the file is empty"),
    ("  \n", "the file is empty"),
    (#"{"img_filename": "a.png"}"#, "expected a JSON list of samples, found an object"),
    ("[{", "not valid JSON"),
  ])
  func wholeFileProblemsAreErrors(json: String, message: String) {
    do {
      _ = try ScreenSpotAnnotations.parse(Data(json.utf8), path: "bad.json")
      Issue.record("no error for \(json)")
    } catch {
      #expect(error.localizedDescription.contains("bad.json") && error.localizedDescription.contains(message),
              "\(error.localizedDescription)")
    }
  }

  @Test func anEmptyListHasNoSamples() throws {
    #expect(try ScreenSpotAnnotations.parse(Data("[]".utf8), path: "e.json").entries.isEmpty)
  }

  @Test(arguments: [
    (#"{"img_filename": "a.png", "bbox": [1, 2, 3, 4], "data_type": "text", "data_source": "web"}"#, "missing field instruction"),
    (#"{"img_filename": "a.png", "instruction": "x", "bbox": [1, 2, 3, 4], "data_type": "button", "data_source": "web"}"#, "data_type must be \"text\" or \"icon\", found \"button\""),
    (#"{"img_filename": "a.png", "instruction": "x", "bbox": [1, 2, 3], "data_type": "text", "data_source": "web"}"#, "bbox must be 4 numbers, found [1,2,3]"),
    (#"{"img_filename": "a.png", "instruction": "x", "bbox": [1, 2, true, 4], "data_type": "text", "data_source": "web"}"#, "bbox must be 4 numbers"),
    (#"{"img_filename": "a.png", "instruction": "x", "bbox": [1, 2, -3, 4], "data_type": "text", "data_source": "web"}"#, "negative extent"),
    (#"{"img_filename": 7, "instruction": "x", "bbox": [1, 2, 3, 4], "data_type": "text", "data_source": "web"}"#, "img_filename must be a non-empty string, found a number"),
    (#""just a string""#, "expected an object, found a string"),
  ])
  func badEntriesAreNamedAndKept(entry: String, reason: String) throws {
    let good = #"{"img_filename": "b.png", "instruction": "y", "bbox": [0, 0, 1, 1], "data_type": "icon", "data_source": "ios"}"#
    let a = try ScreenSpotAnnotations.parse(Data("[\(good), \(entry)]".utf8), path: "mixed.json")
    #expect(a.format == .v1 && a.entries.count == 2)
    guard case .sample = a.entries[0] else { Issue.record("good entry rejected"); return }
    guard case let .invalid(key, _, _, r) = a.entries[1] else { Issue.record("bad entry accepted: \(entry)"); return }
    #expect(key.index == 1)
    #expect(r.contains(reason), "\(r)")
  }
}
