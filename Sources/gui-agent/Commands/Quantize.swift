import Engine
import Foundation

/// `gui-agent quantize`: a Qwen-VL or bluelm_vl folder as a llama.cpp GGUF pair, or a GGUF re-quantized.
extension Commands {
  static let quantize = Command(
    name: "quantize",
    abstract: "Write a Qwen-VL or bluelm_vl folder as a llama.cpp GGUF pair (language model + mmproj), or re-quantize a GGUF.",
    discussion: """
      From a Qwen2-VL, Qwen2.5-VL or Qwen3-VL folder (config.json model_type qwen2_vl, qwen2_5_vl,
      qwen3_vl) two files are written, as llama.cpp's convert_hf_to_gguf.py writes them (and, for
      the quantized types, llama-quantize after it): OUT, the language model (architecture qwen2vl
      or qwen3vl, with the vocabulary and chat template), and the mmproj (architecture clip: the
      vision tower and merger), which llama.cpp's mtmd tools take with --mmproj. Same metadata
      keys, tensor names and shapes as the converter's; Qwen2/2.5-VL's fused qkv is split into
      q, k, v and the Conv3d patch embedding into one weight per frame.

      Type policy. Language model: 1-D tensors (norms, biases) stay f32; the 2-D weights take
      --type, as llama-quantize's mixes choose: q4_k and q5_k are its Q4_K_M and Q5_K_M (attn_v and
      ffn_down of the first and last eighth of the layers and every third layer between become
      q6_K), q6_k is Q6_K; for every quantized type output.weight (token_embd.weight when the
      embeddings are tied) becomes q6_K (q8_0 stays q8_0). mmproj: --mmproj-type (default f16)
      for the 2-D weights, 1-D tensors and v.position_embd in f32, the patch embedding in f16 for
      f16 and f32 otherwise.

      Fallbacks (llama-quantize's): a row length that does not divide into the type's blocks
      (256 values for q4_K/q5_K/q6_K, 32 for the others) falls back q4_K -> q5_0, q5_K -> q5_1,
      q6_K -> q8_0, and to f16 when that does not divide either; each fallback is logged and listed
      in --json's "fallbacks". Values are quantized by ggml's reference quantizers (the ones
      llama-quantize runs without an importance matrix); a NaN or infinity in a weight is refused.

      With a GGUF FILE as --model: the language model re-quantized to --type (metadata copied,
      general.file_type updated); tensors llama-quantize leaves alone are copied as they are.
      Files are written to OUT.tmp and renamed when complete: a failure leaves no output behind.
      A progress line with ETA is drawn on standard error when it is a terminal (not with --quiet).
      """,
    options: [
      .value("model", "DIR|FILE", "A Qwen-VL or bluelm_vl folder, or a GGUF language model to re-quantize."),
      .value("type", "TYPE", "The language model's type: f16, q8_0, q4_0, q4_k, q5_k, q6_k."),
      .value("output", short: "o", "OUT.gguf", "The language model file to write."),
      .value("mmproj-out", "FILE", "The mmproj file (default: mmproj-<OUT's name> beside OUT); folders only."),
      .value("mmproj-type", "TYPE", "The mmproj's type: f16 (default), f32, q8_0; folders only."),
      .value("threads", "N", "Quantization threads (default: every core)."),
    ],
    run: { args in
      guard let model = args.string("model") else { throw UsageError("missing --model DIR|FILE") }
      guard let typeName = args.string("type") else { throw UsageError("missing --type (f16, q8_0, q4_0, q4_k, q5_k, q6_k)") }
      guard let type = GGUFModelType(rawValue: typeName.lowercased()) else {
        throw UsageError("--type: '\(typeName)' is not one of \(GGUFModelType.allCases.map(\.rawValue).joined(separator: ", "))")
      }
      guard let output = args.string("output") else { throw UsageError("missing -o OUT.gguf") }
      let projectorName = args.string("mmproj-type") ?? "f16"
      guard let projectorType = GGUFProjectorType(rawValue: projectorName.lowercased()) else {
        throw UsageError("--mmproj-type: '\(projectorName)' is not one of \(GGUFProjectorType.allCases.map(\.rawValue).joined(separator: ", "))")
      }
      let threads = try args.int("threads", range: 1...256) ?? ProcessInfo.processInfo.activeProcessorCount
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory) else {
        throw EngineError.invalidArgument("--model \(model) does not exist")
      }
      if !isDirectory.boolValue, args.string("mmproj-out") != nil || args.string("mmproj-type") != nil {
        throw UsageError("--mmproj-out and --mmproj-type apply to a Qwen-VL or bluelm_vl folder, not to a GGUF file")
      }
      let options = GGUFExportOptions(modelType: type, projectorType: projectorType, output: output,
                                      projectorOutput: args.string("mmproj-out"), threads: threads)
      var bar: ProgressBar? = nil
      let showBar = Output.progressEnabled
      let log: (String) -> Void = { line in
        bar?.clear()
        Output.log(line)
      }
      // The bar counts millions of values (at least one step).
      let progress: (Int, Int) -> Void = { done, total in
        guard showBar else { return }
        let unit = 1_000_000
        if bar == nil { bar = ProgressBar(total: max(1, (total + unit - 1) / unit), label: "quantize \(type.rawValue) (M values)") }
        bar?.update((done + unit - 1) / unit)
      }
      let summary = isDirectory.boolValue
        ? try GGUFExport.exportFolder(URL(fileURLWithPath: model), options: options, log: log, progress: progress)
        : try GGUFExport.requantize(URL(fileURLWithPath: model), options: options, log: log, progress: progress)
      bar?.finish()
      if args.json {
        var object: [String: Any] = [
          "model": model, "type": type.rawValue, "seconds": summary.seconds,
          "files": summary.files.map { f in
            ["path": f.path, "role": f.role, "bytes": f.bytes, "tensors": f.tensors, "types": f.typeCounts] as [String: Any]
          },
          "fallbacks": summary.fallbacks, "skipped": summary.skipped,
        ]
        if isDirectory.boolValue { object["mmproj_type"] = projectorType.rawValue }
        try Output.json(object)
      } else {
        for f in summary.files {
          let types = f.typeCounts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
          Output.out("\(f.role): \(f.path) (\(f.bytes) bytes, \(f.tensors) tensors: \(types))")
        }
        Output.out(String(format: "%d fallback(s), %.1f s", summary.fallbacks.count, summary.seconds))
      }
      return .success
    })
}
