import Engine
import Foundation
import Imaging

/// `gui-agent bench qwen-vl`: time to first token of a Qwen-VL folder or GGUF pair on one
/// screenshot, decode rate and peak memory, optionally beside an anchor (transformers:
/// scripts/bench/qwen_vl_transformers.py; llama.cpp's mtmd: scripts/bench/qwen_vl_mtmd.py).
/// Resizing (Imaging) is timed here; the tower, prefill and decode in `QwenVLBenchmark`.
extension Commands {
  static let benchQwenVL = Command(
    name: "qwen-vl",
    abstract: "Time to first token on a screenshot, decode rate and peak memory of a Qwen-VL folder or GGUF pair, optionally beside an anchor.",
    discussion: """
      One pass: the image resized by smart_resize (bicubic), cut into patches, through the vision
      tower, the whole prompt (image tokens and a short grounding instruction in the family's chat
      template) prefilled: that is the time to first token. Then greedy decode steps (1 / the median
      step). Peak memory is the process's peak resident set (getrusage ru_maxrss), load included.
      A folder cut in depth (scripts/bench/make_qwen_vl_bench_model.py) is also estimated at full
      depth: each kind of vision block (windowed, full attention) at its mean times its count there,
      decoder layers times full/used, the rest once; the full depths come from the folder's
      bench_model.json (for a GGUF pair: the one beside the language-model file), else the
      family's published model, unless given.
      A GGUF pair is --model LM.gguf --mmproj MMPROJ.gguf; it stores no pixel budget, so the
      family's published one applies unless --min-pixels/--max-pixels are given. The report names
      the format and, for a pair, the tensor types of both files.
      The anchor is any command printing one JSON object (see scripts/bench/qwen_vl_transformers.py
      for its fields; the per-block and per-layer lists are optional, and an anchor without them
      gets no full-depth estimate); it gets BENCH_MODEL, BENCH_MMPROJ (a pair's), BENCH_THREADS,
      BENCH_IMAGE, BENCH_DECODE_TOKENS, BENCH_INSTRUCTION and BENCH_PROMPT (our rendered prompt,
      the image as <|vision_start|><|image_pad|><|vision_end|>). Both sides must see the same
      number of image tokens, or the run fails.
      --logits-out writes the logits after the whole prompt (float32 LE, vocabulary long), and
      --save-image the resized image the tower saw (PNG), for feeding the same pixels to another run.
      """,
    options: [
      .value("model", "PATH", "The Qwen2-VL / Qwen2.5-VL / Qwen3-VL folder, or a pair's language-model GGUF (required)."),
      .value("image", "PNG", "The screenshot (default: a synthetic 1920x1080 desktop)."),
      .value("instruction", "TEXT", "The grounding instruction (default: \"\(defaultInstruction)\")."),
      .value("threads", "N", "Compute threads (default 2)."),
      .value("decode-tokens", "N", "Decode steps (default 16)."),
      .value("full-vision-layers", "N", "Vision depth to estimate for (default: bench_model.json or the family's)."),
      .value("full-text-layers", "N", "Decoder depth to estimate for (default: bench_model.json or the family's)."),
      .value("anchor-cmd", "COMMAND", "Shell command of the anchor, run once after our pass."),
      .value("logits-out", "FILE", "Write the logits after the prompt (float32 LE)."),
      .value("save-image", "PNG", "Write the resized image that went through the tower."),
    ] + pairOptions,
    run: { args in
      guard let path = args.string("model") else { throw UsageError("missing --model PATH (a Qwen-VL folder or a pair's language-model GGUF)") }
      let threads = try args.int("threads", range: 1...256) ?? 2
      let decode = try args.int("decode-tokens", range: 1...4096) ?? 16
      let instruction = args.string("instruction") ?? defaultInstruction
      let image = try args.string("image").map { try PNG.read(path: $0) } ?? syntheticScreenshot()

      var start = DispatchTime.now().uptimeNanoseconds
      let model = try ModelLoader.load(path: path, options: try loadOptions(args), threads: threads)
      let load = secondsSince(start)
      for note in model.notes { Output.log(note) }
      guard let vision = model.vision, case let .nativeResolution(resize) = vision.layout,
            let network = model.network as? QwenVLModel else {
        throw BenchError("\(path) is a \(model.family) model; bench qwen-vl takes a qwen2_vl, qwen2_5_vl or qwen3_vl folder or GGUF pair")
      }
      let recordFolder = model.mmprojPath == nil ? path : URL(fileURLWithPath: model.path).deletingLastPathComponent().path
      let full = try fullDepth(args, folder: recordFolder, config: network.config)

      // Resize and tokenize: the preprocessing the engine cannot do (it knows no image type).
      start = DispatchTime.now().uptimeNanoseconds
      let target = try resize.targetSize(height: image.height, width: image.width)
      let resized = try image.resized(width: target.width, height: target.height, filter: .bicubic)
      let tokens = [vision.tokenIds.imageStart, vision.tokenIds.imagePad, vision.tokenIds.imageEnd]
      let placeholder = tokens.compactMap { model.tokenizer.token(for: $0) }.joined()
      let promptIds = model.promptIds(placeholder + instruction)
      let resizeSeconds = secondsSince(start)
      if let out = args.string("save-image") { try PNG.write(resized, to: out) }

      let r = try QwenVLBenchmark.run(model: model, rgb: resized.pixels, width: resized.width, height: resized.height,
                                      promptIds: promptIds, preprocessSeconds: resizeSeconds, decodeTokens: decode)
      let peak = peakResidentMiB()
      if let out = args.string("logits-out") { try writeFloats(r.promptLogits, to: out) }
      let ours = r.timings, oursFull = ours.fullDepth(full)
      var result: [String: Any] = [
        "benchmark": "qwen-vl", "model": path, "family": r.family, "threads": threads,
        "format": model.mmprojPath == nil ? "folder" : "gguf pair", "pixel_budget": [resize.minPixels, resize.maxPixels],
        "image": ["width": image.width, "height": image.height, "resized_width": resized.width,
                  "resized_height": resized.height, "grid": [r.grid.t, r.grid.h, r.grid.w],
                  "source": args.string("image") ?? "synthetic"],
        "instruction": instruction, "image_tokens": r.imageTokens, "prompt_tokens": r.promptTokens,
        "vision_layers": r.visionLayers, "text_layers": ours.textLayers, "full_vision_layers": full.visionLayers,
        "full_text_layers": full.textLayers, "full_vision_full_attention_layers": full.visionFullAttentionLayers,
        "decode_tokens": decode, "load_seconds": load, "peak_rss_mib": peak, "peak_rss_scope": "process",
        "lm_head_seconds": r.headSeconds, "measured": timingsJSON(ours, blocks: true), "full_depth": timingsJSON(oursFull),
        "prompt_ids": promptIds, "greedy_ids": r.greedyIds,
      ]
      if let mmproj = model.mmprojPath {
        result["mmproj"] = mmproj
        result["lm_tensor_types"] = try tensorTypes(model.path)
        result["mmproj_tensor_types"] = try tensorTypes(mmproj)
      }
      if let reference = benchRecord(recordFolder)?["reference"] as? String { result["reference"] = reference }
      var anchorLines: [String] = []
      if let cmd = args.string("anchor-cmd") {
        let prompt = model.template.render(placeholder + instruction, markers: model.thinkingMarkers)
        let a = try qwenVLAnchor(cmd, model: path, mmproj: model.mmprojPath, threads: threads, decode: decode,
                                 instruction: instruction, prompt: prompt, image: args.string("image"), screenshot: image)
        guard a.imageTokens == r.imageTokens else {
          throw BenchError("the anchor saw \(a.imageTokens) image tokens and we saw \(r.imageTokens): the two sides did not get the same image at the same pixel budget, so their times do not compare")
        }
        if a.promptTokens != r.promptTokens {
          let w = "prompt lengths differ: ours \(r.promptTokens), anchor \(a.promptTokens) tokens (same image tokens)"
          Output.log("warning: " + w)
          result["warnings"] = [w]
        }
        // An anchor that cannot time blocks and layers (llama.cpp) is compared as measured only.
        let aFull = a.hasLayerTimings ? a.timings.fullDepth(full) : nil
        var anchor = a.raw
        anchor["measured"] = timingsJSON(a.timings)
        if let aFull { anchor["full_depth"] = timingsJSON(aFull) }
        result["anchor"] = anchor
        var speed: [String: Any] = ["measured": speedups(ours, a.timings)]
        if let aFull { speed["full_depth"] = speedups(oursFull, aFull) }
        result["speed_over_anchor"] = speed
        if let mib = a.peakMiB { result["peak_rss_over_anchor"] = peak / mib }
        if let loadSeconds = (a.raw["load_seconds"] as? NSNumber)?.doubleValue, loadSeconds > 0 {
          result["load_speed_over_anchor"] = loadSeconds / load
        }
        let keys = ["anchor", "transformers", "torch", "dtype", "attn_implementation", "llama_cpp_python", "llama_cpp_commit"]
        let about = keys.compactMap { a.raw[$0].map { "\($0)" } }
        var rows = [("anchor", a.timings)]
        if let aFull { rows.append(("anchor, full depth", aFull)) }
        var speedLine = String(format: "ours/anchor speed: TTFT %.2fx", a.timings.ttftSeconds / ours.ttftSeconds)
        if let aFull { speedLine += String(format: " (full depth %.2fx)", aFull.ttftSeconds / oursFull.ttftSeconds) }
        speedLine += String(format: ", decode %.2fx", ours.decodeTokensPerSecond / a.timings.decodeTokensPerSecond)
        if let aFull { speedLine += String(format: " (full depth %.2fx)", oursFull.decodeTokensPerSecond / aFull.decodeTokensPerSecond) }
        anchorLines = ["anchor: " + about.joined(separator: ", ")]
          + rows.map { qwenVLTable($0) }.flatMap { $0 }
          + [String(format: "anchor load %.2f s, peak RSS (process) %.0f MiB; ours/anchor %.2fx",
                    (a.raw["load_seconds"] as? NSNumber)?.doubleValue ?? .nan, a.peakMiB ?? .nan, peak / (a.peakMiB ?? .nan))]
          + [speedLine]
      }
      if args.json {
        try Output.json(result)
      } else {
        Output.out("""
          qwen-vl benchmark: \(r.family) \(path), threads \(threads)
          vision \(r.visionLayers)/\(full.visionLayers) layers, decoder \(ours.textLayers)/\(full.textLayers) layers
          image \(image.width)x\(image.height) -> \(resized.width)x\(resized.height), grid \(r.grid.t)x\(r.grid.h)x\(r.grid.w), \
          \(r.imageTokens) image tokens, prompt \(r.promptTokens) tokens
          """ + String(format: "\n%@, load %.2f s; peak RSS (process) %.0f MiB",
                        model.mmprojPath == nil ? "folder" : "gguf pair", load, peak))
        if let types = result["lm_tensor_types"] as? [String: [String: Any]] {
          Output.out("language-model tensors: " + types.keys.sorted().map { "\($0) \(types[$0]?["tensors"] ?? 0)" }.joined(separator: ", "))
        }
        for line in qwenVLTable(("ours", ours), ("ours, full depth", oursFull)) + anchorLines { Output.out(line) }
      }
      return .success
    })

  static let defaultInstruction = "Click the Save button."

  /// Tensors of a GGUF file by stored type: count, MiB, and the share of the file's tensor bytes.
  static func tensorTypes(_ path: String) throws -> [String: [String: Any]] {
    let file = try GGUFFile(path: path)
    var counts: [String: Int] = [:], bytes: [String: Int] = [:]
    for t in file.tensors {
      counts[t.type.rawValue, default: 0] += 1
      bytes[t.type.rawValue, default: 0] += t.byteRange.count
    }
    let total = max(1, bytes.values.reduce(0, +))
    return counts.keys.reduce(into: [:]) { out, type in
      let b = bytes[type] ?? 0
      out[type] = ["tensors": counts[type] ?? 0, "mib": Double(b) / 1_048_576, "share": Double(b) / Double(total)]
    }
  }

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
