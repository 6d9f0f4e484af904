import Foundation

/// Typed reads of a JSON object from a request, each failure a 400 naming the field by its path
/// (`messages[1].content[0].image_url.url`).
struct JSONFields {
  let object: [String: Any]
  /// The path of this object, `""` at the top.
  let path: String

  /// Parses a request body that must be one JSON object.
  init(body: Data) throws(RequestError) {
    guard !body.isEmpty else { throw RequestError(400, "the request body is empty; a JSON object was expected") }
    // JSON on the wire is UTF-8 (RFC 8259); Foundation would also guess UTF-16 and UTF-32.
    if let offset = firstInvalidUTF8(body) {
      let byte = String(body[body.startIndex + offset], radix: 16, uppercase: true)
      throw RequestError(400, "the request body is not valid UTF-8: a malformed sequence at byte \(offset) (0x\(byte)); JSON must be UTF-8")
    }
    let parsed: Any
    do { parsed = try JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) } catch {
      // Foundation's own description is generic; the debug description says what and where.
      let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? error.localizedDescription
      throw RequestError(400, "the request body is not valid JSON: \(detail)")
    }
    guard let object = parsed as? [String: Any] else {
      throw RequestError(400, "the request body must be a JSON object")
    }
    self.init(object, path: "")
  }

  init(_ object: [String: Any], path: String) { self.object = object; self.path = path }

  func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

  func has(_ key: String) -> Bool { object[key] != nil && !(object[key] is NSNull) }

  func string(_ key: String) throws(RequestError) -> String? {
    guard has(key) else { return nil }
    guard let s = object[key] as? String else { throw .field(name(key), "must be a string") }
    return s
  }

  func requiredString(_ key: String) throws(RequestError) -> String {
    guard let s = try string(key) else { throw .field(name(key), "is required") }
    return s
  }

  func bool(_ key: String) throws(RequestError) -> Bool? {
    guard has(key) else { return nil }
    // NSNumber bridges both numbers and booleans: accept only the boolean literals.
    guard let n = object[key] as? NSNumber, isBoolean(n) else {
      throw .field(name(key), "must be true or false")
    }
    return n.boolValue
  }

  func double(_ key: String, in range: ClosedRange<Double>) throws(RequestError) -> Double? {
    guard has(key) else { return nil }
    guard let n = object[key] as? NSNumber, !isBoolean(n), n.doubleValue.isFinite else {
      throw .field(name(key), "must be a number")
    }
    guard range.contains(n.doubleValue) else {
      throw .field(name(key), "\(n.doubleValue) is outside \(range.lowerBound)...\(range.upperBound)")
    }
    return n.doubleValue
  }

  func int(_ key: String, in range: ClosedRange<Int>) throws(RequestError) -> Int? {
    guard let d = try double(key, in: Double(range.lowerBound)...Double(range.upperBound)) else { return nil }
    guard d.rounded() == d else { throw .field(name(key), "\(d) is not an integer") }
    // Double(Int.max) rounds up to 2^63, which passes the check above but is no Int.
    guard let n = Int(exactly: d), range.contains(n) else {
      throw .field(name(key), "\(d) is outside \(range.lowerBound)...\(range.upperBound)")
    }
    return n
  }

  func objectField(_ key: String) throws(RequestError) -> JSONFields? {
    guard has(key) else { return nil }
    guard let o = object[key] as? [String: Any] else { throw .field(name(key), "must be an object") }
    return JSONFields(o, path: name(key))
  }

  func array(_ key: String) throws(RequestError) -> [Any]? {
    guard has(key) else { return nil }
    guard let a = object[key] as? [Any] else { throw .field(name(key), "must be an array") }
    return a
  }

  /// Fails on keys outside `known`, so a misspelt option is not silently ignored.
  func rejectUnknown(_ known: Set<String>) throws(RequestError) {
    if let extra = object.keys.sorted().first(where: { !known.contains($0) }) {
      throw .field(name(extra), "is not a known field (known: \(known.sorted().joined(separator: ", ")))")
    }
  }
}

/// The offset of the first byte of `bytes` that is not part of a well-formed UTF-8 sequence.
func firstInvalidUTF8(_ bytes: Data) -> Int? {
  var parser = Unicode.UTF8.ForwardParser()
  var iterator = bytes.makeIterator()
  var offset = 0
  while true {
    switch parser.parseScalar(from: &iterator) {
    case let .valid(scalar): offset += scalar.count
    case .emptyInput: return nil
    case .error: return offset
    }
  }
}

/// JSON `true`/`false` parse as NSNumbers of Objective-C type `c` (char); numbers never do.
private func isBoolean(_ n: NSNumber) -> Bool { String(cString: n.objCType) == "c" }

// MARK: - Base64 images

enum ImagePayload {
  /// Decodes base64 (or a `data:image/png;base64,` URL) into bytes; `field` names it in errors.
  static func bytes(_ text: String, field: String) throws(RequestError) -> Data {
    var payload = Substring(text)
    if payload.hasPrefix("data:") {
      guard let comma = payload.firstIndex(of: ",") else { throw .field(field, "a data URL without ','") }
      let header = payload[payload.index(payload.startIndex, offsetBy: 5)..<comma].lowercased()
      guard header.hasSuffix(";base64") else { throw .field(field, "the data URL must be base64 (';base64,')") }
      let mime = header.dropLast(7)
      guard mime == "image/png" else {
        throw .field(field, "media type '\(mime)' is not supported; send image/png")
      }
      payload = payload[payload.index(after: comma)...]
    } else if payload.hasPrefix("http://") || payload.hasPrefix("https://") {
      throw .field(field, "remote image URLs are not fetched; send a data:image/png;base64 URL")
    }
    guard let data = Data(base64Encoded: String(payload), options: [.ignoreUnknownCharacters]), !data.isEmpty else {
      throw .field(field, "is not valid base64")
    }
    return data
  }
}
