import Foundation

// MARK: - A Qwen-VL folder -> a llama.cpp GGUF pair
//
// The language model and the mmproj, as llama.cpp's convert_hf_to_gguf.py (and, for the
// quantized types, llama-quantize) would write them: names from `QwenVLGGUFNames`, metadata from
// `GGUFExportMetadata` / `GGUFExportVocab`, types from `GGUFTypePolicy`. Both files are written
// tensor by tensor to PATH.tmp and renamed into place only when both are complete.

public struct GGUFExportOptions: Sendable {
  public var modelType: GGUFModelType
  public var projectorType: GGUFProjectorType
  public var output: String
  /// The mmproj's path; nil: "mmproj-" + the model file's name, in its folder.
  public var projectorOutput: String?
  public var threads: Int

  public init(modelType: GGUFModelType, projectorType: GGUFProjectorType = .f16, output: String,
              projectorOutput: String? = nil, threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
    self.modelType = modelType; self.projectorType = projectorType; self.output = output
    self.projectorOutput = projectorOutput; self.threads = max(1, threads)
  }

  /// The mmproj path actually used.
  public var resolvedProjectorOutput: String {
    if let p = projectorOutput { return p }
    let url = URL(fileURLWithPath: output)
    return url.deletingLastPathComponent().appendingPathComponent("mmproj-" + url.lastPathComponent).path
  }
}

/// What an export wrote.
public struct GGUFExportSummary: Sendable {
  public struct File: Sendable {
    public let path: String
    public let role: String  // "model" or "mmproj"
    public let bytes: Int
    public let tensors: Int
    /// Tensor count per ggml type name ("f16", "q8_0", "q4_K", ...).
    public let typeCounts: [String: Int]
  }
  public var files: [File] = []
  /// One line per tensor whose type fell back (llama-quantize's shape fallbacks).
  public var fallbacks: [String] = []
  /// Checkpoint tensors the converter does not write (e.g. a GUI-Actor pointer head).
  public var skipped: [String] = []
  public var seconds: Double = 0
}

/// One tensor of a planned file: where it goes, its type and where its values come from.
struct GGUFExportItem {
  let spec: GGUFTensorSpec
  let source: GGUFExportSource
  let fallback: String?
}

public enum GGUFExport {
  /// Exports the Qwen-VL folder `folder` as a GGUF pair.
  /// - Parameters:
  ///   - log: progress notes and fallbacks, one line each.
  ///   - progress: values written so far and the total, after each chunk.
  /// - Throws: `EngineError` naming the file and the bad value: a missing or malformed
  ///   config.json / tokenizer.json / preprocessor_config.json, an unknown model_type, a tensor
  ///   missing or of an unexpected shape, a non-finite weight, an unwritable output. No output
  ///   file is left behind then.
  public static func exportFolder(_ folder: URL, options: GGUFExportOptions, log: (String) -> Void = { _ in },
                                  progress: (Int, Int) -> Void = { _, _ in }) throws(EngineError) -> GGUFExportSummary {
    let started = Date()
    let configURL = folder.appendingPathComponent("config.json")
    guard let configData = FileManager.default.contents(atPath: configURL.path) else {
      throw .badConfig("\(configURL.path) is missing or unreadable (--model takes a Qwen-VL or bluelm_vl folder, or a GGUF file)")
    }
    if try ModelRegistry.modelType(configData) == "bluelm_vl" {
      return try BlueLMVLGGUFExport.export(folder, configData: configData, options: options, log: log, progress: progress)
    }
    let meta = try GGUFExportMetadata(folder: folder, configData: configData)
    let checkpoint = try SafetensorsCheckpoint(directory: folder)
    let config = meta.config
    var summary = GGUFExportSummary()
    let plan = try GGUFExportPlan(checkpoint: checkpoint, config: config, modelType: options.modelType,
                                  projectorType: options.projectorType)
    summary.skipped = plan.skipped
    summary.fallbacks = (plan.model + plan.projector).compactMap(\.fallback)
    if !plan.skipped.isEmpty {
      log("skipping \(plan.skipped.count) checkpoint tensor(s) llama.cpp's converter does not write: \(plan.skipped.prefix(4).joined(separator: ", "))\(plan.skipped.count > 4 ? ", ..." : "")")
    }
    for f in summary.fallbacks { log("fallback: \(f)") }

    let vocab = try GGUFExportVocab(folder: folder, config: meta.top, vocabSize: config.text.vocabSize)
    func parameters(_ items: [GGUFExportItem]) -> Int { items.reduce(0) { $0 + $1.spec.shape.reduce(1, *) } }
    var modelKV = try meta.model(fileType: options.modelType.fileType, parameters: parameters(plan.model)) + vocab.metadata
    if GGUFTypePolicy.viaLlamaQuantize(options.modelType) {
      // llama-quantize sets these two keys again, which moves them to the end.
      let last = ["general.quantization_version", "general.file_type"]
      modelKV = modelKV.filter { !last.contains($0.0) } + [(last[0], .uint32(2)), (last[1], .uint32(options.modelType.fileType))]
    }
    let projectorKV = try meta.projector(fileType: options.projectorType.fileType, parameters: parameters(plan.projector), folder: folder)
    summary.files = try writePair(model: (modelKV, plan.model), projector: (projectorKV, plan.projector), from: checkpoint,
                                  options: options, progress: progress)
    summary.seconds = Date().timeIntervalSince(started)
    return summary
  }

  /// Writes the model and the mmproj tensor by tensor from `checkpoint`, each to PATH.tmp, and
  /// renames both into place only when both are complete (on an error neither file is left).
  /// `rewrite` may replace a tensor's stored bytes before they are converted (nil: as stored).
  static func writePair(
    model: ([(String, GGUFValue)], [GGUFExportItem]), projector: ([(String, GGUFValue)], [GGUFExportItem]),
    from checkpoint: SafetensorsCheckpoint, options: GGUFExportOptions, progress: (Int, Int) -> Void,
    rewrite: ((GGUFExportItem, UnsafeRawBufferPointer, (UnsafeRawBufferPointer) throws(EngineError) -> Void) throws(EngineError) -> Bool)? = nil
  ) throws(EngineError) -> [GGUFExportSummary.File] {
    let projectorPath = options.resolvedProjectorOutput
    guard URL(fileURLWithPath: projectorPath).standardizedFileURL != URL(fileURLWithPath: options.output).standardizedFileURL else {
      throw .invalidArgument("the model and the mmproj would both be written to \(options.output)")
    }
    let files = [("model", options.output, model.0, model.1), ("mmproj", projectorPath, projector.0, projector.1)]
    let total = (model.1 + projector.1).reduce(0) { $0 + $1.spec.shape.reduce(1, *) }
    var done = 0
    var writers: [GGUFWriter] = []
    do throws(EngineError) {
      for (_, path, kv, items) in files {
        writers.append(try GGUFWriter(path: path, metadata: kv, tensors: items.map(\.spec)))
      }
      for ((_, _, _, items), writer) in zip(files, writers) {
        for item in items {
          let before = done
          try checkpoint.withRawBytes(item.source.name) { (raw) throws(EngineError) in
            func write(_ bytes: UnsafeRawBufferPointer) throws(EngineError) {
              try GGUFExportStream.write(item.spec, from: item.source, raw: bytes, to: writer, threads: options.threads) {
                done = before + $0
                progress(done, total)
              }
            }
            if try rewrite?(item, raw, write) != true { try write(raw) }
          }
          try checkpoint.checkUnchanged()
        }
        try writer.finish()
      }
      for w in writers { try w.commit() }
    } catch {
      for w in writers { w.retract() }
      throw error
    }
    return zip(files, writers).map { file, writer in
      GGUFExportSummary.File(path: file.1, role: file.0, bytes: writer.fileBytes, tensors: file.3.count,
                             typeCounts: typeCounts(file.3.map(\.spec)))
    }
  }

  static func typeCounts(_ specs: [GGUFTensorSpec]) -> [String: Int] {
    Dictionary(specs.map { ($0.type.rawValue, 1) }, uniquingKeysWith: +)
  }
}
