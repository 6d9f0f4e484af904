import Foundation

// MARK: - A GGUF file as a LoadedModel
//
// One file carries everything: hyperparameters and tensors (`TextDecoderModel(llamaGGUF:)`),
// the vocabulary (`Tokenizer.gguf`), the chat template (`tokenizer.chat_template`, recognised
// by its markers) and the end-of-sequence ids.

extension ModelLoader {
  /// Architectures a GGUF file may declare in `general.architecture`.
  static let ggufArchitectures = ["llama"]

  /// Loads a GGUF text model (`llama`): thinking uses `<think>` tags, as for models without
  /// markers of their own.
  /// - Throws: errors naming the file and the unsupported architecture, key or template.
  static func loadGGUF(_ url: URL, options: LoadOptions, threads: Int) throws(EngineError) -> LoadedModel {
    let file = try GGUFFile(url: url)
    let arch = file.string("general.architecture") ?? "(none)"
    // A bluelm_vl pair's LM is a plain llama / qwen2 file: the mmproj's projector type decides.
    if let mmproj = options.mmproj, arch != "clip", try projectorType(mmproj) == blueLMVLProjectorType {
      return try loadBlueLMVLGGUF(model: url, mmproj: URL(fileURLWithPath: mmproj), options: options, threads: threads)
    }
    if qwenVLGGUFArchitectures.contains(arch) {
      guard let mmproj = options.mmproj else {
        throw .invalidArgument("\(url.path) is a \(arch) language model: give its vision part with --mmproj MMPROJ.gguf (or a folder holding both files)")
      }
      return try loadQwenVLGGUF(model: url, mmproj: URL(fileURLWithPath: mmproj), options: options, threads: threads)
    }
    if arch == "clip" {
      throw .invalidArgument("\(url.path) is an mmproj file (the vision part); give the language-model GGUF with --model and this one with --mmproj")
    }
    guard ggufArchitectures.contains(arch) else {
      throw .malformedWeights(file: url.path, reason: "GGUF architecture '\(arch)' is not one of \(ggufArchitectures + qwenVLGGUFArchitectures.sorted())")
    }
    if let mmproj = options.mmproj {
      let projector = try projectorType(mmproj) ?? "(not an mmproj file)"
      throw .invalidArgument("\(url.path) is a \(arch) text model and \(mmproj) has projector type '\(projector)'; --mmproj goes with qwen2vl / qwen3vl language models, or with a llama / qwen2 model when the projector is \(blueLMVLProjectorType)")
    }
    guard options.minPixels == nil, options.maxPixels == nil else {
      throw .invalidArgument("--min-pixels/--max-pixels apply to Qwen-VL models; \(url.path) is a \(arch) text model")
    }
    let network = try TextDecoderModel(llamaGGUF: file, storage: options.ggufStorage, threads: threads)
    let tokenizer = try Tokenizer.gguf(file)
    let template: ChatTemplate
    if let jinja = file.string("tokenizer.chat_template") {
      guard let recognised = ChatTemplate.recognise(jinja: jinja) else {
        throw .badConfig("\(url.path): tokenizer.chat_template is not a template this build recognises (ChatML)")
      }
      template = recognised
    } else {
      // A base model: the prompt as it is.
      template = ChatTemplate(user: "{content}", assistant: "")
    }
    return LoadedModel(
      family: arch, path: url.path, network: network, tokenizer: tokenizer, template: template,
      thinkingMarkers: .thinkTags, eosIds: try eosIds(file, tokenizer: tokenizer, vocabulary: network.vocabularySize),
      vision: nil)
  }

  /// `tokenizer.ggml.eos_token_id` and `eot_token_id`, and `<|endoftext|>` when the vocabulary
  /// has it (SmolLM2 ends turns with `<|im_end|>`, documents with `<|endoftext|>`).
  static func eosIds(_ file: GGUFFile, tokenizer: Tokenizer, vocabulary: Int) throws(EngineError) -> Set<Int> {
    var ids = Set<Int>()
    for key in ["tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id"] {
      guard let id = file.int(key) else { continue }
      guard id >= 0, id < vocabulary else {
        throw .badConfig("\(file.path): \(key) \(id) is outside the vocabulary 0..<\(vocabulary)")
      }
      ids.insert(id)
    }
    if let id = tokenizer.tokenId(for: "<|endoftext|>") { ids.insert(id) }
    guard !ids.isEmpty else { throw .badConfig("\(file.path): no end-of-sequence token (tokenizer.ggml.eos_token_id)") }
    return ids
  }
}

// MARK: - A folder holding a GGUF pair

/// The two files of a GGUF pair found in one folder: the mmproj is the file whose
/// `general.architecture` is `clip`; the language model is the other one.
struct GGUFPairFolder {
  let model: URL
  let mmproj: URL

  /// The pair in `folder`, nil when the folder holds no .gguf file.
  /// - Throws: `invalidArgument` naming the files when the folder holds GGUF files but not
  ///   exactly one language model and one mmproj.
  static func find(_ folder: URL) throws(EngineError) -> GGUFPairFolder? {
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
      .filter { $0.lowercased().hasSuffix(".gguf") }.sorted()
    guard !names.isEmpty else { return nil }
    var models: [URL] = [], projectors: [URL] = []
    for name in names {
      let url = folder.appendingPathComponent(name)
      let file = try GGUFFile(url: url)
      if file.string("general.architecture") == "clip" { projectors.append(url) } else { models.append(url) }
    }
    guard models.count == 1, projectors.count == 1 else {
      throw .invalidArgument("\(folder.path) holds \(models.count) language-model GGUF files (\(models.map(\.lastPathComponent))) and \(projectors.count) mmproj files (\(projectors.map(\.lastPathComponent))); a pair folder holds one of each (or give --model FILE --mmproj FILE)")
    }
    return GGUFPairFolder(model: models[0], mmproj: projectors[0])
  }
}
