import Foundation
import Grounding
import Imaging
@testable import Service
import Testing

/// `POST /v1/parse` against the parser called directly on the same screenshot (a real Tk window,
/// 640x480), and its errors.
@Suite(.serialized) struct ParseRouteTests {
  static func tkScreenshot() throws -> Data {
    try Data(contentsOf: Fixtures.root.appendingPathComponent("GroundingTests/Fixtures/screenspot-mini/tk_settings.png"))
  }

  @Test func parseMatchesTheParser() throws {
    let s = try RunningService()
    let png = try Self.tkScreenshot()
    let response = try s.client.post("/v1/parse", json: ["image": png.base64EncodedString()])
    #expect(response.status == 200, "\(response.errorMessage)")
    let answer = try response.json()
    let image = try PNG.decode(png)
    let direct = try TesseractParser().parse(image, area: PixelRect(x: 0, y: 0, width: 640, height: 480))
    let elements = try #require(answer["elements"] as? [[String: Any]])
    #expect(elements.count == direct.elements.count)
    for (got, want) in zip(elements, direct.elements) {
      #expect(got["id"] as? Int == want.id)
      #expect(got["text"] as? String == want.text)
      #expect(got["kind"] as? String == "text")
      #expect(got["box"] as? [String: Int] == ["x": want.box.x, "y": want.box.y, "width": want.box.width, "height": want.box.height])
    }
    #expect(direct.elements.contains { $0.text == "Cancel" })
    #expect(answer["area"] as? [String: Int] == ["x": 0, "y": 0, "width": 640, "height": 480])
    #expect((answer["parser"] as? String)?.hasPrefix("tesseract") == true)
    #expect(answer["image_size"] as? [Int] == [640, 480])
    // Words, from a data URL.
    let words = try s.client.post("/v1/parse", json: ["image": "data:image/png;base64," + png.base64EncodedString(), "words": true])
    let wordElements = try #require(try words.json()["elements"] as? [[String: Any]])
    #expect(wordElements.contains { $0["text"] as? String == "notifications" })
    #expect(wordElements.allSatisfy { $0["kind"] as? String == "word" })
  }

  @Test func badRequestsNameTheField() throws {
    let s = try RunningService()
    let png = try Self.tkScreenshot().base64EncodedString()
    let cases: [([String: Any], String)] = [
      ([:], "image"),
      (["image": "not base64!"], "image"),
      (["image": png, "scale": 9], "scale"),
      (["image": png, "segmentation": "columns"], "segmentation"),
      (["image": png, "language": "zzz"], "language"),
      (["image": png, "language": "../eng"], "language"),
      (["image": png, "words": "yes"], "words"),
      (["image": png, "instruction": "x"], "instruction"),
      (["image": png, "monitor": 0], "monitor"),
    ]
    for (body, field) in cases {
      let r = try s.client.post("/v1/parse", json: body)
      #expect(r.status == 400, "\(body.keys.sorted()): \(r.status)")
      #expect(r.errorMessage.contains(field), "\(body.keys.sorted()): \(r.errorMessage)")
    }
    let wrong = try s.client.get("/v1/parse")
    #expect(wrong.status == 405)
  }

  @Test func missingDefaultLanguageIsUnavailable() {
    let error = GUIAgentService.ocrRequestError(.ocrDataMissing(language: "eng", searched: ["/x"]), languageGiven: false)
    #expect(error.status == 503 && error.message.contains("TESSDATA_PREFIX"))
    #expect(GUIAgentService.ocrRequestError(.ocrDataMissing(language: "zzz", searched: ["/x"]), languageGiven: true).status == 400)
  }
}
