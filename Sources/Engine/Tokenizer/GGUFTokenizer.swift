// MARK: - Tokenizer from GGUF metadata
//
// llama.cpp's vocabulary keys (`tokenizer.ggml.*`, src/llama-vocab.cpp) onto the same stages a
// tokenizer.json gives: the token list (id = index) and merges make the BPE model; tokens typed
// control (3) or user-defined (4) become added tokens, matched in the raw text before BPE as
// llama.cpp's `tokenize(..., parse_special = true)` does; `tokenizer.ggml.pre` names the
// pre-tokenizer (`PreTokenizer.named`). Only byte-level BPE ("gpt2") is read.

extension Tokenizer {
  /// llama.cpp's `llama_token_type` values that are matched as whole tokens before BPE.
  private static let controlType = 3, userDefinedType = 4

  /// The tokenizer a GGUF file describes (`tokenizer.ggml.model` = "gpt2").
  /// - Throws: `EngineError.tokenizer` naming the missing key or the unsupported value.
  public static func gguf(_ file: GGUFFile) throws(EngineError) -> Tokenizer {
    let kind = file.string("tokenizer.ggml.model") ?? "(none)"
    guard kind == "gpt2" else {
      throw .tokenizer("\(file.path): tokenizer.ggml.model '\(kind)' is not supported (only gpt2, byte-level BPE)")
    }
    guard let tokens = file.stringArray("tokenizer.ggml.tokens"), !tokens.isEmpty else {
      throw .tokenizer("\(file.path): tokenizer.ggml.tokens is missing or empty")
    }
    guard let mergeLines = file.stringArray("tokenizer.ggml.merges") else {
      throw .tokenizer("\(file.path): tokenizer.ggml.merges is missing")
    }
    var merges: [(String, String)] = []
    merges.reserveCapacity(mergeLines.count)
    for line in mergeLines {
      // "left right": byte-level tokens hold no spaces (a space is spelled Ġ).
      guard let space = line.firstIndex(of: " ") else {
        throw .tokenizer("\(file.path): merge '\(line)' is not two tokens separated by a space")
      }
      merges.append((String(line[..<space]), String(line[line.index(after: space)...])))
    }
    let types = file.intArray("tokenizer.ggml.token_type") ?? []
    guard types.isEmpty || types.count == tokens.count else {
      throw .tokenizer("\(file.path): \(types.count) token types for \(tokens.count) tokens")
    }
    let added = types.indices.compactMap { id -> AddedToken? in
      guard types[id] == controlType || types[id] == userDefinedType else { return nil }
      return AddedToken(id: id, content: tokens[id], special: types[id] == controlType, normalized: false)
    }
    let pre = file.string("tokenizer.ggml.pre") ?? "default"
    do {
      let model = try BPEModel(tokens: tokens, merges: merges, ignoreMerges: ["llama-bpe", "llama3"].contains(pre))
      return Tokenizer(model: model, addedTokens: added, preTokenizer: try PreTokenizer.named(pre), decoder: .byteLevel)
    } catch let e as EngineError {
      throw e
    } catch {
      throw .tokenizer("\(file.path): \(error.localizedDescription)")
    }
  }
}
