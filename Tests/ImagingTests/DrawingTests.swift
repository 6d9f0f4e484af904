import Foundation
import Testing
@testable import Imaging

private let ink = RGB(255, 0, 0)
private let paper = RGB(0, 0, 40)

/// An image drawn by `draw` on `paper`, as rows of "#" (ink) and "." (paper); other colours "?".
private func picture(_ width: Int, _ height: Int, _ draw: (inout RGBImage) -> Void) throws -> [String] {
  var img = try RGBImage(width: width, height: height, fill: paper)
  draw(&img)
  return (0..<height).map { y in
    String((0..<width).map { x in img[x, y] == ink ? "#" : img[x, y] == paper ? "." : "?" })
  }
}

/// One case of scripts/fixtures/make_drawing_fixtures.py: PIL's ImageDraw on a 20x15 image.
struct PILShape: Decodable, Sendable, CustomTestStringConvertible {
  let op: String
  let args: [Int]
  let mask: [String]
  var testDescription: String { "\(op) \(args)" }

  static let all: [PILShape] = fixtureList("pil_shapes.json", in: "Fixtures/drawing")
}

@Suite struct DrawingTests {
  // MARK: - Against PIL

  @Test func pilCasesArePresent() {
    #expect(PILShape.all.count == 115)
  }

  @Test(arguments: PILShape.all)
  func matchesPIL(_ shape: PILShape) throws {
    let a = shape.args
    let got = try picture(20, 15) { img in
      switch shape.op {
      case "line": img.drawLine(x0: a[0], y0: a[1], x1: a[2], y1: a[3], color: ink)
      case "fill": img.fill(PixelRect(x: a[0], y: a[1], width: a[2], height: a[3]), color: ink)
      default: img.stroke(PixelRect(x: a[0], y: a[1], width: a[2], height: a[3]), color: ink, thickness: a[4])
      }
    }
    #expect(got == shape.mask)
  }

  // MARK: - Rectangles and lines, worked by hand

  @Test func thickStrokeFillsWhenBandsMeet() throws {
    // 4x3 rectangle, thickness 2: top rows 1-2 and bottom rows 2-3 leave no hole.
    #expect(try picture(6, 5) { $0.stroke(PixelRect(x: 1, y: 1, width: 4, height: 3), color: ink, thickness: 2) }
      == ["......", ".####.", ".####.", ".####.", "......"])
  }

  @Test func thickLinesUseASquarePen() throws {
    #expect(try picture(9, 5) { $0.drawLine(x0: 2, y0: 2, x1: 6, y1: 2, color: ink, thickness: 3) }
      == [".........", ".#######.", ".#######.", ".#######.", "........."])
    // Even thickness: the extra pixel goes right and down.
    #expect(try picture(6, 6) { $0.drawLine(x0: 1, y0: 1, x1: 3, y1: 3, color: ink, thickness: 2) }
      == ["......", ".##...", ".###..", "..###.", "...##.", "......"])
  }

  // MARK: - Circles

  @Test func discs() throws {
    #expect(try picture(3, 3) { $0.drawCircle(centerX: 1, centerY: 1, radius: 0, color: ink) }
      == ["...", ".#.", "..."])
    #expect(try picture(3, 3) { $0.drawCircle(centerX: 1, centerY: 1, radius: 1, color: ink) }
      == ["###", "###", "###"])
    // r = 2: dx² + dy² <= 6.25 keeps all but the corners (8).
    #expect(try picture(5, 5) { $0.drawCircle(centerX: 2, centerY: 2, radius: 2, color: ink) }
      == [".###.", "#####", "#####", "#####", ".###."])
  }

  @Test func rings() throws {
    // r = 3, thickness 1: 6.25 < dx² + dy² <= 12.25, i.e. d² in {8, 9, 10}.
    #expect(try picture(7, 7) { $0.drawCircle(centerX: 3, centerY: 3, radius: 3, color: ink, thickness: 1) }
      == ["..###..", ".#...#.", "#.....#", "#.....#", "#.....#", ".#...#.", "..###.."])
    // Clipped at the top-left corner: the same ring centred on (0, 0).
    #expect(try picture(4, 4) { $0.drawCircle(centerX: 0, centerY: 0, radius: 3, color: ink, thickness: 1) }
      == ["...#", "...#", "..#.", "##.."])
  }

  // MARK: - Crosshair

  @Test func crosshairWithGap() throws {
    #expect(try picture(9, 7) { $0.drawCrosshair(x: 4, y: 3, armLength: 3, color: ink, gap: 1) }
      == ["....#....", "....#....", ".........", ".##...##.", ".........", "....#....", "....#...."])
    #expect(try picture(5, 5) { $0.drawCrosshair(x: 2, y: 2, armLength: 2, color: ink) }
      == ["..#..", "..#..", "#####", "..#..", "..#.."])
  }

  // MARK: - Text

  @Test func drawsAGlyphAtItsCell() throws {
    #expect(try picture(7, 9) { $0.drawText("1", x: 1, y: 1, color: ink) }
      == [".......", "...#...", "..##...", "...#...", "...#...", "...#...", "...#...", "..###..", "......."])
  }

  @Test func advancesAndScales() throws {
    // "r0" at scale 1: r in columns 0-4, a blank column, 0 in columns 6-10.
    #expect(try picture(11, 7) { $0.drawText("r0", x: 0, y: 0, color: ink) }
      == [".......###.", "......#...#", "#.##..#..##", "##..#.#.#.#", "#.....##..#", "#.....#...#", "#......###."])
    // "." at scale 2: font pixels (1..2, 5..6) become 2x2 squares.
    let dot = try picture(10, 14) { $0.drawText(".", x: 0, y: 0, color: ink, scale: 2) }
    #expect(dot[10] == "..####...." && dot[13] == "..####....")
    #expect(dot[0..<10].allSatisfy { $0 == ".........." })
  }

  @Test func textBackgroundAndSize() throws {
    #expect(RGBImage.textSize("r0c1") == (23, 7))
    #expect(RGBImage.textSize("ab\nc", scale: 2) == (22, 30))
    var img = try RGBImage(width: 30, height: 12, fill: paper)
    img.drawText("r0c1", x: 2, y: 2, color: ink, background: RGB(9, 9, 9))
    #expect(img[1, 1] == RGB(9, 9, 9) && img[25, 9] == RGB(9, 9, 9))  // box grown by 1
    #expect(img[0, 0] == paper && img[26, 10] == paper)
  }

  @Test func fontTableIsWellFormed() {
    for (c, art) in BitmapFont.source {
      let rows = art.split(separator: " ")
      #expect(rows.count == 7 && rows.allSatisfy { $0.count == 5 && $0.allSatisfy { "#.".contains($0) } }, "glyph \(c)")
    }
    #expect(Set(BitmapFont.source.map(\.0)).count == BitmapFont.source.count)
    #expect(Set(BitmapFont.source.map(\.1)).count == BitmapFont.source.count)  // no copy-paste twins
    for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" { #expect(BitmapFont.glyphs[c] != nil) }
    #expect(BitmapFont.glyph("é") == BitmapFont.missing)
  }

  // MARK: - Clipping at the extremes

  @Test func extremeCoordinatesNeverTrap() throws {
    var img = try RGBImage(width: 8, height: 6, fill: paper)
    let huge = [Int.min, Int.min + 1, -1 << 40, -1, 0, 7, 1 << 40, Int.max - 1, Int.max]
    for a in huge {
      for b in huge {
        img.fill(PixelRect(x: a, y: b, width: Int.max, height: Int.max), color: paper)
        img.stroke(PixelRect(x: a, y: b, width: b, height: a), color: paper, thickness: Int.max)
        img.drawLine(x0: a, y0: b, x1: b, y1: a, color: paper, thickness: 3)
        img.drawCircle(centerX: a, centerY: b, radius: Int.max, color: paper, thickness: 2)
        img.drawCrosshair(x: a, y: b, armLength: Int.max, color: paper, thickness: Int.max, gap: 1)
        img.drawText("r0c1\nx", x: a, y: b, color: paper, scale: Int.max, background: paper)
      }
    }
    #expect(img.pixels.count == 8 * 6 * 3)
    // A rectangle from far outside covers the whole image.
    img.fill(PixelRect(x: -5, y: -5, width: Int.max, height: Int.max), color: ink)
    #expect(img.pixels.allSatisfy { [ink.r, ink.g, ink.b].contains($0) } && img[7, 5] == ink)
  }

  @Test func farLinesAreClippedCloseToTheExactLine() throws {
    // y = x/2 from x = -2^30: clipped in floating point, then drawn; within a pixel of exact.
    let got = try picture(20, 15) { $0.drawLine(x0: -(1 << 30), y0: -(1 << 29), x1: 1 << 30, y1: 1 << 29, color: ink) }
    for (y, row) in got.enumerated() {
      for (x, c) in row.enumerated() where c == "#" { #expect(abs(2 * y - x) <= 2, "(\(x), \(y))") }
    }
    #expect(got.joined().filter { $0 == "#" }.count == 20)  // one pixel per column, as x-major
  }
}
