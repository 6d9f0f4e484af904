import Agent
import Foundation
import Grounding
import Imaging

// MARK: - Screen text grounding, served planners' answers, finished results files

extension FuzzTarget {
  static let screenTextTargets: [FuzzTarget] = [
    FuzzTarget("ocr-match", "an instruction grounded on a fixed screen parse: InstructionLabel, TextMatch, the field beside a label",
               maxLength: 1 << 10, dictionary: "actions") { data in
      let instruction = text(data)
      _ = InstructionLabel.candidates(instruction)
      _ = attempt("ocr ground", { try FixedScreen.grounder.ground(image: FixedScreen.image, instruction: instruction) })
      _ = attempt("ocr ground at an origin", {
        try FixedScreen.grounder.ground(image: FixedScreen.image, instruction: instruction, origin: ScreenPoint(x: 1920, y: -40))
      })
    },
    FuzzTarget("chat-completion", "a chat completion from a served planner: ChatCompletion.decode, then its content as actions",
               maxLength: 16 << 10, dictionary: "json") { data in
      if case let .success(c) = ChatCompletion.decode(data) { actions(.json, c.content) }
    },
    FuzzTarget("results", "a finished or partial eval results file (header line, JSONL records): ResultsFile.read",
               maxLength: 16 << 10, dictionary: "json") { data in
      let url = Scratch.write(data, as: "results.jsonl")
      _ = attempt("results", { try ResultsFile.read(path: url.path) })
    },
  ]
}

/// A 320x120 grey screen with a white, bordered field right of the words "Name" and "Save",
/// read as two lines of words by a parser that always answers the same.
enum FixedScreen {
  final class Parser: ScreenParser {
    var name: String { "fixed" }
    func parse(_ screenshot: RGBImage, area: PixelRect) throws -> ScreenParse {
      func word(_ id: Int, _ kind: ScreenElement.Kind, _ t: String, _ x: Int, _ y: Int, _ w: Int) -> ScreenElement {
        ScreenElement(id: id, kind: kind, text: t, box: PixelRect(x: area.x + x, y: area.y + y, width: w, height: 14), confidence: 90)
      }
      return ScreenParse(area: area, elements: [
        word(1, .text, "Name", 10, 20, 40), word(2, .word, "Name", 10, 20, 40),
        word(3, .text, "Save As... Save", 10, 80, 150), word(4, .word, "Save", 10, 80, 40),
        word(5, .word, "As...", 55, 80, 40), word(6, .word, "Save", 120, 80, 40), word(7, .word, "İstanbul", 200, 80, 60),
      ], milliseconds: 0)
    }
  }

  static let image: RGBImage = {
    guard var image = try? RGBImage(width: 320, height: 120, fill: RGB(220, 220, 220)) else {
      fatalError("fuzz harness: cannot make the fixed screen")  // the harness, not the product
    }
    for y in 15...40 { for x in 60...300 { let i = 3 * (y * 320 + x); let c: UInt8 = x == 60 || x == 300 || y == 15 || y == 40 ? 80 : 255
      image.pixels[i] = c; image.pixels[i + 1] = c; image.pixels[i + 2] = c } }
    return image
  }()

  static let grounder = OCRGrounder(parser: Parser())
}
