import Foundation

// MARK: - A language-model GGUF -> the same model in another type (llama-quantize)
//
// Metadata copied in order with general.quantization_version and general.file_type set last (split
// keys and general.alignment dropped: the output is one file at GGUF's default alignment);
// every tensor llama-quantize may quantize (`GGUFTypePolicy.allowsQuantization`, 2-D) gets the
// mix's type from `GGUFTypePolicy.model`, its values dequantized and quantized again; the others,
// and those already in their target type, are copied byte for byte, as llama-quantize does, in
// llama-quantize's tensor order.
// Unlike llama-quantize (which wants --allow-requantize), an input that is already quantized is
// accepted, with a note in the log.

extension GGUFExport {
  /// Re-quantizes the GGUF language model `file` to `options.modelType` at `options.output`.
  /// - Throws: `EngineError`: an unreadable or malformed GGUF, an mmproj (clip) file, a
  ///   non-finite value, an unwritable output; no output file is left behind then.
  public static func requantize(_ file: URL, options: GGUFExportOptions, log: (String) -> Void = { _ in },
                                progress: (Int, Int) -> Void = { _, _ in }) throws(EngineError) -> GGUFExportSummary {
    let started = Date()
    let input = try GGUFFile(path: file.path)
    guard let arch = input.string("general.architecture") else {
      throw .malformedWeights(file: file.path, reason: "no general.architecture: not a llama.cpp model file")
    }
    guard arch != "clip", input.string("general.type") != "mmproj" else {
      throw .invalidArgument("\(file.path) is an mmproj (clip) file; re-quantize the language model, or export the Qwen-VL folder with --mmproj-type")
    }
    guard URL(fileURLWithPath: options.output).standardizedFileURL != file.standardizedFileURL else {
      throw .invalidArgument("--output \(options.output) is the input file; write to another path")
    }
    let layers = input.int("\(arch).block_count") ?? 0
    let tied = input.tensor("output.weight") == nil
    // Copied in order; llama-quantize then sets quantization_version and file_type, which
    // (gguf_set_val removes and appends) moves them to the end.
    let dropped: Set<String> = ["general.alignment", "split.no", "split.count", "split.tensors.count",
                                "general.quantization_version", "general.file_type"]
    var kv: [(String, GGUFValue)] = input.metadataKeys.filter { !dropped.contains($0) }.compactMap { k in input.metadata[k].map { (k, $0) } }
    kv += [("general.quantization_version", .uint32(2)), ("general.file_type", .uint32(options.modelType.fileType))]

    var items: [GGUFExportItem] = []
    var requantized = Set<String>()
    for t in input.tensors.sorted(by: { GGUFTypePolicy.quantizeOrder($0.name, $1.name) }) {
      let shape = t.shape
      var choice = GGUFTypeChoice(type: t.type, fallback: nil)
      if shape.count >= 2, GGUFTypePolicy.allowsQuantization(t.name) {
        choice = GGUFTypePolicy.model(t.name, shape: shape, type: options.modelType, layers: layers, tied: tied)
      }
      let copy = choice.type == t.type
      if !copy, t.type.isQuantized { requantized.insert(t.type.rawValue) }
      items.append(GGUFExportItem(spec: GGUFTensorSpec(name: t.name, type: choice.type, shape: shape),
                                  source: GGUFExportSource(name: t.name, dtype: t.type, layout: .contiguous(offset: 0), copyBytes: copy),
                                  fallback: choice.fallback))
    }
    var summary = GGUFExportSummary()
    summary.fallbacks = items.compactMap(\.fallback)
    for f in summary.fallbacks { log("fallback: \(f)") }
    if !requantized.isEmpty {
      log("note: \(file.lastPathComponent) is already quantized (\(requantized.sorted().joined(separator: ", "))); re-quantizing adds the error of both")
    }
    let total = items.reduce(0) { $0 + $1.spec.shape.reduce(1, *) }
    var done = 0
    let writer = try GGUFWriter(path: options.output, metadata: kv, tensors: items.map(\.spec))
    do throws(EngineError) {
      for item in items {
        let before = done
        try input.withRawBytes(item.source.name) { (raw) throws(EngineError) in
          try GGUFExportStream.write(item.spec, from: item.source, raw: raw, to: writer, threads: options.threads) {
            done = before + $0
            progress(done, total)
          }
        }
        try input.checkUnchanged()
      }
      try writer.finish()
      try writer.commit()
    } catch {
      writer.retract()
      throw error
    }
    summary.files = [GGUFExportSummary.File(path: options.output, role: "model", bytes: writer.fileBytes, tensors: items.count,
                                            typeCounts: typeCounts(items.map(\.spec)))]
    summary.seconds = Date().timeIntervalSince(started)
    return summary
  }
}
