import Engine
import Foundation
import Grounding
import Imaging

/// `gui-agent bench vlm`: one screenshot through a vision-language checkpoint folder as the
/// product runs it (the pipeline's AnyRes or smart_resize, the tower, the prefill), then greedy
/// decode steps; peak memory against the weight files, and decode against the read bandwidth.
extension Commands {
  static let benchVLM = Command(
    name: "vlm",
    abstract: "Time to first token on a screenshot, decode rate and its share of the read bandwidth, peak memory against the weights.",
    discussion: """
      The read bandwidth is measured first (the best of 5 passes over 512 MB with the same
      threads; its buffer is freed before the model loads) and again after decode; the better
      of the two is the bound. Then the model loads, the image and a
      short instruction go through the chat template, the image processor and the vision tower,
      and the whole prompt is prefilled: preprocess + vision + prefill is the time to first token
      (the first token is the argmax of the prefill's logits). Then --decode-tokens greedy steps;
      decode is 1 / the median step.
      Decode reads every matrix of the decoder and lm_head once a token, and one row of the
      embedding table: those tensors' stored bytes (the vision tower and adapter excluded) times
      tokens/s, against the bandwidth, is decode's share of the bound (the keys and values it
      also reads are reported beside it, not counted).
      Memory: the process's peak resident set (VmHWM) after load, after the vision tower, after the
      prefill and after decode (before the second bandwidth pass), beside the weight files' size;
      the resident set split into file pages (mapped weights) and anonymous memory (activations,
      caches, any widened copy).
      """,
    options: [
      .value("model", "DIR", "The checkpoint folder (required)."),
      .value("image", "PNG", "The screenshot (default: a synthetic 1920x1080 desktop)."),
      .value("instruction", "TEXT", "The instruction (default: \"\(defaultInstruction)\")."),
      .value("threads", "N", "Compute threads (default 2)."),
      .value("decode-tokens", "N", "Decode steps (default 16)."),
      .flag("widen", "bluelm_vl: widen every matrix to float32 at load (dense BLAS products), for comparison with the stored type."),
      .value("kv-cache", "f16|f32", "How the KV cache stores its rows (default f16)."),
    ],
    run: { args in
      guard let path = args.string("model") else { throw UsageError("missing --model DIR") }
      let threads = try args.int("threads", range: 1...256) ?? 2
      let decode = try args.int("decode-tokens", range: 1...4096) ?? 16
      let instruction = args.string("instruction") ?? defaultInstruction
      let image = try args.string("image").map { try PNG.read(path: $0) } ?? syntheticScreenshot()

      let bandwidth = MemoryBandwidth.measure(threads: threads)
      var start = DispatchTime.now().uptimeNanoseconds
      var model = try ModelLoader.load(path: path, options: LoadOptions(kvCache: try args.kvCachePrecision()), threads: threads)
      if args.flag("widen") { model = try widened(model, threads: threads) }
      let load = secondsSince(start)
      var memory: [String: Any] = ["after_load": ResidentMemory.read().json]
      let pipeline = try VisionLanguagePipeline(model: model)
      let prepared = try pipeline.prepare(prompt: instruction, images: [image])
      memory["after_vision"] = ResidentMemory.read().json

      let network = model.network
      var cache = network.makeCache(capacity: prepared.ids.count + decode + 1, precision: model.kvCache)
      let imagePad = model.vision?.tokenIds.imagePad ?? -1
      start = DispatchTime.now().uptimeNanoseconds
      var logits = try network.prefill(tokens: prepared.ids, imageEmbeddings: prepared.imageEmbeddings,
                                       imageGrids: prepared.imageGrids, imagePadId: imagePad, cache: &cache)
      let prefill = secondsSince(start)
      memory["after_prefill"] = ResidentMemory.read().json
      var steps: [Double] = [], ids: [Int] = []
      for _ in 0..<decode {
        let token = logits.indices.max { logits[$0] < logits[$1] } ?? 0  // greedy
        ids.append(token)
        start = DispatchTime.now().uptimeNanoseconds
        logits = try network.decode(token: token, cache: &cache)
        steps.append(secondsSince(start))
      }
      let final = ResidentMemory.read()
      memory["after_decode"] = final.json
      // Again after decode (the peak is read above: this pass's buffer is not the model's): the
      // better of the two, so that a busy moment at the start does not flatter the share.
      let bandwidthAfter = MemoryBandwidth.measure(threads: threads)
      let bestBandwidth = max(bandwidth, bandwidthAfter)
      // What decode also reads: every layer's keys and values so far (float32), mid-run.
      let kvBytes = 2 * cache.precision.bytes * cache.layerCount * cache.rowWidth * (prepared.ids.count + decode / 2)

      let files = network.weightFiles.map(\.path)
      let fileBytes = files.reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
      let decodeBytes = try decodeWeightBytes(path) ?? fileBytes
      let step = median(steps), rate = 1 / step
      let ttft = prepared.preprocessSeconds + prepared.visionSeconds + prefill
      let share = Double(decodeBytes) * rate / bestBandwidth
      let peakMiB = final.peakMiB, fileMiB = Double(fileBytes) / 1_048_576
      let result: [String: Any] = [
        "benchmark": "vlm", "model": path, "family": model.family, "threads": threads, "widened": args.flag("widen"),
        "image": ["width": image.width, "height": image.height, "source": args.string("image") ?? "synthetic"],
        "instruction": instruction, "tiles": prepared.plans.map { $0.tileCount }.reduce(0, +),
        "prompt_tokens": prepared.ids.count, "decode_tokens": decode,
        "load_seconds": load, "preprocess_seconds": prepared.preprocessSeconds, "vision_seconds": prepared.visionSeconds,
        "prefill_seconds": prefill, "ttft_seconds": ttft,
        "decode_step_seconds": step, "decode_step_seconds_all": steps, "decode_tokens_per_s": rate, "greedy_ids": ids,
        "weight_files": files, "weight_file_bytes": fileBytes, "decode_weight_bytes": decodeBytes,
        "read_bandwidth_gb_per_s": bestBandwidth / 1e9, "read_bandwidth_before_after_gb_per_s": [bandwidth / 1e9, bandwidthAfter / 1e9],
        "decode_weight_gb_per_s": Double(decodeBytes) * rate / 1e9, "decode_kv_cache_bytes": kvBytes, "kv_cache": cache.precision.rawValue,
        "decode_fraction_of_bandwidth": share,
        "peak_rss_mib": peakMiB, "peak_rss_over_weight_files": peakMiB / fileMiB, "memory": memory,
      ]
      if args.json {
        try Output.json(result)
      } else {
        Output.out("vlm benchmark: \(model.family) \(path), threads \(threads)" + (args.flag("widen") ? ", matrices widened to float32" : ""))
        Output.out(String(format: "image %dx%d, %d tiles, prompt %d tokens; load %.1f s",
                          image.width, image.height, result["tiles"] as? Int ?? 0, prepared.ids.count, load))
        Output.out(String(format: "TTFT %.2f s = preprocess %.2f s + vision %.2f s + prefill %.2f s",
                          ttft, prepared.preprocessSeconds, prepared.visionSeconds, prefill))
        Output.out(String(format: "decode %.2f tokens/s (median of %d steps); weights %.0f MB a token = %.1f GB/s of %.1f GB/s read bandwidth (best of %.1f before, %.1f after), %.0f %% (also %.0f MB of keys and values a token",
                          rate, decode, Double(decodeBytes) / 1e6, Double(decodeBytes) * rate / 1e9, bestBandwidth / 1e9,
                          bandwidth / 1e9, bandwidthAfter / 1e9, 100 * share, Double(kvBytes) / 1e6)
                   + ", KV cache \(cache.precision.rawValue))")
        Output.out(String(format: "peak RSS %.0f MiB, weight files %.0f MiB: %.2fx (now: file pages %.0f MiB, anonymous %.0f MiB)",
                          peakMiB, fileMiB, peakMiB / fileMiB, final.fileMiB, final.anonymousMiB))
      }
      return .success
    })

  /// `model` with its bluelm_vl network loaded again, every matrix widened to float32.
  static func widened(_ model: LoadedModel, threads: Int) throws -> LoadedModel {
    guard let network = model.network as? BlueLMVLModel, model.mmprojPath == nil else {
      throw UsageError("--widen applies to bluelm_vl checkpoint folders; \(model.path) is a \(model.family) model")
    }
    let weights = try SafetensorsCheckpoint(directory: URL(fileURLWithPath: model.path))
    let dense = try BlueLMVLModel(config: network.config, weights: weights, threads: threads, storage: .float32)
    return LoadedModel(family: model.family, path: model.path, network: dense, tokenizer: model.tokenizer,
                       template: model.template, thinkingMarkers: model.thinkingMarkers, eosIds: model.eosIds,
                       vision: model.vision, promptTemplate: model.promptTemplate, notes: model.notes)
  }

  /// The stored bytes one decode step reads from a checkpoint folder: every tensor but the vision
  /// tower's, the adapter's and the pointer head's, and one row's worth of the embedding table
  /// unless it is also the head (no lm_head tensor). nil when `path` is not a safetensors folder.
  static func decodeWeightBytes(_ path: String) throws -> Int? {
    let url = URL(fileURLWithPath: path)
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue,
          let weights = try? SafetensorsCheckpoint(directory: url) else { return nil }
    let skipped = ["vision_model.", "visual.", "multi_modal_projector.", "multi_patch_pointer_head."]
    let tied = !weights.tensorNames.contains { $0.hasSuffix("lm_head.weight") }
    var bytes = 0
    for name in weights.tensorNames where !skipped.contains(where: { name.contains($0) }) {
      guard let t = weights.tensor(name) else { continue }
      if name.hasSuffix("embed_tokens.weight") && !tied {
        bytes += t.byteRange.count / max(1, t.shape.first ?? 1)  // one row
      } else {
        bytes += t.byteRange.count
      }
    }
    return bytes
  }
}

/// The process's resident memory from /proc/self/status: the peak (VmHWM), and the current set
/// split into file pages (mapped weights) and anonymous memory.
struct ResidentMemory {
  var peakMiB = Double.nan, fileMiB = Double.nan, anonymousMiB = Double.nan

  static func read() -> ResidentMemory {
    var m = ResidentMemory()
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return m }
    for line in text.split(separator: "\n") {
      let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
      guard parts.count >= 2, let kib = Double(parts[1]) else { continue }
      switch parts[0] {
      case "VmHWM:": m.peakMiB = kib / 1024
      case "RssFile:": m.fileMiB = kib / 1024
      case "RssAnon:": m.anonymousMiB = kib / 1024
      default: break
      }
    }
    return m
  }

  var json: [String: Double] { ["peak_rss_mib": peakMiB, "file_mib": fileMiB, "anonymous_mib": anonymousMiB] }
}
