import Imaging

/// The vision input of one image: its plan and the normalized tiles.
public struct AnyResTiles: Sendable {
  public let plan: TilePlan
  /// (plan.tileCount, 3, T, T) channels first: the thumbnail first (if any), then the grid's
  /// tiles row-major. Padding (outside the resized image) is exactly 0.0.
  public let pixels: [Float]
}

/// Turns an image into AnyRes tiles (format, "Forward pass" step 1).
public struct AnyResProcessor: Sendable {
  public let config: AnyResConfig

  public init(config: AnyResConfig) { self.config = config }

  /// Plans, resizes (Pillow's filter, `config.resample`) and normalizes `image`.
  public func process(image: RGBImage) throws(GroundingError) -> AnyResTiles {
    let plan = try TilePlan(width: image.width, height: image.height, config: config)
    let t = tileSize
    // out (tileCount, 3, T, T), zero = padding
    var out = [Float](repeating: 0, count: plan.tileCount * 3 * t * t)
    let lut = normalizationTable()
    var first = 0
    if let tw = plan.thumbnailWidth, let th = plan.thumbnailHeight {
      let thumb = try resize(image, tw, th)
      write(thumb, tileRow: 0, tileCol: 0, toTile: 0, of: &out, lut)
      first = 1
    }
    let resized = try resize(image, plan.resizedWidth, plan.resizedHeight)
    for r in 0..<plan.grid.rows {
      for c in 0..<plan.grid.cols {
        write(resized, tileRow: r, tileCol: c, toTile: first + r * plan.grid.cols + c, of: &out, lut)
      }
    }
    return AnyResTiles(plan: plan, pixels: out)
  }

  private var tileSize: Int { config.tileSize }

  private func resize(_ image: RGBImage, _ w: Int, _ h: Int) throws(GroundingError) -> RGBImage {
    do { return try image.resized(width: w, height: h, filter: config.resample) } catch { throw .imaging(error) }
  }

  /// lut (3, 256): (v/255 - mean[c]) / std[c] in Float, the same operations in the same order
  /// as the reference's float32 numpy expression, so results match bit for bit.
  private func normalizationTable() -> [Float] {
    var lut = [Float](repeating: 0, count: 3 * 256)
    for c in 0..<3 {
      for v in 0..<256 { lut[c * 256 + v] = (Float(v) / 255 - config.imageMean[c]) / config.imageStd[c] }
    }
    return lut
  }

  /// Copies the part of `image` (placed at the canvas' top-left) under canvas tile (tileRow,
  /// tileCol) into tile `index` of `out`, normalized; the rest of the tile stays 0.
  private func write(_ image: RGBImage, tileRow: Int, tileCol: Int, toTile index: Int,
                     of out: inout [Float], _ lut: [Float]) {
    let t = tileSize
    let x0 = tileCol * t, y0 = tileRow * t
    let w = min(t, image.width - x0), h = min(t, image.height - y0)
    guard w > 0, h > 0 else { return }
    image.pixels.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        let base = index * 3 * t * t
        for y in 0..<h {
          let row = ((y0 + y) * image.width + x0) * 3
          for c in 0..<3 {
            let d = base + (c * t + y) * t
            for x in 0..<w { dst[d + x] = lut[c * 256 + Int(src[row + 3 * x + c])] }
          }
        }
      }
    }
  }
}
