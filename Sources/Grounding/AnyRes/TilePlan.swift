import Imaging
/// How one image is cut into tiles by AnyRes: the chosen grid, the size the image is resized
/// to, the thumbnail, and the maps between original-image, canvas and screen coordinates.
///
/// The canvas is `cols*T` x `rows*T`; the resized image sits at its top-left, the rest is padding.
public struct TilePlan: Sendable, Hashable {
  /// Original image size in pixels.
  public let imageWidth: Int
  public let imageHeight: Int
  /// Tile side T in pixels.
  public let tileSize: Int
  public let grid: AnyResGrid
  /// Size of the resized image placed on the canvas.
  public let resizedWidth: Int
  public let resizedHeight: Int
  /// The grid's scale s = min(cT/W, rT/H) before rounding (the resized size rounds W*s, H*s).
  public let scale: ExactFraction
  /// Size of the thumbnail image (placed at the top-left of its own tile), nil without one.
  public let thumbnailWidth: Int?
  public let thumbnailHeight: Int?

  /// Plans `width` x `height` under `config`, exactly as the format prescribes.
  public init(width: Int, height: Int, config: AnyResConfig) throws(GroundingError) {
    let grid = try AnyResGrid.select(width: width, height: height, config: config)
    let t = config.tileSize
    let cw = grid.cols * t, ch = grid.rows * t
    let fit = anyResFitSize(width: width, height: height, canvasWidth: cw, canvasHeight: ch)
    imageWidth = width; imageHeight = height; tileSize = t; self.grid = grid
    resizedWidth = fit.width; resizedHeight = fit.height
    scale = AnyResGrid.widthLimits(width: width, height: height, canvasWidth: cw, canvasHeight: ch)
      ? ExactFraction(Int128(cw), Int128(width)) : ExactFraction(Int128(ch), Int128(height))
    if config.thumbnail && grid.tileCount > 1 {
      let thumb = anyResFitSize(width: width, height: height, canvasWidth: t, canvasHeight: t)
      thumbnailWidth = thumb.width; thumbnailHeight = thumb.height
    } else {
      thumbnailWidth = nil; thumbnailHeight = nil
    }
  }

  public var canvasWidth: Int { grid.cols * tileSize }
  public var canvasHeight: Int { grid.rows * tileSize }
  public var hasThumbnail: Bool { thumbnailWidth != nil }
  /// Tiles fed to the vision tower: the thumbnail (if any) plus rows*cols.
  public var tileCount: Int { grid.tileCount + (hasThumbnail ? 1 : 0) }

  // MARK: - Coordinate maps

  /// The original-image point under canvas point `p`, through the resize actually applied
  /// (W / resized width per axis, which differs from 1/s by the rounding of the resized size).
  /// Points on the padding map outside the image.
  public func originalPoint(fromCanvas p: ImagePoint) -> ImagePoint {
    ImagePoint(x: p.x * Double(imageWidth) / Double(resizedWidth),
               y: p.y * Double(imageHeight) / Double(resizedHeight))
  }

  /// The canvas point over original-image point `p`; the inverse of `originalPoint(fromCanvas:)`.
  public func canvasPoint(fromOriginal p: ImagePoint) -> ImagePoint {
    ImagePoint(x: p.x * Double(resizedWidth) / Double(imageWidth),
               y: p.y * Double(resizedHeight) / Double(imageHeight))
  }

  /// The screen pixel named by a `norm1000` answer (x, y in [0, 1000) of the original image):
  /// pixel floor(x/1000 * W), clamped into the image, plus the monitor's `origin`.
  public func screenPixel(norm1000X x: Double, y: Double, origin: ScreenPoint = .zero) throws(GroundingError) -> ScreenPoint {
    try CoordinateConvention.norm1000.screenPixel(x: x, y: y, imageWidth: imageWidth, imageHeight: imageHeight,
                                                  origin: origin)
  }
}
