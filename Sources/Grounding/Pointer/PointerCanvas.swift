import Imaging

// MARK: - The pointer head's grid: tile tokens on the AnyRes canvas
//
// The head scores the tiles' tokens in the format's order (tiles row by row, each tile's h x h
// tokens row-major; the thumbnail is left out). On the canvas, token (i, j) of tile (r, c) sits at
// token row r*h + i, column c*h + j, so the canvas is (rows*h) x (cols*h) tokens and a region may
// cross tile borders. A token covers `cell` = patch x 2 canvas pixels a side (its 2x2 patches),
// cut at its tile's edge (only an odd patch grid leaves a last, half-padded token narrower).

/// A token's place on the canvas grid (token rows and columns, not pixels).
public struct CanvasToken: Sendable, Hashable, Comparable, CustomStringConvertible {
  public var row: Int
  public var col: Int
  public init(row: Int, col: Int) { self.row = row; self.col = col }
  /// Row-major order.
  public static func < (a: CanvasToken, b: CanvasToken) -> Bool { (a.row, a.col) < (b.row, b.col) }
  public var description: String { "(\(row), \(col))" }
}

/// A rectangle of canvas pixels, [x0, x1) x [y0, y1).
public struct CanvasBox: Sendable, Hashable {
  public var x0: Int, y0: Int, x1: Int, y1: Int
  public init(x0: Int, y0: Int, x1: Int, y1: Int) { self.x0 = x0; self.y0 = y0; self.x1 = x1; self.y1 = y1 }
}

/// The canvas grid of one image's tile tokens.
public struct PointerCanvas: Sendable, Hashable {
  public let tileRows: Int
  public let tileCols: Int
  /// h: tokens per tile side.
  public let tokensPerSide: Int
  /// T: tile side in canvas pixels.
  public let tileSize: Int
  /// Canvas pixels per token side (patch size x the adapter's downsampling, 2).
  public let cell: Int
  /// The resized image at the canvas' top-left; the rest is padding.
  public let resizedWidth: Int
  public let resizedHeight: Int

  public init(tileRows: Int, tileCols: Int, tokensPerSide: Int, tileSize: Int, cell: Int,
              resizedWidth: Int, resizedHeight: Int) throws(GroundingError) {
    let sizes = [("tile rows", tileRows), ("tile columns", tileCols), ("tokens per side", tokensPerSide),
                 ("tile size", tileSize), ("token cell", cell), ("resized width", resizedWidth),
                 ("resized height", resizedHeight)]
    if let bad = sizes.first(where: { $0.1 <= 0 }) { throw .invalidArgument("pointer canvas: \(bad.0) must be positive, got \(bad.1)") }
    self.tileRows = tileRows; self.tileCols = tileCols; self.tokensPerSide = tokensPerSide
    self.tileSize = tileSize; self.cell = cell; self.resizedWidth = resizedWidth; self.resizedHeight = resizedHeight
  }

  /// The canvas of `plan`, whose tiles give `tokensPerSide` tokens a side from patches of
  /// `patchSize` pixels (2x2 downsampling).
  public init(plan: TilePlan, tokensPerSide: Int, patchSize: Int) throws(GroundingError) {
    try self.init(tileRows: plan.grid.rows, tileCols: plan.grid.cols, tokensPerSide: tokensPerSide,
                  tileSize: plan.tileSize, cell: 2 * patchSize, resizedWidth: plan.resizedWidth,
                  resizedHeight: plan.resizedHeight)
  }

  /// Token rows and columns of the canvas.
  public var rows: Int { tileRows * tokensPerSide }
  public var cols: Int { tileCols * tokensPerSide }
  /// Tile tokens the head scores: rows * cols.
  public var tokenCount: Int { rows * cols }

  /// The canvas place of the k-th tile token in the format's order.
  public func position(ofToken k: Int) -> CanvasToken {
    let h = tokensPerSide, perTile = h * h
    let tile = k / perTile, within = k % perTile
    return CanvasToken(row: (tile / tileCols) * h + within / h, col: (tile % tileCols) * h + within % h)
  }

  /// The format-order index of the token at `t`; the inverse of `position(ofToken:)`.
  public func index(of t: CanvasToken) -> Int {
    let h = tokensPerSide
    return ((t.row / h) * tileCols + t.col / h) * h * h + (t.row % h) * h + t.col % h
  }

  /// The canvas pixels token `t` covers: a cell, cut at its tile's right and bottom edges.
  public func extent(of t: CanvasToken) -> CanvasBox {
    let h = tokensPerSide
    let tileX = (t.col / h) * tileSize, tileY = (t.row / h) * tileSize
    let x0 = tileX + (t.col % h) * cell, y0 = tileY + (t.row % h) * cell
    return CanvasBox(x0: x0, y0: y0, x1: min(x0 + cell, tileX + tileSize), y1: min(y0 + cell, tileY + tileSize))
  }

  /// Whether `t` lies wholly on the padding (right of or below the resized image).
  public func isPadding(_ t: CanvasToken) -> Bool {
    let e = extent(of: t)
    return e.x0 >= resizedWidth || e.y0 >= resizedHeight
  }
}

// MARK: - The point rule

/// A group of kept tokens that touch (up, down, left, right) on the canvas.
public struct PointerRegion: Sendable, Equatable {
  /// Its tokens, row-major.
  public var tokens: [CanvasToken]
  /// The score-weighted mean of the tokens' centres, in canvas pixels.
  public var point: ImagePoint
  /// The bounding box of the tokens' cells, in canvas pixels.
  public var box: CanvasBox
  /// The summed softmax mass of its tokens (0...1): the region's score.
  public var score: Double
  /// The mean score of its tokens, by which regions rank.
  public var meanScore: Double
}

extension PointerCanvas {
  /// Tokens scoring at least this fraction of the highest (non-padding) score are kept.
  public static let keepFraction = 0.3

  /// Every region of the kept tokens, best first: the highest mean score, then the higher sum,
  /// then the one whose first token comes first row-major.
  ///
  /// `scores` are the head's softmax scores in the format's token order (`tokenCount` of them).
  /// Padding tokens take no part: the highest score and the kept set are taken over the tokens
  /// on the image, so a region never holds padding.
  /// - Throws: `invalidArgument` when the count is wrong or a score is not finite.
  public func regions(scores: [Float]) throws(GroundingError) -> [PointerRegion] {
    guard scores.count == tokenCount else {
      throw .invalidArgument("the pointer head gave \(scores.count) scores for \(tokenCount) tile tokens (\(tileRows)x\(tileCols) tiles of \(tokensPerSide)x\(tokensPerSide))")
    }
    if let bad = scores.firstIndex(where: { !$0.isFinite }) {
      throw .invalidArgument("pointer score \(scores[bad]) of token \(position(ofToken: bad)) is not finite")
    }
    // score[row * cols + col] on the image, nil on padding
    var grid = [Double?](repeating: nil, count: tokenCount)
    for k in 0..<tokenCount {
      let t = position(ofToken: k)
      if !isPadding(t) { grid[t.row * cols + t.col] = Double(scores[k]) }
    }
    let top = grid.compactMap { $0 }.max() ?? 0  // the token at the canvas' top-left is always on the image
    let floor = Self.keepFraction * top
    let kept = grid.map { $0.map { $0 >= floor } ?? false }
    var seen = [Bool](repeating: false, count: tokenCount)
    var found: [PointerRegion] = []
    for start in 0..<tokenCount where kept[start] && !seen[start] {
      // Flood fill from the first unseen kept token in row-major order.
      var stack = [start], members: [Int] = []
      seen[start] = true
      while let p = stack.popLast() {
        members.append(p)
        let r = p / cols, c = p % cols
        for (nr, nc) in [(r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)]
        where nr >= 0 && nr < rows && nc >= 0 && nc < cols && kept[nr * cols + nc] && !seen[nr * cols + nc] {
          seen[nr * cols + nc] = true
          stack.append(nr * cols + nc)
        }
      }
      members.sort()
      found.append(region(members.map { CanvasToken(row: $0 / cols, col: $0 % cols) }, grid))
    }
    // Stable: equal mean and sum keep discovery (row-major) order.
    return found.enumerated().sorted { a, b in
      if a.element.meanScore != b.element.meanScore { return a.element.meanScore > b.element.meanScore }
      if a.element.score != b.element.score { return a.element.score > b.element.score }
      return a.offset < b.offset
    }.map(\.element)
  }

  /// The best region (see `regions(scores:)`).
  public func bestRegion(scores: [Float]) throws(GroundingError) -> PointerRegion {
    guard let best = try regions(scores: scores).first else {
      throw .invalidArgument("no pointer region: no tile token lies on the image")
    }
    return best
  }

  private func region(_ tokens: [CanvasToken], _ grid: [Double?]) -> PointerRegion {
    var sum = 0.0, sx = 0.0, sy = 0.0
    var box = extent(of: tokens[0])
    for t in tokens {
      let s = grid[t.row * cols + t.col] ?? 0, e = extent(of: t)
      sum += s
      sx += s * Double(e.x0 + e.x1) / 2
      sy += s * Double(e.y0 + e.y1) / 2
      box = CanvasBox(x0: min(box.x0, e.x0), y0: min(box.y0, e.y0), x1: max(box.x1, e.x1), y1: max(box.y1, e.y1))
    }
    // A region of zero mass (all its scores 0: only when the highest is 0) points at its cells' centre.
    let point = sum > 0 ? ImagePoint(x: sx / sum, y: sy / sum)
      : ImagePoint(x: Double(box.x0 + box.x1) / 2, y: Double(box.y0 + box.y1) / 2)
    return PointerRegion(tokens: tokens, point: point, box: box, score: sum, meanScore: sum / Double(tokens.count))
  }
}
