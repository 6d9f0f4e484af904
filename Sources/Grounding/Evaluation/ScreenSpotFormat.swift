import Foundation

/// The three ScreenSpot annotation layouts this evaluator reads.
///
/// Facts (from the published evaluation scripts, not from the papers):
/// - **v1** (SeeClick, `screenspot_{mobile,desktop,web}.json`): a JSON list of
///   `{img_filename, bbox, instruction, data_type, data_source}` with `bbox = [x, y, w, h]` in image
///   pixels; SeeClick's `pretrain/screenspot_test.py` turns it into `[x, y, x + w, y + h]` and
///   counts a hit when `x1 <= px <= x2 && y1 <= py <= y2` (edges inclusive).
/// - **v2** (OS-Atlas' corrected set, `screenspot_{mobile,desktop,web}_v2.json`): the same fields
///   and the same `[x, y, w, h]` boxes as v1 (as independent evaluation scripts for those files
///   read them); it corrected labels, not the schema, and is scored like v1.
/// - **Pro** (ScreenSpot-Pro, one JSON list per application): `{img_filename, bbox, instruction,
///   ui_type, platform, application, group, img_size, ...}` with `bbox = [x1, y1, x2, y2]` in
///   pixels of an image of `img_size = [w, h]`; its `eval_screenspot_pro.py` also counts
///   `x1 <= px <= x2 && y1 <= py <= y2` as a hit.
public enum ScreenSpotFormat: String, Sendable, CaseIterable, CustomStringConvertible {
  case v1, v2, pro

  /// "v1", "v2", "Pro" (the spelling of the papers).
  public var description: String { self == .pro ? "Pro" : rawValue }

  /// Whether `bbox` is `[x, y, w, h]` (v1, v2) rather than `[x1, y1, x2, y2]` (Pro).
  public var boxIsOriginAndSize: Bool { self != .pro }

  /// The field holding "text" or "icon".
  public var uiTypeField: String { self == .pro ? "ui_type" : "data_type" }
  /// The field whose values the report breaks accuracy down by.
  public var sourceField: String { self == .pro ? "platform" : "data_source" }

  // MARK: - Detection

  /// Keys only Pro entries carry, and keys only v1/v2 entries carry.
  static let proKeys: Set<String> = ["ui_type", "platform", "img_size", "application", "group"]
  static let v1Keys: Set<String> = ["data_type", "data_source"]

  /// Detects the format of a parsed annotation list.
  ///
  /// Rule: gather the keys of every object entry. Any of `ui_type`, `platform`, `img_size`,
  /// `application`, `group` and none of `data_type`, `data_source` -> Pro; the reverse -> v1 or v2,
  /// which share one schema and one scoring, so the file name decides the label: v2 when the
  /// name (without extension) contains "v2", as ScreenSpot-v2's files do, else v1. Keys of both
  /// kinds, or of neither, cannot be decided: give the format explicitly.
  public static func detect(entries: [Any], fileName: String) throws(GroundingError) -> ScreenSpotFormat {
    var keys = Set<String>()
    for case let object as [String: Any] in entries { keys.formUnion(object.keys) }
    let pro = !keys.isDisjoint(with: proKeys), v1 = !keys.isDisjoint(with: v1Keys)
    switch (pro, v1) {
    case (true, false): return .pro
    case (false, true):
      let stem = (fileName as NSString).deletingPathExtension.lowercased()
      return stem.contains("v2") ? .v2 : .v1
    case (true, true):
      throw .annotationFile(path: fileName, reason: "entries carry both ScreenSpot-Pro fields (\(keys.intersection(proKeys).sorted().joined(separator: ", "))) and v1/v2 fields (\(keys.intersection(v1Keys).sorted().joined(separator: ", "))); give --format")
    case (false, false):
      throw .annotationFile(path: fileName, reason: "no entry has data_type/data_source (v1, v2) or ui_type/platform/img_size (Pro); give --format")
    }
  }
}
