import Imaging

// Pictures for people: what the model sees (the tile grid) and what it answered (point, box).

extension TilePlan {
  /// The original image with the tile grid drawn where the tiles fall on it, each tile labelled
  /// `r<row>c<col>`. Padding on the canvas lies outside the image and is not drawn.
  public func gridPicture(of image: RGBImage) -> RGBImage {
    var out = image
    let line = RGB(255, 0, 170)
    let thickness = max(1, min(image.width, image.height) / 400)
    func x(_ canvasX: Int) -> Int { Int(originalPoint(fromCanvas: ImagePoint(x: Double(canvasX), y: 0)).x.rounded()) }
    func y(_ canvasY: Int) -> Int { Int(originalPoint(fromCanvas: ImagePoint(x: 0, y: Double(canvasY))).y.rounded()) }
    for c in 0...grid.cols {
      let px = min(x(c * tileSize), image.width - 1)
      out.drawLine(x0: px, y0: 0, x1: px, y1: min(y(grid.rows * tileSize), image.height - 1), color: line, thickness: thickness)
    }
    for r in 0...grid.rows {
      let py = min(y(r * tileSize), image.height - 1)
      out.drawLine(x0: 0, y0: py, x1: min(x(grid.cols * tileSize), image.width - 1), y1: py, color: line, thickness: thickness)
    }
    let scale = max(1, min(image.width, image.height) / 300)
    for r in 0..<grid.rows {
      for c in 0..<grid.cols {
        out.drawText("r\(r)c\(c)", x: x(c * tileSize) + 3 * scale, y: y(r * tileSize) + 3 * scale,
                     color: RGB(255, 255, 255), scale: scale, background: line)
      }
    }
    return out
  }
}

extension RGBImage {
  /// Marks a grounded point (a ring with a crosshair) and, when given, the box.
  public func annotated(point: ScreenPoint?, box: PixelRect?, origin: ScreenPoint = .zero) -> RGBImage {
    var out = self
    let accent = RGB(255, 40, 40)
    let size = max(6, min(width, height) / 60)
    if let box {
      out.stroke(PixelRect(x: box.x - origin.x, y: box.y - origin.y, width: box.width, height: box.height),
                 color: RGB(40, 200, 40), thickness: max(2, size / 4))
    }
    if let point {
      let x = point.x - origin.x, y = point.y - origin.y
      out.drawCircle(centerX: x, centerY: y, radius: size, color: accent, thickness: max(2, size / 4))
      out.drawCrosshair(x: x, y: y, armLength: size * 2, color: accent, thickness: 1, gap: size / 2)
    }
    return out
  }
}
