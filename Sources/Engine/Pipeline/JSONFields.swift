import Foundation

/// A JSON object read field by field, each wrong or missing field named in the error: for the
/// configuration files of published checkpoints, whose layouts vary between versions.
struct JSONFields: Sendable {
  let members: [(key: String, value: StrictJSON)]
  /// Where the object came from ("config.json", "config.json vision_config", ...).
  let context: String

  init(members: [(key: String, value: StrictJSON)], context: String) {
    self.members = members
    self.context = context
  }

  /// Parses `data` as a JSON object.
  init(data: Data, context: String) throws(EngineError) {
    let parsed: StrictJSON
    do { parsed = try StrictJSONParser.parse([UInt8](data)) } catch {
      throw .badConfig("\(context) is not valid JSON: \(error.message)")
    }
    guard case let .object(members) = parsed else { throw .badConfig("\(context) is a JSON \(parsed.kindName), not an object") }
    self.init(members: members, context: context)
  }

  /// The value of `key` (the last one when repeated, as Python's json reads it); nil for null.
  func value(_ key: String) -> StrictJSON? {
    guard let v = members.last(where: { $0.key == key })?.value else { return nil }
    if case .null = v { return nil }
    return v
  }

  /// The nested object `key`, nil when absent or not an object.
  func object(_ key: String) -> JSONFields? {
    guard case let .object(m)? = value(key) else { return nil }
    return JSONFields(members: m, context: "\(context) \(key)")
  }

  private func wrong(_ key: String, _ v: StrictJSON, _ expected: String) -> EngineError {
    .badConfig("\(context): '\(key)' is a \(v.kindName), expected \(expected)")
  }

  func optionalInt(_ key: String) throws(EngineError) -> Int? {
    guard let v = value(key) else { return nil }
    if let i = v.intValue { return i }
    if case let .number(text) = v, let d = Double(text), let i = Int(exactly: d) { return i }  // 1e4, 2.0
    throw wrong(key, v, "an integer")
  }

  func int(_ key: String) throws(EngineError) -> Int {
    guard let v = try optionalInt(key) else { throw .missingConfigField("\(context) \(key)") }
    return v
  }

  func optionalDouble(_ key: String) throws(EngineError) -> Double? {
    guard let v = value(key) else { return nil }
    guard case let .number(text) = v, let d = Double(text), d.isFinite else { throw wrong(key, v, "a number") }
    return d
  }

  func optionalBool(_ key: String) throws(EngineError) -> Bool? {
    guard let v = value(key) else { return nil }
    guard case let .bool(b) = v else { throw wrong(key, v, "true or false") }
    return b
  }

  func optionalString(_ key: String) throws(EngineError) -> String? {
    guard let v = value(key) else { return nil }
    guard let s = v.stringValue else { throw wrong(key, v, "a string") }
    return s
  }

  func string(_ key: String) throws(EngineError) -> String {
    guard let v = try optionalString(key) else { throw .missingConfigField("\(context) \(key)") }
    return v
  }

  func optionalIntArray(_ key: String) throws(EngineError) -> [Int]? {
    guard let v = value(key) else { return nil }
    guard case let .array(items) = v else { throw wrong(key, v, "a list of integers") }
    var out: [Int] = []
    for item in items {
      guard let i = item.intValue else { throw wrong(key, v, "a list of integers") }
      out.append(i)
    }
    return out
  }

  /// An integer or a list of integers (`eos_token_id`), nil when absent.
  func optionalIntOrList(_ key: String) throws(EngineError) -> [Int]? {
    guard let v = value(key) else { return nil }
    if let i = v.intValue { return [i] }
    return try optionalIntArray(key)
  }
}

/// A field looked up in several objects in turn (e.g. `text_config`, then the top level): the
/// first object that has it answers, and a wrong type there is an error.
struct JSONLookup: Sendable {
  let objects: [JSONFields]
  init(_ objects: JSONFields?...) { self.objects = objects.compactMap { $0 } }

  private func first<T>(_ keys: [String], _ read: (JSONFields, String) throws(EngineError) -> T?) throws(EngineError) -> T? {
    for key in keys {
      for o in objects { if let v = try read(o, key) { return v } }
    }
    return nil
  }

  func int(_ keys: String...) throws(EngineError) -> Int? {
    try first(keys) { (o, k) throws(EngineError) in try o.optionalInt(k) }
  }
  func requiredInt(_ key: String) throws(EngineError) -> Int {
    guard let v = try int(key) else { throw .missingConfigField(key) }
    return v
  }
  func double(_ keys: String...) throws(EngineError) -> Double? {
    try first(keys) { (o, k) throws(EngineError) in try o.optionalDouble(k) }
  }
  func bool(_ keys: String...) throws(EngineError) -> Bool? {
    try first(keys) { (o, k) throws(EngineError) in try o.optionalBool(k) }
  }
  func intArray(_ keys: String...) throws(EngineError) -> [Int]? {
    try first(keys) { (o, k) throws(EngineError) in try o.optionalIntArray(k) }
  }
  func intOrList(_ keys: String...) throws(EngineError) -> [Int]? {
    try first(keys) { (o, k) throws(EngineError) in try o.optionalIntOrList(k) }
  }
}
