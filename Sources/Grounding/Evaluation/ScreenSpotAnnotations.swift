import Foundation

/// A ScreenSpot annotation file (v1, v2 or Pro), read entry by entry: a bad entry becomes an
/// ``ScreenSpotEntry/invalid(key:uiType:source:reason:)`` that the evaluator counts as skipped,
/// while a file that is not a JSON list at all is an error.
public struct ScreenSpotAnnotations: Sendable {
  public let path: String
  public let format: ScreenSpotFormat
  /// One entry per element of the JSON list, in file order (`entries[i].key.index == i`).
  public let entries: [ScreenSpotEntry]

  /// Reads `path`; `format` forces a layout instead of detecting it (``ScreenSpotFormat/detect(entries:fileName:)``);
  /// `groupBy` names the string field the report breaks accuracy down by (default: the format's
  /// ``ScreenSpotFormat/sourceField``; e.g. Pro's `group` or `application`).
  public static func read(path: String, format: ScreenSpotFormat? = nil, groupBy: String? = nil) throws(GroundingError) -> ScreenSpotAnnotations {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
      throw .annotationFile(path: path, reason: error.localizedDescription)
    }
    return try parse(data, path: path, format: format, groupBy: groupBy)
  }

  /// Parses annotation JSON; `path` names the file in messages and (for v1/v2) in detection.
  public static func parse(_ data: Data, path: String, format: ScreenSpotFormat? = nil,
                           groupBy: String? = nil) throws(GroundingError) -> ScreenSpotAnnotations {
    if data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
      throw .annotationFile(path: path, reason: "the file is empty")
    }
    let object: Any
    do { object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) } catch {
      throw .annotationFile(path: path, reason: "not valid JSON (\(error.localizedDescription))")
    }
    guard let list = object as? [Any] else {
      throw .annotationFile(path: path, reason: "expected a JSON list of samples, found \(jsonKind(object))")
    }
    let chosen: ScreenSpotFormat
    if let format { chosen = format } else if list.isEmpty { chosen = .v1 } else {
      chosen = try ScreenSpotFormat.detect(entries: list, fileName: (path as NSString).lastPathComponent)
    }
    let entries = list.enumerated().map { entry(index: $0.offset, $0.element, format: chosen, sourceField: groupBy ?? chosen.sourceField)
    }
    return ScreenSpotAnnotations(path: path, format: chosen, entries: entries)
  }

  // MARK: - One entry

  static func entry(index: Int, _ element: Any, format: ScreenSpotFormat, sourceField: String) -> ScreenSpotEntry {
    guard let o = element as? [String: Any] else {
      return .invalid(key: SampleKey(index: index, imageFilename: "", instruction: ""), uiType: "", source: "",
                      reason: "expected an object, found \(jsonKind(element))")
    }
    let file = o["img_filename"] as? String ?? "", instruction = o["instruction"] as? String ?? ""
    let uiType = o[format.uiTypeField] as? String ?? "", source = o[sourceField] as? String ?? ""
    let key = SampleKey(index: index, imageFilename: file, instruction: instruction)
    func invalid(_ reason: String) -> ScreenSpotEntry { .invalid(key: key, uiType: uiType, source: source, reason: reason) }

    for field in ["img_filename", "instruction", format.uiTypeField, sourceField] {
      guard let value = o[field] else { return invalid("missing field \(field)") }
      guard let s = value as? String, !s.isEmpty else { return invalid("\(field) must be a non-empty string, found \(jsonKind(value))") }
    }
    guard uiType == "text" || uiType == "icon" else {
      return invalid("\(format.uiTypeField) must be \"text\" or \"icon\", found \"\(uiType)\"")
    }
    guard let rawBox = o["bbox"] else { return invalid("missing field bbox") }
    guard let v = numbers(rawBox), v.count == 4 else {
      return invalid("bbox must be 4 numbers, found \(jsonText(rawBox))")
    }
    let box = format.boxIsOriginAndSize
      ? EvaluationBox(x1: v[0], y1: v[1], x2: v[0] + v[2], y2: v[1] + v[3])
      : EvaluationBox(x1: v[0], y1: v[1], x2: v[2], y2: v[3])
    guard box.x1 <= box.x2, box.y1 <= box.y2 else {
      return invalid("bbox \(jsonText(rawBox)) has a negative extent (read as \(format.boxIsOriginAndSize ? "[x, y, w, h]" : "[x1, y1, x2, y2]"))")
    }
    var declared: [Int]? = nil
    if format == .pro {
      guard let rawSize = o["img_size"] else { return invalid("missing field img_size") }
      guard let s = numbers(rawSize), s.count == 2, s.allSatisfy({ $0 >= 1 && $0 == $0.rounded() && $0 < 1e9 }) else {
        return invalid("img_size must be 2 positive integers, found \(jsonText(rawSize))")
      }
      declared = s.map { Int($0) }
    }
    return .sample(ScreenSpotSample(index: index, imageFilename: file, instruction: instruction, box: box,
                                    uiType: uiType, source: source, declaredSize: declared))
  }

  // MARK: - JSON helpers

  /// The values of a JSON list of finite numbers (booleans are not numbers here).
  static func numbers(_ value: Any) -> [Double]? {
    guard let list = value as? [Any] else { return nil }
    var out: [Double] = []
    for item in list {
      guard let n = item as? NSNumber, !isBool(n), n.doubleValue.isFinite else { return nil }
      out.append(n.doubleValue)
    }
    return out
  }

  static func isBool(_ n: NSNumber) -> Bool {
    // Foundation parses JSON true/false into NSNumbers of Objective-C type "c" (char); numbers
    // in JSON text come out as "i"/"q" (integers) or "d" (doubles).
    String(cString: n.objCType) == "c"
  }

  static func jsonKind(_ value: Any) -> String {
    switch value {
    case is [Any]: "a list"
    case is [String: Any]: "an object"
    case is String: "a string"
    case is NSNull: "null"
    case is NSNumber: "a number"
    default: "\(type(of: value))"
    }
  }

  static func jsonText(_ value: Any) -> String {
    guard JSONSerialization.isValidJSONObject([value]),
          let data = try? JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys, .withoutEscapingSlashes])
    else { return "\(value)" }
    return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
  }
}
