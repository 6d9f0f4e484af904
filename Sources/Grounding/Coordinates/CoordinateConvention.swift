import Imaging
// How grounding models write a location, and how it becomes a screen pixel.

/// The coordinate space a model's answers are written in.
public enum CoordinateConvention: String, Sendable, Codable, CaseIterable {
  /// Integers in [0, 1000) relative to the original image: pixel x = x/1000 * W.
  case norm1000
  /// Absolute pixels in the resized image the model was fed (its size must be known).
  case resizedPixels
  /// Fractions of the original image in [0, 1].
  case unitInterval

  /// The values an answer in this convention may hold; `resizedSize` is needed for `resizedPixels`.
  public func validRange(resizedWidth: Int? = nil, resizedHeight: Int? = nil) -> ClosedRange<Double> {
    switch self {
    case .norm1000: 0...1000
    case .unitInterval: 0...1
    case .resizedPixels: 0...Double(max(resizedWidth ?? Int(Int32.max), resizedHeight ?? Int(Int32.max)))
    }
  }
}

/// One row of the convention table: a model family and the convention its answers use.
public struct CoordinateConventionEntry: Sendable, Hashable {
  /// The `model_type` (or common name) of the family, lower case.
  public let family: String
  public let convention: CoordinateConvention
  /// Where the convention is documented.
  public let source: String
}

extension CoordinateConvention {
  /// The known families, one entry each.
  public static let table: [CoordinateConventionEntry] = [
    .init(family: "bluelm_vl", convention: .norm1000, source: "this project's format (config.json \"coordinates\")"),
    .init(family: "qwen2_vl", convention: .norm1000, source: "Qwen2-VL: boxes in [0, 1000) of the image"),
    .init(family: "ui_tars", convention: .norm1000, source: "UI-TARS 1.0 action space, start_box in [0, 1000)"),
    .init(family: "qwen2_5_vl", convention: .resizedPixels, source: "Qwen2.5-VL: absolute pixels of the resized input"),
    .init(family: "qwen3_vl", convention: .norm1000, source: "Qwen3-VL: 0...1000 of the image, as Qwen2-VL"),
    .init(family: "seeclick", convention: .unitInterval, source: "SeeClick: (x, y) fractions of the screenshot"),
    .init(family: "showui", convention: .unitInterval, source: "ShowUI: [x, y] fractions of the screenshot"),
  ]

  /// The names the command line uses (`--convention`, `--json`), in the order `--help` lists them.
  public var optionName: String {
    switch self {
    case .norm1000: "norm1000"
    case .resizedPixels: "resized-pixels"
    case .unitInterval: "unit"
    }
  }

  /// A convention by its option name or raw value, case-insensitively (`resized-pixels`,
  /// `resizedPixels`, `unit`, `unitInterval`, `norm1000`).
  public init?(optionName: String) {
    let key = optionName.lowercased()
    guard let match = Self.allCases.first(where: { $0.optionName == key || $0.rawValue.lowercased() == key }) else { return nil }
    self = match
  }

  /// The convention of a model family, matched case-insensitively with `-` read as `_`.
  public static func forFamily(_ family: String) -> CoordinateConvention? {
    let key = family.lowercased().replacingOccurrences(of: "-", with: "_")
    return table.first { $0.family == key }?.convention
  }
}

// MARK: - Mapping to pixels

extension CoordinateConvention {
  /// The continuous point in the original `imageWidth` x `imageHeight` image that model
  /// coordinates (`x`, `y`) name. `resizedWidth`/`resizedHeight` (the size of the image the
  /// model saw) are required by `resizedPixels` only.
  public func imagePoint(x: Double, y: Double, imageWidth: Int, imageHeight: Int,
                         resizedWidth: Int? = nil, resizedHeight: Int? = nil) throws(GroundingError) -> ImagePoint {
    guard imageWidth > 0, imageHeight > 0 else { throw .invalidImageSize(width: imageWidth, height: imageHeight) }
    guard x.isFinite, y.isFinite else { throw .invalidArgument("coordinate (\(x), \(y)) is not finite") }
    let w = Double(imageWidth), h = Double(imageHeight)
    switch self {
    case .norm1000:
      return ImagePoint(x: x * w / 1000, y: y * h / 1000)
    case .unitInterval:
      return ImagePoint(x: x * w, y: y * h)
    case .resizedPixels:
      guard let rw = resizedWidth, let rh = resizedHeight, rw > 0, rh > 0 else {
        throw .invalidArgument("resizedPixels coordinates need the resized image size, got \(String(describing: resizedWidth))x\(String(describing: resizedHeight))")
      }
      return ImagePoint(x: x * w / Double(rw), y: y * h / Double(rh))
    }
  }

  /// The screen pixel that model coordinates (`x`, `y`) name: the image pixel containing the
  /// point, clamped into the image, plus `origin` (the captured monitor's top-left on the screen).
  public func screenPixel(x: Double, y: Double, imageWidth: Int, imageHeight: Int,
                          resizedWidth: Int? = nil, resizedHeight: Int? = nil,
                          origin: ScreenPoint = .zero) throws(GroundingError) -> ScreenPoint {
    let p = try imagePoint(x: x, y: y, imageWidth: imageWidth, imageHeight: imageHeight,
                           resizedWidth: resizedWidth, resizedHeight: resizedHeight)
    return ScreenPoint(x: origin.x + clampedPixel(p.x, imageWidth), y: origin.y + clampedPixel(p.y, imageHeight))
  }
}

/// floor(v) clamped to [0, size - 1]; `v` is finite and |v| stays far below Int's range here
/// because it is compared before conversion.
func clampedPixel(_ v: Double, _ size: Int) -> Int {
  if v < 0 { return 0 }
  if v >= Double(size - 1) { return size - 1 }
  return Int(v.rounded(.down))
}
