import Foundation
import Engine

/// `gui-agent bench generate`: prefill and decode of a real model file, optionally beside
/// llama.cpp on the same file (scripts/bench/generate_llamacpp.py).
extension Commands {
  static let benchGenerate = Command(
    name: "generate",
    abstract: "Prefill and decode throughput of a model file (e.g. .gguf), optionally beside an anchor.",
    discussion: """
      Both sides are fed the same fixed token ids (prompt token i = 100 + 37 i mod 10000, decode
      step i = 200 + i) after an 8-token warm-up; decode is 1 / the median step. The anchor is any
      command printing a JSON object with "prefill_tokens_per_s" and "decode_tokens_per_s"; it gets
      BENCH_MODEL, BENCH_THREADS, BENCH_PROMPT_TOKENS and BENCH_DECODE_TOKENS in its environment
      (make bench uses llama.cpp: scripts/bench/generate_llamacpp.py).

      For a model file, the machine's read bandwidth is measured with the same threads (the best
      of 5 passes over 512 MB) and set beside what decode reads: the file's bytes per token (every
      weight is read once a token) times tokens/s. Decode cannot run faster than that bound.
      GGUF decode (and, on a CPU with AVX-512 VNNI, prefill) rounds activations to int8 blocks as
      llama.cpp does; --float-decode keeps them float32. "kernels" names the kernel set that ran
      (avx512 or avx2; GUI_AGENT_KERNELS=avx2 holds a process to the AVX2 ones).
      """,
    options: [
      .value("model", "FILE", "The model file (.gguf) or checkpoint directory."),
      .value("threads", "N[,N…]", "Compute threads; a list runs each (default 2)."),
      .value("prompt-tokens", "N", "Prefill length (default 128)."),
      .value("decode-tokens", "N", "Decode steps (default 32)."),
      .flag("float-decode", "GGUF: decode and prefill with float32 activations (default: rounded to int8 blocks as llama.cpp does)."),
      .value("kv-cache", "f16|f32", "How the KV cache stores its rows (default f16, as llama.cpp)."),
      .value("anchor-cmd", "COMMAND", "Shell command of the anchor, run once per thread count."),
    ],
    run: { args in
      guard let model = args.string("model") else { throw UsageError("missing --model FILE") }
      let threadList = try args.intList("threads", range: 1...256) ?? [2]
      let prompt = try args.int("prompt-tokens", range: 1...32768) ?? 128
      let decode = try args.int("decode-tokens", range: 1...4096) ?? 32
      let storage: WeightStorage = args.flag("float-decode") ? .stored : .storedInt8Decode
      let kvCache = try args.kvCachePrecision()
      var rows: [[String: Any]] = []
      for threads in threadList {
        let r = try GenerateBenchmark.run(path: model, threads: threads, promptTokens: prompt,
                                          decodeTokens: decode, storage: storage, kvCache: kvCache)
        var row: [String: Any] = [
          "threads": threads, "prompt_tokens": prompt, "decode_tokens": decode,
          "storage": "\(storage)", "kv_cache": kvCache.rawValue, "kernels": CPUFeatures.kernels, "load_seconds": r.loadSeconds,
          "prefill_tokens_per_s": r.prefillTokensPerSecond, "decode_tokens_per_s": r.decodeTokensPerSecond,
          "decode_ms_per_token": r.decodeMillisecondsPerToken,
        ]
        var line = r.summary + "\nkernels: \(CPUFeatures.kernels) (int8 decode; GUI_AGENT_KERNELS=avx2 forces the AVX2 ones)"
        // Decode reads every weight once a token: file bytes x tokens/s against the read bandwidth.
        let attributes = try? FileManager.default.attributesOfItem(atPath: model)
        if attributes?[.type] as? FileAttributeType == .typeRegular, let fileBytes = attributes?[.size] as? Int {
          let bandwidth = MemoryBandwidth.measure(threads: threads)
          let used = Double(fileBytes) * r.decodeTokensPerSecond
          row["read_bandwidth_gb_per_s"] = bandwidth / 1e9
          row["decode_weight_gb_per_s"] = used / 1e9
          row["decode_fraction_of_bandwidth"] = used / bandwidth
          line += String(format: "\nbandwidth: %.1f GB/s read with %d thread(s); decode reads the %.0f MB file %.1f times a second = %.1f GB/s, %.0f %% of it",
                         bandwidth / 1e9, threads, Double(fileBytes) / 1e6, r.decodeTokensPerSecond, used / 1e9, 100 * used / bandwidth)
        }
        if let cmd = args.string("anchor-cmd") {
          let a = try generateAnchor(cmd, model: model, threads: threads, prompt: prompt, decode: decode)
          row["anchor_prefill_tokens_per_s"] = a.prefill
          row["anchor_decode_tokens_per_s"] = a.decode
          row["prefill_over_anchor"] = r.prefillTokensPerSecond / a.prefill
          row["decode_over_anchor"] = r.decodeTokensPerSecond / a.decode
          line += String(format: "\nanchor:  prefill %.1f tokens/s (ours/anchor %.2fx), decode %.1f tokens/s (ours/anchor %.2fx)",
                         a.prefill, r.prefillTokensPerSecond / a.prefill, a.decode, r.decodeTokensPerSecond / a.decode)
        }
        rows.append(row)
        if !args.json { Output.out(line) }
      }
      if args.json { try Output.json(["benchmark": "generate", "model": model, "kernels": CPUFeatures.kernels, "runs": rows]) }
      return .success
    })

  /// Runs the anchor once; returns its prefill and decode tokens/s.
  private static func generateAnchor(_ cmd: String, model: String, threads: Int, prompt: Int,
                                     decode: Int) throws -> (prefill: Double, decode: Double) {
    let obj = try anchorJSON(cmd, environment: [
      "BENCH_MODEL": model, "BENCH_THREADS": String(threads),
      "BENCH_PROMPT_TOKENS": String(prompt), "BENCH_DECODE_TOKENS": String(decode),
    ])
    guard let prefill = (obj["prefill_tokens_per_s"] as? NSNumber)?.doubleValue,
          let dec = (obj["decode_tokens_per_s"] as? NSNumber)?.doubleValue
    else { throw BenchError("anchor printed no prefill_tokens_per_s and decode_tokens_per_s: \(obj)") }
    return (prefill, dec)
  }

  /// Runs an anchor command through /bin/sh with `environment` added, and parses the JSON
  /// object it prints (any bench subcommand's anchor can go through this).
  static func anchorJSON(_ cmd: String, environment: [String: String]) throws -> [String: Any] {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", cmd]
    p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw BenchError("anchor command failed (status \(p.terminationStatus)): \(cmd)") }
    guard let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw BenchError("anchor printed no JSON object: \(String(decoding: data, as: UTF8.self))")
    }
    return obj
  }
}
