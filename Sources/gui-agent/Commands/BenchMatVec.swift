import Foundation
import Engine

/// `gui-agent bench matvec`: a decode step's product, in cache and from memory.
extension Commands {
  static let benchMatVec = Command(
    name: "matvec",
    abstract: "Matrix-vector products as decode runs them: the kernel in cache, and streamed from memory.",
    discussion: """
      For each type, a matrix of random rows quantized by the project's quantizer is multiplied
      by one activation row (int8 activations and integer block dots for the quantized types, as
      decode does): a 256 KB matrix again and again (it stays in the L2 cache: the kernel's own
      speed), then one of --megabytes (streamed from memory), beside the read bandwidth measured
      with the same threads. A kernel whose in-cache rate is far above the read bandwidth leaves
      decode bound by memory; one below it is the bound itself.
      """,
    options: [
      .value("type", "TYPE[,TYPE…]", "Weight types (default q4_0,q4_1,q8_0,q5_0,q4_K,q6_K; also q5_1, q5_K, f16, bf16, f32)."),
      .value("columns", "N", "Row length (default 576, SmolLM2-135M's width)."),
      .value("threads", "N[,N…]", "Compute threads; a list runs each (default 1,2)."),
      .value("megabytes", "N", "Size of the streamed matrix (default 256)."),
      .flag("float-decode", "Float activations (the kernels of --float-decode) instead of int8 blocks."),
    ],
    run: { args in
      let names = (args.string("type") ?? "q4_0,q4_1,q8_0,q5_0,q4_K,q6_K").split(separator: ",")
      let types = try names.map { name throws(UsageError) -> TensorDType in
        let key = name.trimmingCharacters(in: .whitespaces).lowercased()
        guard let t = TensorDType.allCases.first(where: { $0.rawValue.lowercased() == key }), t != .q8_K else {
          throw UsageError("--type: '\(name)' is not one of q4_0, q4_1, q5_0, q5_1, q8_0, q4_k, q5_k, q6_k, f16, bf16, f32")
        }
        return t
      }
      let columns = try args.int("columns", range: 32...65536) ?? 576
      let megabytes = try args.int("megabytes", range: 1...8192) ?? 256
      var rows: [[String: Any]] = []
      if !args.json { Output.out("kernels: \(CPUFeatures.kernels) (GUI_AGENT_KERNELS=avx2 forces the AVX2 ones)") }
      for threads in try args.intList("threads", range: 1...256) ?? [1, 2] {
        for type in types {
          let r = try MatVecBenchmark.run(type: type, columns: columns, threads: threads, megabytes: megabytes,
                                             int8Activations: !args.flag("float-decode"))
          let gb = 1e9
          rows.append([
            "type": type.rawValue, "columns": columns, "threads": threads, "kernels": CPUFeatures.kernels,
            "cached_gb_per_s": r.cachedBytesPerSecond / gb, "streaming_gb_per_s": r.streamingBytesPerSecond / gb,
            "read_bandwidth_gb_per_s": r.readBandwidth / gb,
            "streaming_share_of_bandwidth": r.streamingBytesPerSecond / r.readBandwidth,
            "cached_ns_per_block": r.cachedNanosecondsPerBlock,
          ])
          if !args.json {
            Output.out(String(format: "%@ x%d, %d thread(s): in cache %.1f GB/s (%.2f ns/block), streamed %.1f GB/s = %.0f %% of the %.1f GB/s read bandwidth",
                              type.rawValue, columns, threads, r.cachedBytesPerSecond / gb, r.cachedNanosecondsPerBlock,
                              r.streamingBytesPerSecond / gb, 100 * r.streamingBytesPerSecond / r.readBandwidth, r.readBandwidth / gb))
          }
        }
      }
      if args.json { try Output.json(["benchmark": "matvec", "kernels": CPUFeatures.kernels, "runs": rows]) }
      return .success
    })
}
