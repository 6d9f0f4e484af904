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
  static func loadGGUF(_ url: URL, threads: Int) throws(EngineError) -> LoadedModel {
    let file = try GGUFFile(url: url)
    let arch = file.string("general.architecture") ?? "(none)"
    guard ggufArchitectures.contains(arch) else {
      throw .badConfig("\(url.path): GGUF architecture '\(arch)' is not one of \(ggufArchitectures)")
    }
    let network = try TextDecoderModel(llamaGGUF: file, threads: threads)
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
