/// In-place drawing on ``RGBImage`` for annotated screenshots and tile-grid pictures.
///
/// Every primitive is clipped to the image: any coordinates, including ones far outside or
/// near `Int.max`, are accepted and draw only the visible part. Sizes that are zero or
/// negative draw nothing. Shapes are pixel-exact and documented so that tests can state them.
extension RGBImage {
  // MARK: - Rectangles

  /// Fills `rect` with `color`.
  public mutating func fill(_ rect: PixelRect, color: RGB) {
    fillSpan(x0: rect.x, x1: saturatingAdd(rect.x, rect.width),
             y0: rect.y, y1: saturatingAdd(rect.y, rect.height), color: color)
  }

  /// Draws the outline of `rect`: bands `thickness` pixels wide along its four edges, inside it.
  public mutating func stroke(_ rect: PixelRect, color: RGB, thickness: Int = 1) {
    guard thickness > 0, rect.width > 0, rect.height > 0 else { return }
    let x1 = saturatingAdd(rect.x, rect.width), y1 = saturatingAdd(rect.y, rect.height)
    let t = min(thickness, rect.width, rect.height)
    fillSpan(x0: rect.x, x1: x1, y0: rect.y, y1: saturatingAdd(rect.y, t), color: color)  // top
    fillSpan(x0: rect.x, x1: x1, y0: saturatingAdd(y1, -t), y1: y1, color: color)  // bottom
    fillSpan(x0: rect.x, x1: saturatingAdd(rect.x, t), y0: rect.y, y1: y1, color: color)  // left
    fillSpan(x0: saturatingAdd(x1, -t), x1: x1, y0: rect.y, y1: y1, color: color)  // right
  }

  // MARK: - Lines

  /// Draws the segment from (x0, y0) to (x1, y1), both ends included, with Bresenham's
  /// algorithm and a square pen of side `thickness` centred on each point (for even
  /// thicknesses the extra pixel goes right and down).
  ///
  /// Segments whose coordinates all lie within ±2^22 are drawn exactly; longer ones are first
  /// clipped, in floating point, to the image grown by the pen, so their pixels may differ by
  /// one step from the exact line.
  public mutating func drawLine(x0: Int, y0: Int, x1: Int, y1: Int, color: RGB, thickness: Int = 1) {
    guard thickness > 0 else { return }
    let limit = 1 << 22
    var (ax, ay, bx, by) = (x0, y0, x1, y1)
    if [ax, ay, bx, by].contains(where: { $0 < -limit || $0 > limit }) {
      guard let clipped = clipSegment(ax, ay, bx, by, margin: min(thickness, limit) + 1) else { return }
      (ax, ay, bx, by) = clipped
    }
    let lo = (min(thickness, limit) - 1) / 2, t = min(thickness, limit)
    let dx = abs(bx - ax), dy = -abs(by - ay)
    let sx = ax < bx ? 1 : -1, sy = ay < by ? 1 : -1
    var err = dx + dy
    var (x, y) = (ax, ay)
    while true {
      if t == 1 {
        if x >= 0, y >= 0, x < width, y < height { self[x, y] = color }
      } else {
        fillSpan(x0: x - lo, x1: x - lo + t, y0: y - lo, y1: y - lo + t, color: color)
      }
      if x == bx && y == by { break }
      let e2 = 2 * err
      if e2 >= dy { err += dy; x += sx }
      if e2 <= dx { err += dx; y += sy }
    }
  }

  /// Liang–Barsky clipping of a segment to the image grown by `margin`; nil when it misses.
  private func clipSegment(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, margin: Int) -> (Int, Int, Int, Int)? {
    let (fx0, fy0) = (Double(x0), Double(y0))
    let (dx, dy) = (Double(x1) - fx0, Double(y1) - fy0)
    let m = Double(margin)
    var (t0, t1) = (0.0, 1.0)
    // p·t <= q for each of the four box edges.
    let edges = [(-dx, fx0 + m), (dx, Double(width) - 1 + m - fx0),
                 (-dy, fy0 + m), (dy, Double(height) - 1 + m - fy0)]
    for (p, q) in edges {
      if p == 0 {
        if q < 0 { return nil }
      } else if p < 0 {
        t0 = max(t0, q / p)
      } else {
        t1 = min(t1, q / p)
      }
    }
    guard t0 <= t1 else { return nil }
    // Inside the grown box up to rounding; clamped so that the conversion cannot trap.
    func pixel(_ v: Double) -> Int { Int(min(max(v.rounded(), -0x1p52), 0x1p52)) }
    return (pixel(fx0 + t0 * dx), pixel(fy0 + t0 * dy), pixel(fx0 + t1 * dx), pixel(fy0 + t1 * dy))
  }

  // MARK: - Circles

  /// Draws a disc (`thickness` nil) or a ring centred on (centerX, centerY).
  ///
  /// A pixel at offset (dx, dy) belongs to the disc when `dx² + dy² ≤ (radius + ½)²`, and to the
  /// ring when also `dx² + dy² > (radius − thickness + ½)²`; a ring of thickness 1 is the
  /// classic midpoint circle band. Radius 0 is the centre pixel; radii are capped at 2^29.
  public mutating func drawCircle(centerX cx: Int, centerY cy: Int, radius: Int, color: RGB, thickness: Int? = nil) {
    guard radius >= 0, (thickness ?? 1) > 0 else { return }
    let r = min(radius, 1 << 29)
    // Compared as 4·d² against (2r+1)²: integers only.
    let outer = (2 * r + 1) * (2 * r + 1)
    let innerRadius = r - min(thickness ?? (r + 1), r + 1)
    let inner = innerRadius >= 0 ? (2 * innerRadius + 1) * (2 * innerRadius + 1) : -1
    let xs = max(saturatingAdd(cx, -r), 0), xe = min(saturatingAdd(cx, r), width - 1)
    let ys = max(saturatingAdd(cy, -r), 0), ye = min(saturatingAdd(cy, r), height - 1)
    guard xs <= xe, ys <= ye else { return }
    for y in ys...ye {
      let dy = y - cy
      for x in xs...xe {
        let dx = x - cx
        let d4 = 4 * (dx * dx + dy * dy)
        if d4 <= outer && d4 > inner { self[x, y] = color }
      }
    }
  }

  // MARK: - Markers

  /// Draws a crosshair on (x, y): a horizontal and a vertical bar reaching `armLength` pixels
  /// out from the centre, `thickness` wide. With `gap` > 0 the bars leave the pixels within
  /// `gap` of the centre untouched, so the marked pixel stays visible.
  public mutating func drawCrosshair(x: Int, y: Int, armLength: Int, color: RGB, thickness: Int = 1, gap: Int = 0) {
    guard armLength > 0, thickness > 0, gap >= 0, gap < armLength else { return }
    let lo = (thickness - 1) / 2
    let (ty0, ty1) = (saturatingAdd(y, -lo), saturatingAdd(saturatingAdd(y, -lo), thickness))
    let (tx0, tx1) = (saturatingAdd(x, -lo), saturatingAdd(saturatingAdd(x, -lo), thickness))
    // Each bar is two arms: [c − armLength, c − gap) and (c + gap, c + armLength].
    let near = gap == 0 ? 0 : gap + 1
    fillSpan(x0: saturatingAdd(x, -armLength), x1: saturatingAdd(x, 1 - near), y0: ty0, y1: ty1, color: color)
    fillSpan(x0: saturatingAdd(x, near), x1: saturatingAdd(saturatingAdd(x, armLength), 1), y0: ty0, y1: ty1, color: color)
    fillSpan(x0: tx0, x1: tx1, y0: saturatingAdd(y, -armLength), y1: saturatingAdd(y, 1 - near), color: color)
    fillSpan(x0: tx0, x1: tx1, y0: saturatingAdd(y, near), y1: saturatingAdd(saturatingAdd(y, armLength), 1), color: color)
  }

  // MARK: - Clipping

  /// Fills the half-open box [x0, x1) × [y0, y1) intersected with the image.
  mutating func fillSpan(x0: Int, x1: Int, y0: Int, y1: Int, color: RGB) {
    let xs = max(x0, 0), xe = min(x1, width), ys = max(y0, 0), ye = min(y1, height)
    guard xs < xe, ys < ye else { return }
    let w = width
    pixels.withUnsafeMutableBufferPointer { p in
      for y in ys..<ye {
        for x in xs..<xe {
          let i = (y * w + x) * 3
          p[i] = color.r; p[i + 1] = color.g; p[i + 2] = color.b
        }
      }
    }
  }
}

/// a + b, pinned to Int.min / Int.max instead of trapping.
@inline(__always) func saturatingAdd(_ a: Int, _ b: Int) -> Int {
  let (sum, overflow) = a.addingReportingOverflow(b)
  return overflow ? (b > 0 ? Int.max : Int.min) : sum
}
