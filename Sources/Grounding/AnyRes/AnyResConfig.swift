import Engine
import Imaging

/// The `anyres` object of a `bluelm_vl` config.json: how an image is cut into tiles.
///
/// Every field is required; decoding checks ranges and throws `GroundingError.invalidAnyResConfig`
/// naming the field.
public struct AnyResConfig: Codable, Sendable, Equatable {
  /// Side of a square tile in pixels (the vision tower's `image_size`).
  public var tileSize: Int
  public var maxRows: Int
  public var maxCols: Int
  /// Most tiles in a grid (not counting the thumbnail).
  public var maxTiles: Int
  /// Whether a multi-tile grid is preceded by a whole-image thumbnail tile.
  public var thumbnail: Bool
  /// Per-channel normalization: (x/255 - mean) / std, RGB order.
  public var imageMean: [Float]
  public var imageStd: [Float]
  public var resample: ResampleFilter

  enum CodingKeys: String, CodingKey {
    case tileSize = "tile_size", maxRows = "max_rows", maxCols = "max_cols", maxTiles = "max_tiles"
    case thumbnail, imageMean = "image_mean", imageStd = "image_std", resample
  }


  public init(tileSize: Int, maxRows: Int, maxCols: Int, maxTiles: Int, thumbnail: Bool,
              imageMean: [Float], imageStd: [Float], resample: ResampleFilter) throws(GroundingError) {
    self.tileSize = tileSize; self.maxRows = maxRows; self.maxCols = maxCols; self.maxTiles = maxTiles
    self.thumbnail = thumbnail; self.imageMean = imageMean; self.imageStd = imageStd; self.resample = resample
    try validate()
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    try self.init(tileSize: c.decode(Int.self, forKey: .tileSize), maxRows: c.decode(Int.self, forKey: .maxRows),
                  maxCols: c.decode(Int.self, forKey: .maxCols), maxTiles: c.decode(Int.self, forKey: .maxTiles),
                  thumbnail: c.decode(Bool.self, forKey: .thumbnail),
                  imageMean: c.decode([Float].self, forKey: .imageMean),
                  imageStd: c.decode([Float].self, forKey: .imageStd),
                  resample: c.decode(ResampleFilter.self, forKey: .resample))
  }

  /// Checks every field's range.
  public func validate() throws(GroundingError) {
    func check(_ ok: Bool, _ field: String, _ value: Any) throws(GroundingError) {
      if !ok { throw .invalidAnyResConfig(field: field, value: "\(value)") }
    }
    try check(tileSize > 0 && tileSize <= 1 << 16, "tile_size", tileSize)
    try check(maxRows > 0 && maxRows <= 1 << 10, "max_rows", maxRows)
    try check(maxCols > 0 && maxCols <= 1 << 10, "max_cols", maxCols)
    try check(maxTiles > 0, "max_tiles", maxTiles)
    try check(imageMean.count == 3 && imageMean.allSatisfy(\.isFinite), "image_mean", imageMean)
    try check(imageStd.count == 3 && imageStd.allSatisfy { $0.isFinite && $0 != 0 }, "image_std", imageStd)
  }
}

extension AnyResConfig {
  /// The processor's settings from a checkpoint's config (`BlueLMVLConfig.anyres`), validated.
  public init(_ settings: AnyResSettings) throws(GroundingError) {
    guard let filter = ResampleFilter(rawValue: settings.resample) else {
      throw .invalidAnyResConfig(field: "resample", value: settings.resample)
    }
    try self.init(tileSize: settings.tileSize, maxRows: settings.maxRows, maxCols: settings.maxCols,
                  maxTiles: settings.maxTiles, thumbnail: settings.thumbnail, imageMean: settings.imageMean,
                  imageStd: settings.imageStd, resample: filter)
  }
}
