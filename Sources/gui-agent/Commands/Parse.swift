import Foundation
import Grounding
import Imaging

/// `gui-agent parse`: the text on a screenshot, as numbered elements with boxes.
extension Commands {
  static let parse = Command(
    name: "parse",
    abstract: "Read the text on the screen into numbered elements with boxes (OCR, set-of-marks).",
    discussion: """
      The screenshot comes from --image or from the live screen (--capture, optionally one
      monitor, whose offset is added so that boxes are screen pixels). Tesseract reads it,
      upscaled by --scale first; each text line (with --words, each word) is printed as
      [id] WxH+X+Y confidence "text". --annotate writes the screenshot with each box outlined and
      its id beside it. --json prints the parse: area, elements [{id, kind, text, box {x, y,
      width, height}, confidence}], milliseconds, parser. The language model comes from --tessdata,
      else $TESSDATA_PREFIX, else /usr/share/tesseract-ocr/5/tessdata (docs/screen-parsing.md).
      """,
    options: [
      .value("image", "PNG", "The screenshot."),
      .flag("capture", "Capture the screen now instead of --image."),
      .value("monitor", "N|NAME", "With --capture: one monitor."),
      .value("annotate", "OUT.png", "Write the screenshot with the numbered boxes drawn on it."),
      .flag("words", "List single words instead of text lines."),
      .value("scale", "F", "Upscale before OCR, 1...4 (default \(TesseractParser.defaultScale))."),
      .value("segmentation", "sparse|auto|block", "Tesseract's page segmentation (default sparse)."),
      .value("language", "LANG", "Tesseract language(s), e.g. eng or eng+deu (default eng)."),
      .value("tessdata", "DIR", "The folder holding LANG.traineddata."),
      displayOption,
    ],
    run: { args in
      var options = TesseractParser.Options()
      options.level = args.flag("words") ? .words : .lines
      options.scale = try args.double("scale", range: 1...4) ?? options.scale
      if let s = args.string("segmentation") {
        guard let mode = PageSegmentation(rawValue: s) else {
          throw UsageError("--segmentation: '\(s)' is not sparse, auto or block")
        }
        options.pageSegmentation = mode
      }
      options.language = args.string("language") ?? options.language
      options.dataPath = args.string("tessdata")
      let (image, origin) = try screenshot(args)
      let parser = try TesseractParser(options: options)
      let area = PixelRect(x: origin.x, y: origin.y, width: image.width, height: image.height)
      let result = try parser.parse(image, area: area)
      if let out = args.string("annotate") { try PNG.write(result.annotated(image), to: out) }
      Output.log(String(format: "%@: %d elements in %.0f ms", parser.name, result.elements.count, result.milliseconds))
      if args.json {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var object = try JSONSerialization.jsonObject(with: encoder.encode(result)) as? [String: Any] ?? [:]
        object["parser"] = parser.name
        try Output.json(object)
      } else {
        for e in result.elements {
          Output.out(String(format: "[%d] %@ %.0f ", e.id, e.box.description, e.confidence) + "\"\(e.text)\"")
        }
        if let out = args.string("annotate") { Output.out("wrote \(out)") }
      }
      return .success
    })
}
