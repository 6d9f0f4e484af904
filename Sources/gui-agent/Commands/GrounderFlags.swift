import Agent
import Engine
import Foundation
import Grounding
import Imaging

/// `--grounder model|ocr|hybrid` and the OCR options (ground, eval screenspot, run).
extension Commands {
  static let grounderOptionSpecs: [OptionSpec] = [
    .value("grounder", "model|ocr|hybrid",
           "How instructions become points: the model alone (default); screen text read by OCR; or OCR matches chosen among by the model, which grounds alone where no text matches."),
    .value("ocr-scale", "X", "OCR: upscale the screenshot by X before reading (1...4, default \(TesseractParser.defaultScale))."),
    .value("ocr-language", "LANG", "OCR: Tesseract language(s), e.g. eng or eng+deu (default eng)."),
  ]

  /// The --grounder mode; OCR options without an OCR grounder are a usage error, unless the
  /// command reads the screen with OCR for something else too (`run`'s element list).
  static func grounderMode(_ args: ParsedArguments, ocrElsewhere: Bool = false) throws -> GrounderMode {
    let mode = try args.string("grounder").map { (g: String) throws(UsageError) -> GrounderMode in
      guard let m = GrounderMode(rawValue: g) else {
        throw UsageError("--grounder: '\(g)' is not one of \(GrounderMode.allCases.map(\.rawValue).joined(separator: ", "))")
      }
      return m
    } ?? .model
    if mode == .model, !ocrElsewhere {
      for name in ["ocr-scale", "ocr-language"] where args.string(name) != nil {
        throw UsageError("--\(name) goes with --grounder ocr or hybrid")
      }
    }
    return mode
  }

  /// A Tesseract parser with --ocr-scale and --ocr-language; by default reading lines and their
  /// words (the OCR grounder matches runs of words within a line).
  static func ocrParser(_ args: ParsedArguments, level: TextLevel = .linesAndWords) throws -> TesseractParser {
    var options = TesseractParser.Options(level: level)
    if let s = try args.double("ocr-scale", range: 1...4) { options.scale = s }
    if let l = args.string("ocr-language") { options.language = l }
    return try TesseractParser(options: options)
  }

  /// The OCR grounder of `mode` (ocr or hybrid; hybrid loads the model and logs its setup).
  static func ocrGrounder(_ args: ParsedArguments, mode: GrounderMode) throws -> OCRGrounder {
    let parser = try ocrParser(args)
    Output.log("OCR: \(parser.name), upscaled x\(parser.options.scale)")
    guard mode == .hybrid else { return OCRGrounder(parser: parser) }
    var grounder = try Grounder(model: try loadModel(args), options: try groundingOptions(args))
    logSetup(grounder.setup)
    try applyMinimumScore(args, to: &grounder)
    return OCRGrounder(parser: parser, model: grounder)
  }

  /// `ground --grounder ocr|hybrid`: the point, printed as `ground` prints a model's.
  static func groundOnText(_ args: ParsedArguments, mode: GrounderMode, instruction: String) throws -> ExitCode {
    let (image, origin) = try screenshot(args)
    let clock = ContinuousClock()
    let t0 = clock.now
    let grounder = try ocrGrounder(args, mode: mode)
    let loadSeconds = (clock.now - t0).seconds
    let r = try grounder.ground(image: image, instruction: instruction, origin: origin)
    if let out = args.string("annotate") {
      try PNG.write(image.annotated(point: r.point, box: r.box, origin: origin), to: out)
    }
    var timings = r.timings
    timings["load"] = loadSeconds
    if args.json {
      var fields = resultJSON(r, timings: timings)
      fields["grounder"] = mode.rawValue
      fields["ocr"] = grounder.parser.name
      if let m = grounder.model { fields.merge(setupJSON(m.setup)) { a, _ in a }; fields["model"] = m.pipeline.model.path }
      try Output.json(fields)
    } else {
      Output.out("method: \(r.method.rawValue)" + (r.answer.isEmpty ? "" : ", \(r.answer)"))
      if let p = r.point {
        Output.out("point: \(p.x) \(p.y)" + (r.box.map { " box: \($0)" } ?? ""))
      } else {
        Output.out("no point: \(r.noCoordinate?.description ?? "no coordinate")")
      }
      if let out = args.string("annotate") { Output.out("wrote \(out)") }
    }
    switch r.noCoordinate {
    case .noTextMatch?, .belowMinimumScore?:
      Output.err("gui-agent: \(r.noCoordinate?.description ?? "not found")")
      return .notFound
    default: return .success
    }
  }
}

// MARK: - In the agent loop

extension Commands {
  static let agentTextOptions: [OptionSpec] = [
    .flag("no-elements", "Mode 2 (--planner, --planner-url): do not show the planner the screen's text elements read by OCR."),
  ]

  /// The parser whose numbered element list a text planner is shown: OCR lines, unless --no-elements.
  static func elementParser(_ args: ParsedArguments) throws -> (any ScreenParser)? {
    guard !args.flag("no-elements") else { return nil }
    return try ocrParser(args, level: .lines)
  }

  /// The element locator of `--grounder ocr|hybrid` (hybrid grounds with `vlm`); nil for the model.
  static func textLocator(_ args: ParsedArguments, vlm: LoadedModel?, grounding: GroundingOptions) throws -> TextLocator? {
    let mode = try grounderMode(args, ocrElsewhere: true)
    guard mode != .model else { return nil }
    var model: Grounder? = nil
    if mode == .hybrid {
      guard let vlm else { throw UsageError("--grounder hybrid needs a grounding model (--model)") }
      model = try Grounder(model: vlm, options: grounding)
    }
    return TextLocator(grounder: OCRGrounder(parser: try ocrParser(args), model: model))
  }
}
