import Engine
import Foundation
import Grounding
import Imaging
import ScreenCapture

/// `gui-agent ground`: instruction + screenshot -> screen point.
extension Commands {
  static let ground = Command(
    name: "ground",
    abstract: "Find the screen point an instruction names (\"the Save button\").",
    discussion: """
      The screenshot comes from --image or from the live screen (--capture, optionally one
      monitor, whose offset is added so the point is a screen pixel). --annotate writes the
      screenshot with the point and box drawn. Exit status 0 also when the answer holds no
      coordinate (x and y are then null, and the reason is printed).

      --grounder ocr finds the instruction's text on the screen with Tesseract (no model is
      loaded): the label is taken out of the instruction ("click the Save button" -> "Save") and
      matched against runs of words on a line, allowing a few misread characters; no match is
      "not found", exit status 3. --grounder hybrid lets the model choose when several texts
      match, and ground alone when none does (icons, descriptions). docs/screen-parsing.md.

      A model whose checkpoint has a pointer head grounds with it (one prefill, no decoding;
      "method": "pointer" in --json, "text" otherwise) and gives a score, the best region's
      share of the head's attention (0 to 1). With --min-score S, a best region scoring below S
      means "not found": exit status 3, a message on standard error, "found": false in --json.
      --json: point [x, y] and box {x, y, w, h} in screen pixels (the image's own pixels with
      --image), score (pointer only, else null), found, method; x and y as before; convention,
      prompt_template, known_model and chosen_by: how the answer was read.

      A downloaded GUI model folder is recognised by its names (folder, model card, config.json)
      as a row of 'gui-agent models', which gives its coordinate convention and the prompt it was
      trained with; --model-name, --convention and --prompt-template override that choice
      (docs/models.md). The line on standard error says what was chosen.
      """,
    options: modelOptions + thinkingOptions + [
      .value("image", "PNG", "The screenshot."),
      .flag("capture", "Capture the screen now instead of --image."),
      .value("monitor", "N|NAME", "With --capture: one monitor."),
      .value("annotate", "OUT.png", "Write the screenshot with the answer drawn on it."),
      .value("max-tokens", "N", "Most answer tokens (default: the prompt's own, else 48; a thinking budget adds to it)."),
    ] + groundingOptionSpecs + [
      minScoreOption,
      displayOption,
    ] + grounderOptionSpecs,
    positionals: [PositionalSpec(name: "INSTRUCTION", help: "What to find, e.g. \"the Save button\".")],
    run: { args in
      let instruction = args.positionals[0]
      let mode = try grounderMode(args)
      if mode != .model { return try groundOnText(args, mode: mode, instruction: instruction) }
      let thinking = try thinkingMode(args)
      let givenMaxTokens = try args.int("max-tokens", range: 1...100_000)
      let options = try groundingOptions(args)
      let (image, origin) = try screenshot(args)
      let clock = ContinuousClock()
      let t0 = clock.now
      let model = try loadModel(args)
      let loadSeconds = (clock.now - t0).seconds
      var grounder = try Grounder(model: model, options: options)
      logSetup(grounder.setup)
      try applyMinimumScore(args, to: &grounder)
      let maxTokens = givenMaxTokens ?? grounder.setup.template.maxTokens ?? 48
      let r = try grounder.ground(image: image, instruction: instruction, origin: origin,
                                  thinking: thinking, maxTokens: maxTokens)
      if let out = args.string("annotate") {
        try PNG.write(image.annotated(point: r.point, box: r.box, origin: origin), to: out)
      }
      var timings = r.timings
      timings["load"] = loadSeconds
      if args.json {
        try Output.json(setupJSON(grounder.setup).merging(resultJSON(r, timings: timings).merging([
          "grid": r.grid.map { [$0.rows, $0.cols] as Any } ?? NSNull(),
          "model": model.path, "mmproj": model.mmprojPath.map { $0 as Any } ?? NSNull(),
        ]) { _, new in new }) { _, new in new })
      } else {
        if !r.reasoning.isEmpty { Output.out("reasoning: \(r.reasoning)") }
        if r.method == .pointer {
          Output.out("method: pointer" + (r.score.map { String(format: ", score %.4f", $0) } ?? ""))
        } else {
          Output.out("answer: \(r.answer)")
        }
        if let p = r.point {
          Output.out("point: \(p.x) \(p.y)" + (r.box.map { " box: \($0)" } ?? ""))
        } else if case .belowMinimumScore = r.noCoordinate {
          // Said on standard error below.
        } else {
          Output.out("no point: \(r.noCoordinate?.description ?? "no coordinate")")
        }
        if let out = args.string("annotate") { Output.out("wrote \(out)") }
      }
      if case .belowMinimumScore = r.noCoordinate {
        Output.err("gui-agent: \(r.noCoordinate?.description ?? "not found")")
        return .notFound
      }
      return .success
    })

  /// A grounding result's fields for `--json` (ground, with a model or on screen text).
  static func resultJSON(_ r: GroundingResult, timings: [String: Double]) -> [String: Any] {
    let box: Any = r.box.map { ["x": $0.x, "y": $0.y, "w": $0.width, "h": $0.height] } ?? NSNull()
    return [
      "x": r.point.map { $0.x as Any } ?? NSNull(), "y": r.point.map { $0.y as Any } ?? NSNull(),
      "point": r.point.map { [$0.x, $0.y] as Any } ?? NSNull(), "box": box,
      "score": r.score.map { $0 as Any } ?? NSNull(), "found": r.found, "method": r.method.rawValue,
      "answer": r.answer, "reasoning": r.reasoning,
      "no_coordinate": r.noCoordinate.map { $0.description as Any } ?? NSNull(), "timings": timings,
    ]
  }

  /// `--min-score S` (ground, eval screenspot): with a pointer model, a best region scoring below S is "not found".
  static let minScoreOption = OptionSpec.value(
    "min-score", "S", "Pointer-head models: answer \"not found\" when the best region scores below S (0...1, default 0).")

  /// Sets the grounder's minimum score from --min-score; a text-answer model has no score, so
  /// there the option is ignored with a note on standard error.
  static func applyMinimumScore(_ args: ParsedArguments, to grounder: inout Grounder) throws {
    guard let minimum = try args.double("min-score", range: 0...1) else { return }
    if grounder.method == .text, minimum > 0 {
      Output.log("--min-score: this model answers in text, without a score; the option has no effect")
    }
    grounder.minimumScore = minimum
  }

  /// The screenshot of `--image` or `--capture [--monitor]`, and its top-left on the screen.
  static func screenshot(_ args: ParsedArguments) throws -> (RGBImage, ScreenPoint) {
    switch (args.string("image"), args.flag("capture")) {
    case let (path?, false):
      if args.string("monitor") != nil { throw UsageError("--monitor goes with --capture") }
      return (try PNG.read(path: path), .zero)
    case (nil, true):
      let x = try X11Display(display: args.string("display"))
      let target = try captureTarget(args)
      let rect = try x.rect(of: target)
      return (try x.capture(target), ScreenPoint(x: rect.x, y: rect.y))
    case (_?, true): throw UsageError("give --image or --capture, not both")
    case (nil, false): throw UsageError("missing --image PNG or --capture")
    }
  }
}
