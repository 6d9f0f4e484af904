import Engine
import Imaging
import Testing
@testable import Grounding

// An independent exact reference for the grid choice: the format's formulas taken literally
// (s, s^2, W*H*s^2) with reduced fractions, no shortcuts.

private struct Frac: Comparable {
  var n: Int128, d: Int128
  init(_ n: Int128, _ d: Int128) {
    var a = n, b = d
    while b != 0 { (a, b) = (b, a % b) }
    self.n = n / a; self.d = d / a
  }
  static func * (l: Frac, r: Frac) -> Frac { Frac(l.n * r.n, l.d * r.d) }
  static func - (l: Frac, r: Frac) -> Frac { Frac(l.n * r.d - r.n * l.d, l.d * r.d) }
  static func < (l: Frac, r: Frac) -> Bool { l.n * r.d < r.n * l.d }
  static func == (l: Frac, r: Frac) -> Bool { l.n == r.n && l.d == r.d }
  /// floor(x + 1/2)
  var roundedHalfUp: Int128 { (2 * n + d) / (2 * d) }
}

/// All best candidates (highest effective, then least wasted), in visiting order.
private func referenceBest(_ w: Int, _ h: Int, _ c: AnyResConfig) -> [(r: Int, c: Int, s: Frac)] {
  let t = Int128(c.tileSize), W = Int128(w), H = Int128(h)
  var scored: [(r: Int, c: Int, s: Frac, eff: Frac, waste: Frac)] = []
  for r in 1...c.maxRows {
    for col in 1...c.maxCols where r * col <= c.maxTiles {
      let s = min(Frac(Int128(col) * t, W), Frac(Int128(r) * t, H))
      let eff = min(Frac(W * H, 1) * s * s, Frac(W * H, 1))
      scored.append((r, col, s, eff, Frac(Int128(col) * t * Int128(r) * t, 1) - eff))
    }
  }
  let bestEff = scored.map(\.eff).max()!
  let top = scored.filter { $0.eff == bestEff }
  let leastWaste = top.map(\.waste).min()!
  return top.filter { $0.waste == leastWaste }.map { ($0.r, $0.c, $0.s) }
}

@Suite struct AnyResGridTests {
  @Test(arguments: [(28, 4, 4, 16), (378, 4, 4, 16), (378, 3, 2, 5), (56, 6, 1, 6), (14, 5, 5, 9)])
  func gridAndSizeMatchTheLiteralFormulas(tile: Int, rows: Int, cols: Int, tiles: Int) throws {
    let cfg = try AnyResConfig(tileSize: tile, maxRows: rows, maxCols: cols, maxTiles: tiles, thumbnail: true,
                               imageMean: [0, 0, 0], imageStd: [1, 1, 1], resample: .bicubic)
    var sizes: [Int] = Array(1...40) + [47, 55, 99, 100, 101, 170, 255, 378, 379, 540, 756, 757, 1080, 1133, 1920, 3840]
    if tile == 378 { sizes += [2160, 4321] }
    for w in sizes {
      for h in sizes {
        let best = referenceBest(w, h, cfg)
        // The third tie-break (first visited) is never needed: two grids that tie on effective
        // resolution and waste would have the same shape (see AnyResGrid.select).
        #expect(best.count == 1, "\(w)x\(h): \(best.count) candidates tie")
        let ref = best[0]
        let plan = try TilePlan(width: w, height: h, config: cfg)
        #expect(plan.grid == AnyResGrid(rows: ref.r, cols: ref.c), "\(w)x\(h)")
        #expect(plan.scale.numerator == ref.s.n && plan.scale.denominator == ref.s.d, "\(w)x\(h) scale")
        // resized = round-half-up(W*s, H*s) clamped to [1, canvas]
        let rw = min(max(Int((Frac(Int128(w), 1) * ref.s).roundedHalfUp), 1), ref.c * tile)
        let rh = min(max(Int((Frac(Int128(h), 1) * ref.s).roundedHalfUp), 1), ref.r * tile)
        #expect(plan.resizedWidth == rw && plan.resizedHeight == rh,
                "\(w)x\(h): \(plan.resizedWidth)x\(plan.resizedHeight) vs \(rw)x\(rh)")
      }
    }
  }

  @Test func mapsRoundTrip() throws {
    for (w, h, t) in [(1920, 1080, 378), (13, 7, 28), (80, 170, 56), (3000, 41, 378)] {
      let plan = try TilePlan(width: w, height: h, config: AnyResConfig(
        tileSize: t, maxRows: 4, maxCols: 4, maxTiles: 16, thumbnail: true,
        imageMean: [0, 0, 0], imageStd: [1, 1, 1], resample: .bicubic))
      for (x, y) in [(0.0, 0.0), (0.5, 0.5), (Double(w) / 3, Double(h) * 0.71), (Double(w), Double(h))] {
        let c = plan.canvasPoint(fromOriginal: ImagePoint(x: x, y: y))
        #expect(c.x >= 0 && c.x <= Double(plan.resizedWidth) + 1e-9 && c.y <= Double(plan.resizedHeight) + 1e-9)
        let o = plan.originalPoint(fromCanvas: c)
        #expect(abs(o.x - x) < 1e-9 && abs(o.y - y) < 1e-9, "\(w)x\(h) (\(x),\(y)) -> \(c) -> \(o)")
      }
      // The resized image's far corner is the original's far corner.
      let corner = plan.originalPoint(fromCanvas: ImagePoint(x: Double(plan.resizedWidth), y: Double(plan.resizedHeight)))
      #expect(corner == ImagePoint(x: Double(w), y: Double(h)))
    }
  }

  @Test func norm1000ToScreenWithMonitorOffset() throws {
    let plan = try TilePlan(width: 1920, height: 1080, config: AnyResConfig(
      tileSize: 378, maxRows: 4, maxCols: 4, maxTiles: 16, thumbnail: true,
      imageMean: [0, 0, 0], imageStd: [1, 1, 1], resample: .bicubic))
    let right = ScreenPoint(x: 1920, y: 0)
    #expect(try plan.screenPixel(norm1000X: 500, y: 500) == ScreenPoint(x: 960, y: 540))
    #expect(try plan.screenPixel(norm1000X: 500, y: 500, origin: right) == ScreenPoint(x: 2880, y: 540))
    #expect(try plan.screenPixel(norm1000X: 0, y: 999, origin: right) == ScreenPoint(x: 1920, y: 1078))
    // 1000 (and beyond) clamps onto the last pixel of the image, never onto the next monitor.
    #expect(try plan.screenPixel(norm1000X: 1000, y: 1000, origin: right) == ScreenPoint(x: 1920 + 1919, y: 1079))
    #expect(try plan.screenPixel(norm1000X: -5, y: 1e300) == ScreenPoint(x: 0, y: 1079))
  }
}

// MARK: - Token layout

@Suite struct ImageTokenLayoutTests {
  let ids = ImageTokenIds(imageStart: 90, imageEnd: 91, tileNewline: 92, imagePad: 93)

  private func plan(_ w: Int, _ h: Int, thumbnail: Bool = true) throws -> TilePlan {
    try TilePlan(width: w, height: h, config: AnyResConfig(
      tileSize: 28, maxRows: 4, maxCols: 4, maxTiles: 16, thumbnail: thumbnail,
      imageMean: [0, 0, 0], imageStd: [1, 1, 1], resample: .bicubic))
  }

  @Test func oneByOneGridEndsItsRowWithANewline() throws {
    let p = try plan(20, 20)
    #expect(p.grid == AnyResGrid(rows: 1, cols: 1) && !p.hasThumbnail)
    #expect(ImageTokenLayout.tokens(plan: p, tokensPerSide: 2, ids: ids) == [90, 93, 93, 93, 93, 92, 91])
  }

  @Test func thumbnailThenRows() throws {
    let p = try plan(56, 28)  // 1 row x 2 cols + thumbnail
    #expect(p.grid == AnyResGrid(rows: 1, cols: 2) && p.hasThumbnail)
    #expect(ImageTokenLayout.tokens(plan: p, tokensPerSide: 1, ids: ids) == [90, 93, 93, 93, 92, 91])
    let q = try plan(28, 56)  // 2 rows x 1 col + thumbnail
    #expect(ImageTokenLayout.tokens(plan: q, tokensPerSide: 1, ids: ids) == [90, 93, 93, 92, 93, 92, 91])
  }

  @Test func expandsEveryPlaceholderInOrder() throws {
    let a = try plan(20, 20), b = try plan(56, 28)
    let out = try ImageTokenLayout.expand([5, 93, 6, 93, 7], plans: [a, b], tokensPerSide: 1, ids: ids)
    #expect(out == [5, 90, 93, 92, 91, 6, 90, 93, 93, 93, 92, 91, 7])
    #expect(throws: GroundingError.imagePlaceholderMismatch(placeholders: 2, images: 1)) {
      try ImageTokenLayout.expand([93, 93], plans: [a], tokensPerSide: 1, ids: ids)
    }
  }
}
