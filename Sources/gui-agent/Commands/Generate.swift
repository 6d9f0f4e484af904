import Engine
import Foundation
import Grounding
import Imaging

/// `gui-agent generate`: text (and images) in, text out, with thinking mode.
extension Commands {
  static let modelOptions: [OptionSpec] = [
    .value("model", "PATH", "A checkpoint folder (bluelm_vl, qwen2_vl, qwen2_5_vl, qwen3_vl; docs/models.md), a model file (.gguf), or a folder holding a GGUF pair; default: the embedded bluelm-vl-nano."),
    .value("threads", "N", "Compute threads (default: all cores)."),
  ] + pairOptions
  /// A GGUF pair's vision file and the Qwen-VL processor's pixel budget.
  static let pairOptions: [OptionSpec] = [
    .value("mmproj", "FILE", "The vision part (mmproj GGUF) of a Qwen-VL or bluelm_vl language-model GGUF given with --model."),
    .value("min-pixels", "N", "Qwen-VL: the smallest image area the processor resizes to (default: the checkpoint's preprocessor_config.json; for a GGUF pair, the family's published value)."),
    .value("max-pixels", "N", "Qwen-VL: the largest image area (same defaults as --min-pixels)."),
    .flag("float-decode", "GGUF: decode and prefill with float32 activations, not rounded to int8 blocks as llama.cpp does (slower; free of that rounding)."),
    .value("kv-cache", "f16|f32", "How generation's KV cache stores keys and values (default f16, as llama.cpp; f32 is exact and twice the bytes)."),
  ]

  static func loadOptions(_ args: ParsedArguments) throws -> LoadOptions {
    LoadOptions(mmproj: args.string("mmproj"), minPixels: try args.int("min-pixels", range: 1...(1 << 28)),
                maxPixels: try args.int("max-pixels", range: 1...(1 << 28)), floatDecode: args.flag("float-decode"),
                kvCache: try args.kvCachePrecision())
  }
  static let thinkingOptions: [OptionSpec] = [
    .flag("think", "Open the reasoning block (thinking mode)."),
    .flag("no-think", "Close an empty reasoning block: a direct answer."),
    .value("think-budget", "N", "At most N reasoning tokens, then the closing marker (implies --think)."),
  ]

  static let generate = Command(
    name: "generate",
    abstract: "Generate text from a prompt (and images) with a loaded model.",
    discussion: """
      The family's chat template wraps the prompt unless --raw is given; with --raw the prompt is
      taken as it is, and <|image_pad|> marks where each image goes. Without --temperature the
      choice is greedy. --logits-out writes the logits of the last prompt position as
      little-endian float32, vocabulary long.
      """,
    options: modelOptions + thinkingOptions + [
      .value("prompt", short: "p", "TEXT", "The prompt (required)."),
      .value("image", "PNG", "An image for the prompt (repeatable, in order).", repeatable: true),
      .flag("raw", "No chat template: the prompt as it is."),
      .value("max-tokens", "N", "Most tokens to generate (default 256)."),
      .value("temperature", "T", "Sampling temperature (default 0: greedy)."),
      .value("top-k", "K", "Keep the K most likely tokens (0: all)."),
      .value("top-p", "P", "Nucleus sampling: keep the smallest set with mass >= P."),
      .value("min-p", "P", "Drop tokens below P times the top probability."),
      .value("repetition-penalty", "R", "Penalty on tokens already in the context (1: none)."),
      .value("seed", "S", "Random seed for sampling (default 0)."),
      .value("stop", "TEXT", "Stop when the output contains TEXT (repeatable).", repeatable: true),
      .value("logits-out", "FILE", "Write the last prompt position's logits (float32 LE)."),
    ],
    run: { args in
      guard let prompt = args.string("prompt") else { throw UsageError("missing --prompt TEXT") }
      let thinking = try thinkingMode(args)
      let sampling = try samplingParameters(args)
      let maxTokens = try args.int("max-tokens", range: 1...1_000_000) ?? 256
      let clock = ContinuousClock()
      let t0 = clock.now
      let model = try loadModel(args)
      let loadSeconds = (clock.now - t0).seconds
      let images = try args.strings("image").map { try PNG.read(path: $0) }
      let pipeline = try VisionLanguagePipeline(model: model)
      let prepared = try pipeline.prepare(prompt: prompt, images: images, raw: args.flag("raw"), thinking: thinking)
      let streaming = !args.json && Output.stdoutIsTerminal
      let completion = try model.complete(
        promptIds: prepared.ids, imageEmbeddings: prepared.imageEmbeddings, imageGrids: prepared.imageGrids, maxTokens: maxTokens,
        sampling: sampling, stopStrings: args.strings("stop"), thinking: thinking,
        onText: { piece in
          if streaming { Output.write(Data(piece.utf8)) }
          return true
        })
      if let path = args.string("logits-out") {
        try writeFloats(completion.promptLogits, to: path)
      }
      let timings: [String: Double] = [
        "load": loadSeconds, "preprocess": prepared.preprocessSeconds, "vision": prepared.visionSeconds,
        "prefill": completion.prefillSeconds, "decode": completion.decodeSeconds,
      ]
      if args.json {
        try Output.json([
          "model": model.path, "mmproj": model.mmprojPath.map { $0 as Any } ?? NSNull(), "family": model.family,
          "prompt_ids": prepared.ids, "ids": completion.ids, "text": completion.text,
          "finish_reason": completion.finishReasonName,
          "reasoning": completion.reasoning, "answer": completion.answer,
          "reasoning_tokens": completion.reasoningTokens, "answer_tokens": completion.answerTokens,
          "timings": timings,
        ])
      } else {
        if streaming {
          Output.out("")
        } else if thinking.startsInReasoning {
          Output.out("reasoning: \(completion.reasoning)\nanswer: \(completion.answer)")
        } else {
          Output.out(completion.text)
        }
        let tps = completion.decodeSeconds > 0 ? Double(completion.ids.count) / completion.decodeSeconds : 0
        Output.log(String(format: "%d prompt tokens, %d generated (%@), prefill %.2fs, decode %.2fs (%.1f tok/s)",
                          prepared.ids.count, completion.ids.count, completion.finishReasonName,
                          completion.prefillSeconds, completion.decodeSeconds, tps))
      }
      return .success
    })

  // MARK: - Shared helpers of model commands

  static func loadModel(_ args: ParsedArguments) throws -> LoadedModel {
    let path = try DefaultModel.resolve(args.string("model"))
    let threads = try args.int("threads", range: 1...256) ?? ProcessInfo.processInfo.activeProcessorCount
    var options = try loadOptions(args)
    // Counted in tensors: the loader reports each one it has read and built.
    let bar = ProgressBar(total: 1, label: "loading \((path as NSString).lastPathComponent)", unit: "tensor")
    options.progress = { read, total in bar.update(read, of: total) }
    let model: LoadedModel
    do { model = try ModelLoader.load(path: path, options: options, threads: threads) } catch {
      bar.clear()
      throw error
    }
    bar.finish()
    for note in model.notes { Output.log(note) }
    return model
  }

  static func thinkingMode(_ args: ParsedArguments) throws -> ThinkingMode {
    let budget = try args.int("think-budget", range: 0...1_000_000)
    if args.flag("no-think") {
      if args.flag("think") || budget != nil { throw UsageError("--no-think excludes --think and --think-budget") }
      return .noThink
    }
    if args.flag("think") || budget != nil { return .think(budget: budget) }
    return .default
  }

  static func samplingParameters(_ args: ParsedArguments) throws -> SamplingParameters {
    let s = SamplingParameters(
      temperature: Float(try args.double("temperature", range: 0...100) ?? 0),
      topK: try args.int("top-k", range: 0...1_000_000) ?? 0,
      topP: Float(try args.double("top-p", range: 0...1) ?? 1),
      minP: Float(try args.double("min-p", range: 0...1) ?? 0),
      repetitionPenalty: Float(try args.double("repetition-penalty", range: 0.01...100) ?? 1),
      seed: UInt64(try args.int("seed", range: 0...Int.max) ?? 0))
    try s.validate()
    return s
  }

  static func writeFloats(_ values: [Float], to path: String) throws {
    var data = Data(capacity: values.count * 4)
    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
    try data.write(to: URL(fileURLWithPath: path), options: .atomic)
  }
}
