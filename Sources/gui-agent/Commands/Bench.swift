import Foundation
import Engine
import Imaging
import ScreenCapture

/// `gui-agent bench …`: benchmarks with their anchors run side by side in the same run.
extension Commands {
  static let bench = Command(
    name: "bench",
    abstract: "Measure performance against reference implementations (see BENCHMARKS.md).",
    subcommands: [benchCapture, benchEngine, benchGenerate, benchMatVec, benchQwenVL, benchVision, benchVLM])

  static let benchCapture = Command(
    name: "capture",
    abstract: "Screen capture latency (MIT-SHM and GetImage), optionally beside an anchor.",
    discussion: """
      Rounds alternate between our two methods and the anchor, so that machine noise hits all of
      them alike. The anchor is any command printing a JSON object with "mean_ms" and "p50_ms" for
      the same capture (make bench uses python-mss: scripts/bench/capture_mss.py).
      """,
    options: [
      .value("iterations", "N", "Captures per round and method (default 50)."),
      .value("rounds", "N", "Rounds (default 3)."),
      .value("region", "X,Y,W,H", "Capture this rectangle instead of the whole screen."),
      .value("anchor-cmd", "COMMAND", "Shell command of the anchor; its frames must match ours in size."),
      displayOption,
    ],
    run: { args in
      let iterations = try args.int("iterations", range: 1...100_000) ?? 50
      let rounds = try args.int("rounds", range: 1...100) ?? 3
      let region = try args.intList("region", count: 4).map { PixelRect(x: $0[0], y: $0[1], width: $0[2], height: $0[3]) }
      let display = args.string("display")
      var ours: [String: [Double]] = ["shm": [], "getimage": []]
      var anchor: [Double] = []
      var size = (0, 0)
      for _ in 0..<rounds {
        for (key, method) in [("shm", CaptureMethod.shm), ("getimage", .getImage)] {
          let t = try CaptureBenchmark.run(display: display, method: method, iterations: iterations, region: region)
          ours[key, default: []].append(contentsOf: t.samplesMs)
          size = (t.width, t.height)
        }
        if let cmd = args.string("anchor-cmd") {
          anchor.append(try runAnchor(cmd, iterations: iterations, display: display))
        }
      }
      let shm = median(ours["shm"] ?? []), get = median(ours["getimage"] ?? [])
      var result: [String: Any] = [
        "benchmark": "capture", "width": size.0, "height": size.1,
        "iterations": iterations, "rounds": rounds,
        "shm_p50_ms": shm, "getimage_p50_ms": get,
      ]
      if !anchor.isEmpty {
        let a = median(anchor)
        result["anchor_p50_ms"] = a
        result["anchor_over_shm"] = a / shm
        result["anchor_over_getimage"] = a / get
      }
      if args.json {
        try Output.json(result)
      } else {
        Output.out(String(format: "capture %dx%d, %d x %d captures per method", size.0, size.1, rounds, iterations))
        Output.out(String(format: "  MIT-SHM   p50 %.3f ms", shm))
        Output.out(String(format: "  GetImage  p50 %.3f ms", get))
        if let a = result["anchor_p50_ms"] as? Double {
          Output.out(String(format: "  anchor    p50 %.3f ms  (anchor/SHM %.2fx, anchor/GetImage %.2fx)", a, a / shm, a / get))
        }
      }
      return .success
    })

  /// Runs the anchor command once and returns its reported p50 in milliseconds.
  private static func runAnchor(_ cmd: String, iterations: Int, display: String?) throws -> Double {
    var env = ["BENCH_ITERATIONS": String(iterations)]
    if let display { env["DISPLAY"] = display }
    let obj = try anchorJSON(cmd, environment: env)
    guard let p50 = (obj["p50_ms"] as? NSNumber)?.doubleValue else {
      throw BenchError("anchor printed no p50_ms: \(obj)")
    }
    return p50
  }

  static func median(_ xs: [Double]) -> Double {
    guard !xs.isEmpty else { return .nan }
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
  }
}

struct BenchError: Error, LocalizedError {
  let message: String
  init(_ m: String) { message = m }
  var errorDescription: String? { message }
}

extension Commands {
  static let benchEngine = Command(
    name: "engine",
    abstract: "Vision tower and decoder throughput at the format's full-size dimensions.",
    discussion: """
      Weights are random, generated in memory (nothing is read from disk). Full width always;
      --vision-layers and --text-layers cut the depth so a small machine finishes, and the result
      also gives the throughput scaled to the full depth (27 vision, 30 decoder layers).
      """,
    options: [
      .value("threads", "N", "Compute threads (default 2)."),
      .value("vision-layers", "N", "Vision layers to build (default 27)."),
      .value("text-layers", "N", "Decoder layers to build (default 30)."),
      .value("tiles", "N", "Tiles per vision batch (default 1)."),
      .value("prompt-tokens", "N", "Prefill length (default 128)."),
      .value("decode-tokens", "N", "Decode steps (default 16)."),
      .flag("reduced", "3 vision and 3 decoder layers (a quick run)."),
    ],
    run: { args in
      var o: EngineBenchmark.Options = args.flag("reduced") ? .reduced : EngineBenchmark.Options()
      if let v = try args.int("threads", range: 1...256) { o.threads = v }
      if let v = try args.int("vision-layers", range: 1...27) { o.visionLayers = v }
      if let v = try args.int("text-layers", range: 1...30) { o.textLayers = v }
      if let v = try args.int("tiles", range: 1...64) { o.tiles = v }
      if let v = try args.int("prompt-tokens", range: 1...32768) { o.promptTokens = v }
      if let v = try args.int("decode-tokens", range: 1...4096) { o.decodeTokens = v }
      let r = try EngineBenchmark.run(o)
      if args.json {
        try Output.json([
          "benchmark": "engine", "threads": o.threads, "vision_layers": o.visionLayers,
          "text_layers": o.textLayers, "tiles": o.tiles, "prompt_tokens": o.promptTokens,
          "decode_tokens": o.decodeTokens, "load_seconds": r.loadSeconds,
          "vision_tiles_per_s": r.visionTilesPerSecond, "prefill_tokens_per_s": r.prefillTokensPerSecond,
          "decode_tokens_per_s": r.decodeTokensPerSecond,
          "full_depth_vision_tiles_per_s": r.fullDepthVisionTilesPerSecond,
          "full_depth_prefill_tokens_per_s": r.fullDepthPrefillTokensPerSecond,
          "full_depth_decode_tokens_per_s": r.fullDepthDecodeTokensPerSecond,
        ])
      } else {
        Output.out(r.summary)
      }
      return .success
    })
}
