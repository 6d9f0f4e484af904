import Foundation

// MARK: - tokenizer.json

extension Tokenizer {
  /// Reads a Hugging Face `tokenizer.json` (BPE model).
  /// - Throws: `EngineError.tokenizer` naming the file and what is wrong: malformed JSON, a model
  ///   other than BPE, an unsupported component type, a merge naming an absent token.
  public static func load(jsonAt url: URL) throws -> Tokenizer {
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw EngineError.tokenizer("cannot read \(url.path): \(error.localizedDescription)")
    }
    do {
      return try Tokenizer(jsonData: data)
    } catch let EngineError.tokenizer(message) {
      throw EngineError.tokenizer("\(url.lastPathComponent): \(message)")
    }
  }

  /// Reads the contents of a `tokenizer.json`.
  public convenience init(jsonData: Data) throws {
    let root: Any
    do {
      root = try JSONSerialization.jsonObject(with: jsonData)
    } catch {
      throw EngineError.tokenizer("malformed JSON: \(error.localizedDescription)")
    }
    guard let top = root as? [String: Any] else { throw EngineError.tokenizer("top level is not a JSON object") }
    guard let modelJSON = top["model"] as? [String: Any] else { throw EngineError.tokenizer("missing 'model'") }
    let normalizer = try Normalizer.fromJSON(top["normalizer"])
    self.init(model: try Self.bpeModel(modelJSON),
              addedTokens: try Self.addedTokens(top["added_tokens"]),
              normalizer: normalizer,
              preTokenizer: try PreTokenizer.fromJSON(top["pre_tokenizer"]),
              decoder: try TokenDecoder.fromJSON(top["decoder"]),
              postProcessor: try PostProcessor.fromJSON(top["post_processor"]))
  }

  // MARK: - Model

  private static func bpeModel(_ m: [String: Any]) throws -> BPEModel {
    let type = m["type"] as? String ?? (m["merges"] != nil ? "BPE" : "(none)")
    guard type == "BPE" else { throw EngineError.tokenizer("unsupported model type '\(type)' (only BPE is read)") }
    guard let vocabJSON = m["vocab"] as? [String: Any] else { throw EngineError.tokenizer("model: missing 'vocab'") }
    var vocab: [(String, Int)] = []
    vocab.reserveCapacity(vocabJSON.count)
    for (token, value) in vocabJSON {
      guard let id = value as? Int, id >= 0 else { throw EngineError.tokenizer("model vocab: token '\(token)' has id \(value)") }
      vocab.append((token, id))
    }
    guard let mergesJSON = m["merges"] as? [Any] else { throw EngineError.tokenizer("model: missing 'merges'") }
    var merges: [(String, String)] = []
    merges.reserveCapacity(mergesJSON.count)
    for (i, item) in mergesJSON.enumerated() {
      if let line = item as? String {
        // Old spelling "a b": tokens never hold a plain space in byte-level vocabularies.
        guard let space = line.firstIndex(of: " ") else { throw EngineError.tokenizer("merge \(i) '\(line)' has no space") }
        merges.append((String(line[..<space]), String(line[line.index(after: space)...])))
      } else if let pair = item as? [Any], pair.count == 2, let a = pair[0] as? String, let b = pair[1] as? String {
        merges.append((a, b))
      } else {
        throw EngineError.tokenizer("merge \(i) is neither \"a b\" nor [\"a\", \"b\"]: \(item)")
      }
    }
    for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
      if let s = m[key] as? String, !s.isEmpty { throw EngineError.tokenizer("model: \(key) '\(s)' is not supported") }
    }
    if let dropout = m["dropout"] as? Double, dropout > 0 {
      throw EngineError.tokenizer("model: dropout \(dropout) is not supported (inference needs determinism)")
    }
    return try BPEModel(entries: vocab, merges: merges, unkToken: m["unk_token"] as? String,
                        fuseUnk: m["fuse_unk"] as? Bool ?? false, byteFallback: m["byte_fallback"] as? Bool ?? false,
                        ignoreMerges: m["ignore_merges"] as? Bool ?? false)
  }

  // MARK: - Added tokens

  private static func addedTokens(_ value: Any?) throws -> [AddedToken] {
    guard let value, !(value is NSNull) else { return [] }
    guard let list = value as? [Any] else { throw EngineError.tokenizer("'added_tokens' is not a list") }
    return try list.enumerated().map { i, item in
      guard let d = item as? [String: Any], let id = d["id"] as? Int, let content = d["content"] as? String else {
        throw EngineError.tokenizer("added_tokens[\(i)]: needs 'id' and 'content'")
      }
      let special = d["special"] as? Bool ?? false
      return AddedToken(id: id, content: content, special: special, singleWord: d["single_word"] as? Bool ?? false,
                        lstrip: d["lstrip"] as? Bool ?? false, rstrip: d["rstrip"] as? Bool ?? false,
                        normalized: d["normalized"] as? Bool ?? !special)
    }
  }
}
