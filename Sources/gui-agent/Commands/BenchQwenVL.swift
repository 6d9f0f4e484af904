import Engine
import Foundation
import Imaging

/// `gui-agent bench qwen-vl`: time to first token of a Qwen-VL folder on one screenshot, decode
/// rate and peak memory, optionally beside transformers (scripts/bench/qwen_vl_transformers.py).
/// Resizing (Imaging) is timed here; the tower, prefill and decode in `QwenVLBenchmark`.
extension Commands {
  static let benchQwenVL = Command(
    name: "qwen-vl",
    abstract: "Time to first token on a screenshot, decode rate and peak memory of a Qwen-VL folder, optionally beside an anchor.",
    discussion: """
      One pass: the image resized by smart_resize (bicubic), cut into patches, through the vision
      tower, the whole prompt (image tokens and a short grounding instruction in the family's chat
      template) prefilled: that is the time to first token. Then greedy decode steps (1 / the median
      step). Peak memory is the process's peak resident set (getrusage ru_maxrss), load included.
      A folder cut in depth (scripts/bench/make_qwen_vl_bench_model.py) is also estimated at full
      depth: each kind of vision block (windowed, full attention) at its mean times its count there,
      decoder layers times full/used, the rest once; the full depths come from the folder's
      bench_model.json, else the family's published model, unless given.
      The anchor is any command printing one JSON object (see scripts/bench/qwen_vl_transformers.py
      for its fields); it gets BENCH_MODEL, BENCH_THREADS, BENCH_IMAGE, BENCH_DECODE_TOKENS and
      BENCH_INSTRUCTION. Both sides must see the same number of image tokens, or the run fails.
      """,
    options: [
      .value("model", "DIR", "The Qwen2-VL / Qwen2.5-VL / Qwen3-VL folder (required)."),
      .value("image", "PNG", "The screenshot (default: a synthetic 1920x1080 desktop)."),
      .value("instruction", "TEXT", "The grounding instruction (default: \"\(defaultInstruction)\")."),
      .value("threads", "N", "Compute threads (default 2)."),
      .value("decode-tokens", "N", "Decode steps (default 16)."),
      .value("full-vision-layers", "N", "Vision depth to estimate for (default: bench_model.json or the family's)."),
      .value("full-text-layers", "N", "Decoder depth to estimate for (default: bench_model.json or the family's)."),
      .value("anchor-cmd", "COMMAND", "Shell command of the anchor, run once after our pass."),
    ],
    run: { args in
      guard let path = args.string("model") else { throw UsageError("missing --model DIR") }
      let threads = try args.int("threads", range: 1...256) ?? 2
      let decode = try args.int("decode-tokens", range: 1...4096) ?? 16
      let instruction = args.string("instruction") ?? defaultInstruction
      let image = try args.string("image").map { try PNG.read(path: $0) } ?? syntheticScreenshot()

      var start = DispatchTime.now().uptimeNanoseconds
      let model = try ModelLoader.load(path: path, threads: threads)
      let load = secondsSince(start)
      guard let vision = model.vision, case let .nativeResolution(resize) = vision.layout,
            let network = model.network as? QwenVLModel else {
        throw BenchError("\(path) is a \(model.family) model; bench qwen-vl takes a qwen2_vl, qwen2_5_vl or qwen3_vl folder")
      }
      let full = try fullDepth(args, folder: path, config: network.config)

      // Resize and tokenize: the preprocessing the engine cannot do (it knows no image type).
      start = DispatchTime.now().uptimeNanoseconds
      let target = try resize.targetSize(height: image.height, width: image.width)
      let resized = try image.resized(width: target.width, height: target.height, filter: .bicubic)
      let tokens = [vision.tokenIds.imageStart, vision.tokenIds.imagePad, vision.tokenIds.imageEnd]
      let placeholder = tokens.compactMap { model.tokenizer.token(for: $0) }.joined()
      let promptIds = model.promptIds(placeholder + instruction)
      let resizeSeconds = secondsSince(start)

      let r = try QwenVLBenchmark.run(model: model, rgb: resized.pixels, width: resized.width, height: resized.height,
                                      promptIds: promptIds, preprocessSeconds: resizeSeconds, decodeTokens: decode)
      let peak = peakResidentMiB()
      let ours = r.timings, oursFull = ours.fullDepth(full)
      var result: [String: Any] = [
        "benchmark": "qwen-vl", "model": path, "family": r.family, "threads": threads,
        "image": ["width": image.width, "height": image.height, "resized_width": resized.width,
                  "resized_height": resized.height, "grid": [r.grid.t, r.grid.h, r.grid.w],
                  "source": args.string("image") ?? "synthetic"],
        "instruction": instruction, "image_tokens": r.imageTokens, "prompt_tokens": r.promptTokens,
        "vision_layers": r.visionLayers, "text_layers": ours.textLayers, "full_vision_layers": full.visionLayers,
        "full_text_layers": full.textLayers, "full_vision_full_attention_layers": full.visionFullAttentionLayers,
        "decode_tokens": decode, "load_seconds": load, "peak_rss_mib": peak, "peak_rss_scope": "process",
        "lm_head_seconds": r.headSeconds, "measured": timingsJSON(ours, blocks: true), "full_depth": timingsJSON(oursFull),
      ]
      if let reference = benchRecord(path)?["reference"] as? String { result["reference"] = reference }
      var anchorLines: [String] = []
      if let cmd = args.string("anchor-cmd") {
        let a = try qwenVLAnchor(cmd, model: path, threads: threads, decode: decode, instruction: instruction,
                                 image: args.string("image"), screenshot: image)
        guard a.imageTokens == r.imageTokens else {
          throw BenchError("the anchor saw \(a.imageTokens) image tokens and we saw \(r.imageTokens): the two sides did not get the same image at the same pixel budget, so their times do not compare")
        }
        if a.promptTokens != r.promptTokens {
          let w = "prompt lengths differ: ours \(r.promptTokens), anchor \(a.promptTokens) tokens (same image tokens)"
          Output.log("warning: " + w)
          result["warnings"] = [w]
        }
        let aFull = a.timings.fullDepth(full)
        var anchor = a.raw
        anchor["measured"] = timingsJSON(a.timings)
        anchor["full_depth"] = timingsJSON(aFull)
        result["anchor"] = anchor
        result["speed_over_anchor"] = ["measured": speedups(ours, a.timings), "full_depth": speedups(oursFull, aFull)]
        if let mib = a.peakMiB { result["peak_rss_over_anchor"] = peak / mib }
        let about = ["anchor", "transformers", "torch", "dtype", "attn_implementation"].compactMap { a.raw[$0].map { "\($0)" } }
        anchorLines = ["anchor: " + about.joined(separator: ", ")]
          + qwenVLTable(("anchor", a.timings), ("anchor, full depth", aFull))
          + [String(format: "anchor peak RSS (process) %.0f MiB; ours/anchor %.2fx", a.peakMiB ?? .nan, peak / (a.peakMiB ?? .nan))]
          + [String(format: "ours/anchor speed: TTFT %.2fx (full depth %.2fx), decode %.2fx (full depth %.2fx)",
                    a.timings.ttftSeconds / ours.ttftSeconds, aFull.ttftSeconds / oursFull.ttftSeconds,
                    ours.decodeTokensPerSecond / a.timings.decodeTokensPerSecond,
                    oursFull.decodeTokensPerSecond / aFull.decodeTokensPerSecond)]
      }
      if args.json {
        try Output.json(result)
      } else {
        Output.out("""
          qwen-vl benchmark: \(r.family) \(path), threads \(threads)
          vision \(r.visionLayers)/\(full.visionLayers) layers, decoder \(ours.textLayers)/\(full.textLayers) layers
          image \(image.width)x\(image.height) -> \(resized.width)x\(resized.height), grid \(r.grid.t)x\(r.grid.h)x\(r.grid.w), \
          \(r.imageTokens) image tokens, prompt \(r.promptTokens) tokens
          """ + String(format: "\nload %.2f s; peak RSS (process) %.0f MiB", load, peak))
        for line in qwenVLTable(("ours", ours), ("ours, full depth", oursFull)) + anchorLines { Output.out(line) }
      }
      return .success
    })

  static let defaultInstruction = "Click the Save button."

  /// Rows of seconds (and decode rate) for each named pass.
  static func qwenVLTable(_ rows: (String, QwenVLBenchmark.Timings)...) -> [String] {
    rows.map { name, t in
      name.padding(toLength: 19, withPad: " ", startingAt: 0)
        + String(format: " preprocess %6.2f s  vision %8.2f s  prefill %8.2f s  TTFT %8.2f s  decode %7.2f tokens/s",
                 t.preprocessSeconds, t.visionSeconds, t.prefillSeconds, t.ttftSeconds, t.decodeTokensPerSecond)
    }
  }

  /// The pass as JSON; the blocks as counts and sums (the measured lists are in the anchor's own
  /// report and in `measured`'s lists when `blocks`).
  static func timingsJSON(_ t: QwenVLBenchmark.Timings, blocks: Bool = false) -> [String: Any] {
    var o: [String: Any] = [
      "preprocess_seconds": t.preprocessSeconds, "vision_seconds": t.visionSeconds, "prefill_seconds": t.prefillSeconds,
      "ttft_seconds": t.ttftSeconds, "decode_step_seconds": t.decodeStepSeconds,
      "decode_tokens_per_s": t.decodeTokensPerSecond, "prefill_layer_seconds": t.prefillLayerSeconds,
      "decode_layer_seconds": t.decodeLayerSeconds, "text_layers": t.textLayers,
      "vision_window_blocks": t.windowBlockSeconds.count, "vision_full_attention_blocks": t.fullBlockSeconds.count,
      "vision_window_blocks_seconds": t.windowBlockSeconds.reduce(0, +),
      "vision_full_attention_blocks_seconds": t.fullBlockSeconds.reduce(0, +),
    ]
    if blocks {
      o["vision_window_block_seconds"] = t.windowBlockSeconds
      o["vision_full_block_seconds"] = t.fullBlockSeconds
    }
    return o
  }

  /// Ours over the anchor as speed (> 1: ours is faster): anchor time / our time, our rate / its rate.
  static func speedups(_ ours: QwenVLBenchmark.Timings, _ anchor: QwenVLBenchmark.Timings) -> [String: Double] {
    ["preprocess": anchor.preprocessSeconds / ours.preprocessSeconds, "vision": anchor.visionSeconds / ours.visionSeconds,
     "prefill": anchor.prefillSeconds / ours.prefillSeconds, "ttft": anchor.ttftSeconds / ours.ttftSeconds,
     "decode": ours.decodeTokensPerSecond / anchor.decodeTokensPerSecond]
  }

  /// The depth to scale to: the options, else the folder's bench_model.json, else the family's
  /// published model (Qwen2-VL-2B, Qwen2.5-VL-3B, Qwen3-VL-2B-Instruct config.json).
  static func fullDepth(_ args: ParsedArguments, folder: String, config: QwenVLConfig) throws -> QwenVLBenchmark.FullDepth {
    let record = benchRecord(folder)
    let published: [String: (Int, Int)] = ["qwen2_vl": (32, 28), "qwen2_5_vl": (32, 36), "qwen3_vl": (24, 28)]
    let family = published[config.family.rawValue] ?? (config.vision.depth, config.text.numHiddenLayers)
    let vision = try args.int("full-vision-layers", range: 1...1024) ?? (record?["full_vision_layers"] as? Int) ?? family.0
    let text = try args.int("full-text-layers", range: 1...1024) ?? (record?["full_text_layers"] as? Int) ?? family.1
    guard vision >= config.vision.depth, text >= config.text.numHiddenLayers else {
      throw UsageError("full depth \(vision) vision / \(text) text layers is below the folder's \(config.vision.depth) / \(config.text.numHiddenLayers)")
    }
    // Qwen2.5-VL attends over the whole image in every 8th block (7, 15, 23, 31 of 32); the
    // others in every block.
    let fullAttention = config.family == .qwen2_5VL ? (0..<vision).count { ($0 + 1) % 8 == 0 } : vision
    return QwenVLBenchmark.FullDepth(visionLayers: vision, textLayers: text, visionFullAttentionLayers: fullAttention)
  }

  /// bench_model.json of a folder made by scripts/bench/make_qwen_vl_bench_model.py, if any.
  static func benchRecord(_ folder: String) -> [String: Any]? {
    let url = URL(fileURLWithPath: folder).appendingPathComponent("bench_model.json")
    guard let data = try? Data(contentsOf: url) else { return nil }
    return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
  }

  /// The process's peak resident set so far, MiB (Linux reports ru_maxrss in KiB).
  static func peakResidentMiB() -> Double {
    var usage = rusage()
    guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return .nan }
    return Double(usage.ru_maxrss) / 1024
  }

  static func secondsSince(_ start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
}
