import Foundation

// MARK: - Post-processor

/// What `encode(_:addSpecialTokens: true)` adds around a single sequence; tokenizers'
/// `processors` module. Our checkpoints' chat templates add their own markers, so encoding
/// adds nothing unless asked.
public indirect enum PostProcessor: Sendable {
  /// ByteLevel only trims offsets: the ids are unchanged.
  case byteLevel
  /// The `single` template: fixed ids around the sequence (`$A`).
  case template(prefix: [Int], suffix: [Int])
  case sequence([PostProcessor])

  /// The ids of one sequence with the special tokens added.
  public func process(_ ids: [Int]) -> [Int] {
    switch self {
    case .byteLevel: ids
    case let .template(prefix, suffix): prefix + ids + suffix
    case let .sequence(list): list.reduce(ids) { $1.process($0) }
    }
  }

  // MARK: - JSON

  /// Reads a `post_processor` object of tokenizer.json; `null` gives nil.
  static func fromJSON(_ value: Any?) throws -> PostProcessor? {
    guard let value, !(value is NSNull) else { return nil }
    guard let d = value as? [String: Any], let type = d["type"] as? String else {
      throw EngineError.tokenizer("post_processor: expected an object with a 'type'")
    }
    switch type {
    case "ByteLevel": return .byteLevel
    case "TemplateProcessing": return try template(d)
    case "BertProcessing", "RobertaProcessing":
      // {"cls": ["<s>", 0], "sep": ["</s>", 2]}: cls A sep.
      guard let cls = d["cls"] as? [Any], let sep = d["sep"] as? [Any], cls.count == 2, sep.count == 2,
            let clsId = cls[1] as? Int, let sepId = sep[1] as? Int else {
        throw EngineError.tokenizer("post_processor \(type): 'cls' and 'sep' must be [token, id]")
      }
      return .template(prefix: [clsId], suffix: [sepId])
    case "Sequence":
      guard let list = d["processors"] as? [Any] else {
        throw EngineError.tokenizer("post_processor Sequence: missing 'processors'")
      }
      return .sequence(try list.compactMap { try fromJSON($0) })
    default:
      throw EngineError.tokenizer("unsupported post_processor type '\(type)'")
    }
  }

  /// TemplateProcessing's `single`: items `{"SpecialToken": {"id": name}}` (ids looked up in
  /// `special_tokens[name].ids`) and one `{"Sequence": {"id": "A"}}`.
  private static func template(_ d: [String: Any]) throws -> PostProcessor {
    guard let single = d["single"] as? [Any] else {
      throw EngineError.tokenizer("post_processor TemplateProcessing: missing 'single'")
    }
    let specials = d["special_tokens"] as? [String: Any] ?? [:]
    var prefix: [Int] = [], suffix: [Int] = []
    var seenSequence = false
    for item in single {
      guard let item = item as? [String: Any] else {
        throw EngineError.tokenizer("post_processor TemplateProcessing: template item is not an object")
      }
      if item["Sequence"] != nil {
        seenSequence = true
      } else if let st = item["SpecialToken"] as? [String: Any], let name = st["id"] as? String {
        guard let entry = specials[name] as? [String: Any], let ids = entry["ids"] as? [Int] else {
          throw EngineError.tokenizer("post_processor TemplateProcessing: special token '\(name)' has no ids")
        }
        if seenSequence { suffix += ids } else { prefix += ids }
      } else {
        throw EngineError.tokenizer("post_processor TemplateProcessing: unknown template item \(item.keys.sorted())")
      }
    }
    return .template(prefix: prefix, suffix: suffix)
  }
}
