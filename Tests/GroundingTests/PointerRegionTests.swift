import Foundation
import Testing
@testable import Grounding

// The pointer head's point rule on hand-made score grids. Scores are written as a canvas picture
// (token rows x columns) and laid out in the format's order (tiles row by row, each tile's
// tokens row-major) by the canvas under test, so the tests also check that mapping.

private func canvas(tiles rows: Int, _ cols: Int, h: Int = 2, cell: Int = 28,
                    resized: (Int, Int)? = nil) throws -> PointerCanvas {
  let t = h * cell
  return try PointerCanvas(tileRows: rows, tileCols: cols, tokensPerSide: h, tileSize: t, cell: cell,
                           resizedWidth: resized?.0 ?? cols * t, resizedHeight: resized?.1 ?? rows * t)
}

/// Scores in the format's order from a picture of the canvas, one row per token row.
private func scores(_ picture: [[Float]], on c: PointerCanvas) -> [Float] {
  (0..<c.tokenCount).map { k in
    let t = c.position(ofToken: k)
    return picture[t.row][t.col]
  }
}

@Suite struct PointerRegionTests {
  @Test func formatOrderPlacesTilesOnTheCanvas() throws {
    let c = try canvas(tiles: 2, 3)
    #expect(c.rows == 4 && c.cols == 6 && c.tokenCount == 24)
    // Tile (0, 0) first, row-major inside it; then tile (0, 1); the second tile row starts at 12.
    #expect(c.position(ofToken: 0) == CanvasToken(row: 0, col: 0))
    #expect(c.position(ofToken: 3) == CanvasToken(row: 1, col: 1))
    #expect(c.position(ofToken: 4) == CanvasToken(row: 0, col: 2))
    #expect(c.position(ofToken: 12) == CanvasToken(row: 2, col: 0))
    #expect(c.position(ofToken: 23) == CanvasToken(row: 3, col: 5))
    for k in 0..<c.tokenCount { #expect(c.index(of: c.position(ofToken: k)) == k) }
    #expect(c.extent(of: CanvasToken(row: 1, col: 2)) == CanvasBox(x0: 56, y0: 28, x1: 84, y1: 56))
  }

  @Test func twoRegionsTheHigherMeanWins() throws {
    let c = try canvas(tiles: 1, 2)
    // Left: three tokens of 0.1 (sum 0.3, mean 0.1); right: one token of 0.2 (mean 0.2).
    let s = scores([[0.10, 0.10, 0.00, 0.00],
                    [0.10, 0.00, 0.00, 0.20]], on: c)
    let regions = try c.regions(scores: s)
    #expect(regions.count == 2)
    #expect(regions[0].tokens == [CanvasToken(row: 1, col: 3)])
    #expect(abs(regions[0].score - 0.2) < 1e-7 && abs(regions[1].score - 0.3) < 1e-7)
    #expect(regions[0].point == ImagePoint(x: 98, y: 42))
    #expect(regions[0].box == CanvasBox(x0: 84, y0: 28, x1: 112, y1: 56))
  }

  @Test func equalMeansGoToTheHigherSumThenToTheFirstRowMajor() throws {
    let c = try canvas(tiles: 1, 2)
    // Equal means 0.25: a single token (sum 0.25) and a pair (sum 0.5): the pair wins.
    let bySum = scores([[0.25, 0.00, 0.25, 0.25],
                        [0.00, 0.00, 0.00, 0.00]], on: c)
    #expect(try c.bestRegion(scores: bySum).tokens == [CanvasToken(row: 0, col: 2), CanvasToken(row: 0, col: 3)])
    // Equal means and sums: the region met first in row-major order (its top-left token) wins.
    let tie = scores([[0.00, 0.00, 0.00, 0.25],
                      [0.25, 0.00, 0.00, 0.00]], on: c)
    let regions = try c.regions(scores: tie)
    #expect(regions.map(\.tokens) == [[CanvasToken(row: 0, col: 3)], [CanvasToken(row: 1, col: 0)]])
  }

  @Test func aRegionCrossesTileBorders() throws {
    let c = try canvas(tiles: 2, 2)
    // One blob over the four tiles' shared corner, plus a weaker separate token.
    let s = scores([[0.00, 0.00, 0.00, 0.00],
                    [0.00, 0.20, 0.15, 0.00],
                    [0.00, 0.15, 0.40, 0.00],
                    [0.13, 0.00, 0.00, 0.00]], on: c)
    let best = try c.bestRegion(scores: s)
    #expect(best.tokens == [CanvasToken(row: 1, col: 1), CanvasToken(row: 1, col: 2),
                            CanvasToken(row: 2, col: 1), CanvasToken(row: 2, col: 2)])
    #expect(best.box == CanvasBox(x0: 28, y0: 28, x1: 84, y1: 84))
    // Weighted centre: centres 42 / 70 with weights 0.2 + 0.15 / 0.15 + 0.4, in x and y alike.
    let expected = (0.35 * 42 + 0.55 * 70) / 0.9
    #expect(abs(best.point.x - expected) < 1e-6 && abs(best.point.y - expected) < 1e-6)
    #expect(abs(best.score - 0.9) < 1e-6 && abs(best.meanScore - 0.225) < 1e-6)
    #expect(try c.regions(scores: s).count == 2)
  }

  @Test func diagonalNeighboursAreSeparateRegions() throws {
    let c = try canvas(tiles: 1, 1)
    let s = scores([[0.5, 0.0],
                    [0.0, 0.5]], on: c)
    #expect(try c.regions(scores: s).count == 2)
  }

  @Test func theThresholdKeepsScoresEqualToIt() throws {
    let c = try canvas(tiles: 1, 1)
    // 0.3 x 0.5 is not a Float: the nearest Float at or above it is kept (>=), the next one
    // down is not.
    let top: Float = 0.5, edge = Float(PointerCanvas.keepFraction * Double(top))
    #expect(Double(edge) >= PointerCanvas.keepFraction * Double(top))
    let s = scores([[top, edge],
                    [edge.nextDown, 0.0]], on: c)
    let best = try c.bestRegion(scores: s)
    #expect(best.tokens == [CanvasToken(row: 0, col: 0), CanvasToken(row: 0, col: 1)])
  }

  @Test func paddingTokensAreLeftOut() throws {
    // A 1x2 canvas of 112 x 56 px (h = 2, cell 28) holding a 60 x 30 resized image: token
    // column 3 starts at x = 84 >= 60 (padding); row 1 starts at y = 28 < 30 (on the image).
    let c = try canvas(tiles: 1, 2, resized: (60, 30))
    #expect(c.isPadding(CanvasToken(row: 0, col: 3)) && c.isPadding(CanvasToken(row: 1, col: 3)))
    #expect(!c.isPadding(CanvasToken(row: 1, col: 2)))  // x0 = 56 < 60: partly on the image
    // The highest score lies on padding: it is ignored, and so is its pull on the threshold
    // (0.3 x 0.9 would drop the 0.2 token; 0.3 x 0.3 keeps it).
    let s = scores([[0.3, 0.0, 0.0, 0.9],
                    [0.2, 0.0, 0.0, 0.9]], on: c)
    let best = try c.bestRegion(scores: s)
    #expect(best.tokens == [CanvasToken(row: 0, col: 0), CanvasToken(row: 1, col: 0)])
    // A padding token next to a kept one does not join its region.
    let joined = scores([[0.0, 0.0, 0.3, 0.9],
                         [0.0, 0.0, 0.0, 0.0]], on: c)
    #expect(try c.bestRegion(scores: joined).tokens == [CanvasToken(row: 0, col: 2)])
  }

  @Test func anOddPatchGridCutsTheLastTokenAtTheTileEdge() throws {
    // Tile 42 of patches 14: g = 3, h = 2; the second token covers one patch (28 ..< 42).
    let c = try PointerCanvas(tileRows: 1, tileCols: 2, tokensPerSide: 2, tileSize: 42, cell: 28,
                              resizedWidth: 84, resizedHeight: 42)
    #expect(c.extent(of: CanvasToken(row: 0, col: 1)) == CanvasBox(x0: 28, y0: 0, x1: 42, y1: 28))
    #expect(c.extent(of: CanvasToken(row: 1, col: 2)) == CanvasBox(x0: 42, y0: 28, x1: 70, y1: 42))
  }

  @Test func badScoresAreErrors() throws {
    let c = try canvas(tiles: 1, 1)
    #expect(throws: GroundingError.self) { try c.regions(scores: [0.5, 0.5]) }
    #expect(throws: GroundingError.self) { try c.regions(scores: [0.5, .nan, 0, 0]) }
    #expect(throws: GroundingError.self) {
      try PointerCanvas(tileRows: 0, tileCols: 1, tokensPerSide: 2, tileSize: 56, cell: 28, resizedWidth: 1, resizedHeight: 1)
    }
  }
}
