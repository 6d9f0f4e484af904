// Grid choice and resized size of the format's AnyRes step, computed exactly: the format
// (docs: bluelm-vl-format, "Forward pass" 1) follows LLaVA-NeXT's `select_best_resolution`
// but with integers and rationals, so that every implementation picks the same grid.

/// A grid of tiles, `rows` x `cols`.
public struct AnyResGrid: Sendable, Hashable, Codable, CustomStringConvertible {
  public let rows: Int
  public let cols: Int
  public init(rows: Int, cols: Int) { self.rows = rows; self.cols = cols }
  public var tileCount: Int { rows * cols }
  public var description: String { "\(rows)x\(cols)" }
}

/// Largest image side accepted by the exact arithmetic (see `ExactFraction`).
let anyResMaxImageSide = 1 << 30

extension AnyResGrid {
  /// The grid the format picks for a `width` x `height` image.
  ///
  /// Candidates are every `r` x `c` with r <= max_rows, c <= max_cols, r*c <= max_tiles, visited
  /// rows outer (r = 1...max_rows), columns inner; with s = min(cT/W, rT/H), the one with the
  /// highest effective resolution min(W*H*s^2, W*H) wins, ties go to the least wasted canvas
  /// area (cT*rT - effective); a remaining tie would keep the first candidate visited, but none
  /// can occur: two grids with equal effective resolution and equal area have the same shape
  /// (a smaller grid with the same scale always exists otherwise). AnyResGridTests checks this
  /// by brute force, and the Python reference visits candidates in the same order.
  public static func select(width: Int, height: Int, config: AnyResConfig) throws(GroundingError) -> AnyResGrid {
    try checkImageSize(width, height)
    var best: (grid: AnyResGrid, effective: ExactFraction, area: Int)?
    for r in 1...config.maxRows {
      for c in 1...config.maxCols where r * c <= config.maxTiles {
        let eff = effectiveResolution(width: width, height: height,
                                      canvasWidth: c * config.tileSize, canvasHeight: r * config.tileSize)
        // With equal effective resolution, less waste is less canvas area.
        let area = r * c
        if let b = best, !(eff > b.effective || (eff == b.effective && area < b.area)) { continue }
        best = (AnyResGrid(rows: r, cols: c), eff, area)
      }
    }
    guard let best else {
      throw .invalidAnyResConfig(field: "max_tiles", value: "\(config.maxTiles) admits no grid")
    }
    return best.grid
  }

  /// min(W*H*s^2, W*H) with s = min(cw/W, ch/H), exactly.
  static func effectiveResolution(width w: Int, height h: Int, canvasWidth cw: Int, canvasHeight ch: Int) -> ExactFraction {
    let W = Int128(w), H = Int128(h), CW = Int128(cw), CH = Int128(ch)
    if widthLimits(width: w, height: h, canvasWidth: cw, canvasHeight: ch) {
      // s = cw/W: W*H*s^2 = H*cw^2/W, capped at W*H when s >= 1.
      return cw >= w ? ExactFraction(W * H, 1) : ExactFraction(H * CW * CW, W)
    }
    return ch >= h ? ExactFraction(W * H, 1) : ExactFraction(W * CH * CH, H)
  }

  /// Whether the canvas width limits the scale: cw/W <= ch/H, i.e. cw*H <= ch*W.
  static func widthLimits(width w: Int, height h: Int, canvasWidth cw: Int, canvasHeight ch: Int) -> Bool {
    Int128(cw) * Int128(h) <= Int128(ch) * Int128(w)
  }

  static func checkImageSize(_ w: Int, _ h: Int) throws(GroundingError) {
    guard w > 0, h > 0 else { throw .invalidImageSize(width: w, height: h) }
    guard w <= anyResMaxImageSide, h <= anyResMaxImageSide else { throw .imageTooLarge(width: w, height: h) }
  }
}

/// The size a `width` x `height` image is resized to so that it fits a `canvasWidth` x
/// `canvasHeight` canvas, keeping its aspect, rounding half up, exactly (the format's
/// formulas): if the width limits, new_w = cw and new_h = floor((2*H*cw + W) / (2*W)), else
/// new_h = ch and new_w = floor((2*W*ch + H) / (2*H)); each clamped to [1, canvas side].
func anyResFitSize(width w: Int, height h: Int, canvasWidth cw: Int, canvasHeight ch: Int) -> (width: Int, height: Int) {
  if AnyResGrid.widthLimits(width: w, height: h, canvasWidth: cw, canvasHeight: ch) {
    let nh = (2 * Int128(h) * Int128(cw) + Int128(w)) / (2 * Int128(w))
    return (cw, Int(min(max(nh, 1), Int128(ch))))
  }
  let nw = (2 * Int128(w) * Int128(ch) + Int128(h)) / (2 * Int128(h))
  return (Int(min(max(nw, 1), Int128(cw))), ch)
}
