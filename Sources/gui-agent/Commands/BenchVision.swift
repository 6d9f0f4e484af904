import Engine
import Foundation

/// `gui-agent bench vision`: the SigLIP tower of a bluelm_vl folder on random tiles, its
/// arithmetic rate beside the machine's sgemm rate, optionally beside an anchor
/// (transformers' SiglipVisionModel: scripts/bench/siglip_transformers.py). The timing, the
/// multiply-add count and the sgemm measurement live in `VisionBenchmark`.
extension Commands {
  static let benchVision = Command(
    name: "vision",
    abstract: "The vision tower of a bluelm_vl folder: tiles/s, GFLOP/s and its share of sgemm, optionally beside an anchor.",
    discussion: """
      Each round runs, for every thread count: the matrix product at the shape of the tower's
      first MLP product (rows = patches of the tiles that go through the layers together, at most
      8 tiles; the engine's split of output columns between threads, each single-threaded, the
      best of 3), by OpenBLAS's sgemm and by the engine's kernel (the AVX-512 one where the CPU has
      it: "kernels"), then for every tile count one pass of ours and one run of the anchor. Tiles are
      uniform random values in [-1, 1) from --seed. Reported: tiles/s from the median of the
      rounds, GFLOP/s = the tower's multiply-adds x 2 x tiles/s (the formula is in
      VisionBenchmark.Work: patch embedding, q/k/v/out projections, attention scores and values,
      MLP), its share of the faster median product rate, and both sides at full depth: the time in encoder
      layers scaled to --full-layers (default: the folder's bench_model.json, else 27), the rest
      once. The first pass (one tile, untimed) also warms up.
      The anchor is any command printing a JSON object with "tiles_per_s", "seconds",
      "layer_seconds" and "vision_layers"; it gets BENCH_MODEL, BENCH_THREADS, BENCH_TILES,
      BENCH_RUNS (1) and BENCH_SEED, and on its first run BENCH_CHECK_TILE and
      BENCH_CHECK_FEATURES (our first tile and our last hidden state for it, float32 LE), for
      which it prints "check_max_abs_diff" (and "check_max_abs", its own output's largest value).
      """,
    options: [
      .value("model", "DIR", "The bluelm_vl folder (scripts/bench/make_siglip_bench_model.py makes one; required)."),
      .value("tiles", "N[,N…]", "Tiles per pass; a list runs each (default 1)."),
      .value("threads", "N[,N…]", "Compute threads; a list runs each (default 2)."),
      .value("rounds", "N", "Rounds, ours and the anchor interleaved (default 3)."),
      .value("full-layers", "N", "Depth to estimate for (default: bench_model.json's full_vision_layers, else 27)."),
      .value("seed", "N", "Seed of the random tiles (default 0)."),
      .value("anchor-cmd", "COMMAND", "Shell command of the anchor, run once per round, thread count and tile count."),
    ],
    run: { args in
      guard let path = args.string("model") else { throw UsageError("missing --model DIR (a bluelm_vl folder)") }
      let tileCounts = try args.intList("tiles", range: 1...256) ?? [1]
      let threadCounts = try args.intList("threads", range: 1...256) ?? [2]
      let rounds = try args.int("rounds", range: 1...100) ?? 3
      let seed = try args.int("seed", range: 0...Int.max) ?? 0
      let loaded = try ModelLoader.load(path: path, threads: threadCounts.max() ?? 1)
      guard let model = loaded.network as? BlueLMVLModel else {
        throw BenchError("\(path) is a \(loaded.family) model; bench vision takes a bluelm_vl folder")
      }
      let v = model.config.visionConfig, layers = v.numHiddenLayers
      let record = benchRecord(path)
      let full = try args.int("full-layers", range: 1...1024) ?? (record?["full_vision_layers"] as? Int) ?? 27
      guard full >= layers else { throw UsageError("--full-layers \(full) is below the folder's \(layers) layers") }
      let work = VisionBenchmark.Work(v), fullWork = VisionBenchmark.Work(v, layers: full)
      let tiles = VisionBenchmark.randomTiles(v, count: tileCounts.max() ?? 1, seed: UInt64(seed))
      let tileSize = v.numChannels * v.imageSize * v.imageSize

      let first = try VisionBenchmark.encode(model, tiles: Array(tiles[0..<tileSize]), threads: threadCounts[0])
      var check = args.string("anchor-cmd") == nil ? nil : try VisionCheckFiles(tile: Array(tiles[0..<tileSize]), features: first.features)
      defer { check?.remove() }

      struct Key: Hashable { let threads: Int, tiles: Int }
      var ours: [Key: [VisionBenchmark.Pass]] = [:], anchor: [Key: [VisionBenchmark.Pass]] = [:]
      var sgemm: [Key: [Double]] = [:], gemm: [Key: [Double]] = [:], loads: [String] = []
      var agreement: [String: Any]? = nil, about: [String: Any] = [:]
      for _ in 0..<rounds {
        loads.append(loadAverage())
        for threads in threadCounts {
          for count in tileCounts {
            let key = Key(threads: threads, tiles: count)
            let shape = VisionBenchmark.mlpShape(v, tiles: count)
            sgemm[key, default: []].append(VisionBenchmark.sgemmRate(m: shape.m, n: shape.n, k: shape.k, threads: threads))
            gemm[key, default: []].append(VisionBenchmark.sgemmRate(m: shape.m, n: shape.n, k: shape.k, threads: threads,
                                                                    kernel: .engine))
            ours[key, default: []].append(try VisionBenchmark.encode(model, tiles: Array(tiles[0..<(count * tileSize)]), threads: threads).pass)
            guard let cmd = args.string("anchor-cmd") else { continue }
            let a = try visionAnchor(cmd, model: path, threads: threads, tiles: count, seed: seed, check: check)
            guard a.pass.layers == layers, a.pass.tiles == count else {
              throw BenchError("the anchor ran \(a.pass.layers) layers on \(a.pass.tiles) tiles; ours \(layers) on \(count)")
            }
            anchor[key, default: []].append(a.pass)
            if let diff = a.raw["check_max_abs_diff"] {
              agreement = ["max_abs_diff": diff, "max_abs": a.raw["check_max_abs"] ?? NSNull(), "threads": threads]
              check?.remove(); check = nil
            }
            about = a.raw.filter { ["anchor", "transformers", "torch", "dtype", "attn_implementation"].contains($0.key) }
          }
        }
      }

      var rows: [[String: Any]] = [], lines: [String] = []
      for threads in threadCounts {
        for count in tileCounts {
          let key = Key(threads: threads, tiles: count)
          let o = medianPass(ours[key] ?? []), blasRate = median(sgemm[key] ?? []), ownRate = median(gemm[key] ?? [])
          let rate = max(blasRate, ownRate)
          let gflops = work.flops * o.tilesPerSecond / 1e9, oFull = o.fullDepth(full)
          var row: [String: Any] = [
            "threads": threads, "tiles": count, "tiles_per_s": o.tilesPerSecond, "seconds": o.seconds,
            "layer_seconds": o.layerSeconds, "gflop_per_s": gflops, "sgemm_gflop_per_s": blasRate / 1e9,
            "engine_gemm_gflop_per_s": ownRate / 1e9, "share_of_sgemm": gflops * 1e9 / rate, "full_depth_tiles_per_s": oFull.tilesPerSecond,
            "full_depth_gflop_per_s": fullWork.flops * oFull.tilesPerSecond / 1e9,
            "pass_seconds": (ours[key] ?? []).map(\.seconds), "sgemm_gflop_per_s_rounds": (sgemm[key] ?? []).map { $0 / 1e9 },
            "engine_gemm_gflop_per_s_rounds": (gemm[key] ?? []).map { $0 / 1e9 },
          ]
          var line = String(format: "%7d %5d %9.3f %8.1f %8.1f %8.1f %6.0f %% %10.4f", threads, count, o.tilesPerSecond, gflops,
                            blasRate / 1e9, ownRate / 1e9, 100 * gflops * 1e9 / rate, oFull.tilesPerSecond)
          if let passes = anchor[key], !passes.isEmpty {
            let a = medianPass(passes), aFull = a.fullDepth(full)
            row["anchor_tiles_per_s"] = a.tilesPerSecond
            row["anchor_full_depth_tiles_per_s"] = aFull.tilesPerSecond
            row["anchor_pass_seconds"] = passes.map(\.seconds)
            row["ours_over_anchor"] = o.tilesPerSecond / a.tilesPerSecond
            row["full_depth_ours_over_anchor"] = oFull.tilesPerSecond / aFull.tilesPerSecond
            line += String(format: " | %9.3f %10.4f %6.2fx %6.2fx", a.tilesPerSecond, aFull.tilesPerSecond,
                           o.tilesPerSecond / a.tilesPerSecond, oFull.tilesPerSecond / aFull.tilesPerSecond)
          }
          rows.append(row)
          lines.append(line)
        }
      }
      if args.json {
        var result: [String: Any] = [
          "benchmark": "vision", "model": path, "vision_layers": layers, "full_vision_layers": full,
          "hidden_size": v.hiddenSize, "intermediate_size": v.intermediateSize, "heads": v.numAttentionHeads,
          "patches_per_tile": (v.imageSize / v.patchSize) * (v.imageSize / v.patchSize),
          "stored_dtype": record?["dtype"] ?? NSNull(), "rounds": rounds, "seed": seed, "load_average": loads,
          "kernels": CPUFeatures.kernels, "gflop_per_tile": work.flops / 1e9, "full_depth_gflop_per_tile": fullWork.flops / 1e9, "runs": rows,
        ]
        if !about.isEmpty { result["anchor"] = about }
        if let agreement { result["agreement"] = agreement }
        try Output.json(result)
      } else {
        let g = v.imageSize / v.patchSize
        Output.out("""
          vision benchmark: \(path) (\(record?["dtype"] ?? "?") weights), SigLIP \(v.hiddenSize) wide, MLP \(v.intermediateSize), \
          \(v.numAttentionHeads) heads, \(g * g) patches a tile, \(layers)/\(full) layers; \(CPUFeatures.kernels) kernels; \(rounds) round(s), load average \(loads.joined(separator: " / "))
          """ + String(format: "\nwork: %.1f GFLOP a tile (%d layers), %.1f at %d layers", work.flops / 1e9, layers, fullWork.flops / 1e9, full))
        if !about.isEmpty { Output.out("anchor: " + about.keys.sorted().map { "\($0) \(about[$0] ?? "")" }.joined(separator: ", ")) }
        Output.out("threads tiles   tiles/s  GFLOP/s    sgemm   engine  share  full tiles/s" + (anchor.isEmpty ? "" : " |  anchor/s  full anc/s  ours/a  full"))
        for line in lines { Output.out(line) }
        if let agreement {
          Output.out("agreement on one tile: max abs diff \(agreement["max_abs_diff"] ?? "?") (largest value \(agreement["max_abs"] ?? "?"))")
        }
      }
      return .success
    })

  /// Runs the anchor once; its pass in our terms and its JSON object.
  private static func visionAnchor(_ cmd: String, model: String, threads: Int, tiles: Int, seed: Int,
                                   check: VisionCheckFiles?) throws -> (pass: VisionBenchmark.Pass, raw: [String: Any]) {
    var environment = ["BENCH_MODEL": model, "BENCH_THREADS": String(threads), "BENCH_TILES": String(tiles),
                       "BENCH_RUNS": "1", "BENCH_SEED": String(seed)]
    if let check { environment["BENCH_CHECK_TILE"] = check.tile; environment["BENCH_CHECK_FEATURES"] = check.features }
    let obj = try anchorJSON(cmd, environment: environment)
    guard let seconds = (obj["seconds"] as? NSNumber)?.doubleValue, seconds > 0,
          let layerSeconds = (obj["layer_seconds"] as? NSNumber)?.doubleValue, layerSeconds >= 0,
          let layers = obj["vision_layers"] as? Int, (obj["tiles_per_s"] as? NSNumber) != nil
    else { throw BenchError("the anchor printed no tiles_per_s, seconds, layer_seconds and vision_layers: \(obj)") }
    return (VisionBenchmark.Pass(tiles: (obj["tiles"] as? Int) ?? tiles, seconds: seconds, layerSeconds: layerSeconds, layers: layers), obj)
  }

  /// The pass of median time.
  private static func medianPass(_ passes: [VisionBenchmark.Pass]) -> VisionBenchmark.Pass {
    let sorted = passes.sorted { $0.seconds < $1.seconds }
    return sorted.isEmpty ? VisionBenchmark.Pass(tiles: 0, seconds: .nan, layerSeconds: .nan, layers: 0) : sorted[(sorted.count - 1) / 2]
  }

  /// The 1-, 5- and 15-minute load averages, as /proc/loadavg writes them.
  static func loadAverage() -> String {
    guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "?" }
    return text.split(separator: " ").prefix(3).joined(separator: " ")
  }
}

/// One tile and our last hidden state for it, in temporary files (float32 LE) for the anchor.
private struct VisionCheckFiles {
  let tile: String, features: String

  init(tile values: [Float], features output: [Float]) throws {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("gui-agent-bench-vision-\(getpid())").path
    tile = base + "-tile.f32"
    features = base + "-features.f32"
    try Self.write(values, to: tile)
    try Self.write(output, to: features)
  }

  private static func write(_ values: [Float], to path: String) throws {
    let data = values.withUnsafeBufferPointer { Data(buffer: $0) }  // little-endian on every supported CPU
    try data.write(to: URL(fileURLWithPath: path))
  }

  func remove() {
    try? FileManager.default.removeItem(atPath: tile)
    try? FileManager.default.removeItem(atPath: features)
  }
}
