import Foundation

// MARK: - The tokenizer keys of a language-model GGUF, as llama.cpp's converter writes them
//
// For a BPE (GPT-2 style) tokenizer.json: `TextModel._set_vocab_gpt2` / `get_vocab_base` in
// llama.cpp's conversion/base.py and `SpecialVocab` in gguf-py's vocab.py. The pre-tokenizer
// name is "qwen2" for every Qwen-VL family (the converter recognises it by a hash of the
// vocabulary's output on a probe text; every published Qwen2/2.5/3-VL tokenizer gives "qwen2").
// Not reproduced: the converter's decode(encode(t)) round trip of non-normalized added tokens
// (an identity for Qwen's special tokens), and TemplateProcessing post-processors beyond the
// single-sequence form (Qwen's is ByteLevel).

struct GGUFExportVocab {
  /// Metadata in the converter's order: model, pre, tokens, token_type, merges, special token
  /// ids, add_*_token flags, chat template.
  var metadata: [(String, GGUFValue)] = []

  /// gguf-py's token types.
  enum TokenType: Int32 { case normal = 1, control = 3, userDefined = 4, unused = 5 }

  /// Reads tokenizer.json, tokenizer_config.json, chat_template.{jinja,json} and config.json of
  /// `folder`; `vocabSize` is config's vocab_size (the token list is padded to it).
  init(folder: URL, config: JSONFields, vocabSize: Int) throws(EngineError) {
    let tokenizerURL = folder.appendingPathComponent("tokenizer.json")
    let tokenizer = try Self.object(tokenizerURL, required: true) ?? JSONFields(members: [], context: "tokenizer.json")
    guard let model = tokenizer.object("model"), case let .object(vocabMembers)? = model.value("vocab") else {
      throw .tokenizer("\(tokenizerURL.path): no model.vocab object (a BPE tokenizer.json is needed)")
    }
    let type = try model.optionalString("type") ?? "BPE"
    guard type == "BPE" else { throw .tokenizer("\(tokenizerURL.path): model type '\(type)' is not BPE") }

    // id -> text over model.vocab and added_tokens (added tokens win, as transformers' vocab).
    var text: [Int: String] = [:]
    for (token, value) in vocabMembers {
      guard let id = value.intValue, id >= 0 else { throw .tokenizer("\(tokenizerURL.path): vocab entry '\(token)' has id \(value)") }
      text[id] = token
    }
    struct Added { let content: String; let special: Bool; let normalized: Bool }
    var added: [Int: Added] = [:]
    var addedInOrder: [(id: Int, content: String)] = []
    if case let .array(items)? = tokenizer.value("added_tokens") {
      for (i, item) in items.enumerated() {
        guard case let .object(m) = item else { throw .tokenizer("\(tokenizerURL.path): added_tokens[\(i)] is not an object") }
        let f = JSONFields(members: m, context: "tokenizer.json added_tokens[\(i)]")
        let id = try f.int("id"), content = try f.string("content")
        guard id >= 0 else { throw .tokenizer("\(tokenizerURL.path): added_tokens[\(i)] has id \(id)") }
        let special = try f.optionalBool("special") ?? false
        added[id] = Added(content: content, special: special, normalized: try f.optionalBool("normalized") ?? !special)
        addedInOrder.append((id, content))
        text[id] = content
      }
    }
    if let top = text.keys.max(), top >= vocabSize {
      throw .tokenizer("\(tokenizerURL.path): token id \(top) is not below config.json's vocab_size \(vocabSize)")
    }
    var tokens: [GGUFValue] = [], types: [GGUFValue] = []
    tokens.reserveCapacity(vocabSize)
    types.reserveCapacity(vocabSize)
    for id in 0..<vocabSize {
      guard let t = text[id] else {
        tokens.append(.string("[PAD\(id)]")); types.append(.int32(TokenType.unused.rawValue))
        continue
      }
      var token = t, kind = TokenType.normal
      if let a = added[id] {
        if a.special || Self.looksSpecial(t) {
          kind = .control
        } else {
          kind = .userDefined
          token = t.replacingOccurrences(of: "\u{2581}", with: " ")
        }
      }
      tokens.append(.string(token)); types.append(.int32(kind.rawValue))
    }
    metadata = [("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string("qwen2")),
                ("tokenizer.ggml.tokens", .array(.string, tokens)), ("tokenizer.ggml.token_type", .array(.int32, types))]
    let merges = try Self.merges(model, tokenizerURL)
    if !merges.isEmpty { metadata.append(("tokenizer.ggml.merges", .array(.string, merges.map(GGUFValue.string)))) }
    let tokenizerConfig = try Self.object(folder.appendingPathComponent("tokenizer_config.json"), required: false)
    try special(tokenizer: tokenizer, tokenizerConfig: tokenizerConfig, config: config, added: addedInOrder, folder: folder)
  }

  /// `does_token_look_special` of the converter.
  static func looksSpecial(_ t: String) -> Bool {
    ["<pad>", "<mask>", "<2mass>", "[@BOS@]"].contains(t) || (t.hasPrefix("<|") && t.hasSuffix("|>"))
      || (t.hasPrefix("<\u{FF5C}") && t.hasSuffix("\u{FF5C}>")) || (t.hasPrefix("<unused") && t.hasSuffix(">"))
  }

  /// model.merges as "a b" lines; pairs have their spaces written as U+0120 (gguf-py's spelling).
  private static func merges(_ model: JSONFields, _ url: URL) throws(EngineError) -> [String] {
    guard case let .array(items)? = model.value("merges") else { return [] }
    var out: [String] = []
    out.reserveCapacity(items.count)
    for (i, item) in items.enumerated() {
      if let line = item.stringValue {
        out.append(line)
      } else if case let .array(pair) = item, pair.count == 2, let a = pair[0].stringValue, let b = pair[1].stringValue {
        out.append(a.replacingOccurrences(of: " ", with: "\u{120}") + " " + b.replacingOccurrences(of: " ", with: "\u{120}"))
      } else {
        throw .tokenizer("\(url.path): merges[\(i)] is neither \"a b\" nor [\"a\", \"b\"]")
      }
    }
    return out
  }

  // MARK: - Special tokens (gguf-py SpecialVocab)

  private static let specialTypes = ["bos", "eos", "unk", "sep", "pad", "cls", "mask"]
  /// gguf-py's key per type; "cls" has no writer method there, so it is never written.
  private static let idKeys = ["bos": "tokenizer.ggml.bos_token_id", "eos": "tokenizer.ggml.eos_token_id",
                               "unk": "tokenizer.ggml.unknown_token_id", "sep": "tokenizer.ggml.seperator_token_id",
                               "pad": "tokenizer.ggml.padding_token_id", "mask": "tokenizer.ggml.mask_token_id"]
  private static let addKeys = ["bos": "tokenizer.ggml.add_bos_token", "eos": "tokenizer.ggml.add_eos_token",
                                "sep": "tokenizer.ggml.add_sep_token"]

  private mutating func special(tokenizer: JSONFields, tokenizerConfig: JSONFields?, config: JSONFields,
                                added: [(id: Int, content: String)], folder: URL) throws(EngineError) {
    var ids: [(String, Int)] = [], add: [(String, Bool)] = []
    func setID(_ type: String, _ id: Int?) {
      guard let id, id >= 0, !ids.contains(where: { $0.0 == type }) else { return }
      ids.append((type, id))
    }
    func setAdd(_ type: String, _ value: Bool, overwrite: Bool) {
      if let i = add.firstIndex(where: { $0.0 == type }) {
        if overwrite { add[i].1 = value }
      } else {
        add.append((type, value))
      }
    }
    /// The text of a `*_token` entry: a string or {content: ...}.
    func tokenText(_ key: String) -> String? {
      guard let v = tokenizerConfig?.value(key) else { return nil }
      if let s = v.stringValue { return s.isEmpty ? nil : s }
      if case let .object(m) = v { return JSONFields(members: m, context: key).value("content")?.stringValue }
      return nil
    }
    let bos = tokenText("bos_token") ?? tokenText("cls_token"), eos = tokenText("eos_token") ?? tokenText("sep_token")
    if let post = tokenizer.object("post_processor") {
      var processors: [JSONFields] = [post]
      if case let .array(items)? = post.value("processors") {
        processors = items.compactMap { if case let .object(m) = $0 { JSONFields(members: m, context: "post_processor") } else { nil } }
      }
      for p in processors {
        switch try p.optionalString("type") {
        case "ByteLevel"?:
          setAdd("bos", false, overwrite: false); setAdd("eos", false, overwrite: false)
        case "RobertaProcessing"?:
          for t in ["bos", "eos", "sep"] { setAdd(t, true, overwrite: true) }
        case "TemplateProcessing"?:
          // The single-sequence template: a leading special token is BOS, a trailing one EOS.
          guard case let .array(single)? = p.value("single"), single.count > 1 else { continue }
          func specialID(_ v: StrictJSON) -> String? {
            guard case let .object(m) = v, case let .object(s)? = JSONFields(members: m, context: "").value("SpecialToken") else { return nil }
            return JSONFields(members: s, context: "").value("id")?.stringValue
          }
          if let first = single.first.flatMap(specialID) { setAdd("bos", first == bos, overwrite: true) }
          if let last = single.last.flatMap(specialID) { setAdd("eos", last == eos, overwrite: true) }
        default: continue
        }
      }
    }
    var template: String? = nil
    if let tc = tokenizerConfig {
      for type in Self.specialTypes {
        if let b = try? tc.optionalBool("add_\(type)_token") { setAdd(type, b, overwrite: false) }
        let text = type == "bos" ? bos : type == "eos" ? eos : tokenText("\(type)_token")
        if let text { setID(type, added.first(where: { $0.content == text })?.id) }
      }
      template = try tc.optionalString("chat_template")
      if template == nil { template = try Self.chatTemplateFile(folder) }
    }
    let text = config.object("text_config")
    for type in Self.specialTypes {
      setID(type, config.value("\(type)_token_id")?.intValue ?? text?.value("\(type)_token_id")?.intValue)
    }
    for (type, id) in ids {
      if let key = Self.idKeys[type] { metadata.append((key, .uint32(UInt32(truncatingIfNeeded: id)))) }
    }
    for (type, value) in add {
      if let key = Self.addKeys[type] { metadata.append((key, .bool(value))) }
    }
    if let template, !template.isEmpty { metadata.append(("tokenizer.chat_template", .string(template))) }
  }

  /// chat_template.jinja, else chat_template.json's `chat_template` string.
  private static func chatTemplateFile(_ folder: URL) throws(EngineError) -> String? {
    if let text = try? String(contentsOf: folder.appendingPathComponent("chat_template.jinja"), encoding: .utf8) { return text }
    return try object(folder.appendingPathComponent("chat_template.json"), required: false)?.optionalString("chat_template")
  }

  /// A JSON object file, nil when absent and not required.
  static func object(_ url: URL, required: Bool) throws(EngineError) -> JSONFields? {
    guard let data = FileManager.default.contents(atPath: url.path) else {
      if required { throw .tokenizer("\(url.path) is missing (a Qwen-VL folder needs it)") }
      return nil
    }
    return try JSONFields(data: data, context: url.lastPathComponent)
  }
}
