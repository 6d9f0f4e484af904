import Engine
import Foundation
import Imaging
import Testing
@testable import Grounding

// Goldens: scripts/fixtures/make_anyres_fixtures.py (a Python reference of the format's AnyRes
// with Fractions, Pillow's resize and numpy float32 normalization).

private struct AnyResManifest: Decodable {
  struct IDs: Decodable {
    let image_start: Int, image_end: Int, tile_newline: Int, image_pad: Int
  }
  struct Case: Decodable {
    let name: String, width: Int, height: Int, anyres: AnyResConfig, patch_size: Int
    let grid: [Int], resized: [Int], thumbnail: [Int]?, n_tiles: Int, tokens_per_side: Int, tokens: [Int]
  }
  let ids: IDs
  let cases: [Case]
}

private func fixture(_ file: String) throws -> Data {
  let ns = file as NSString
  let url = try #require(Bundle.module.url(forResource: ns.deletingPathExtension, withExtension: ns.pathExtension,
                                           subdirectory: "Fixtures/anyres"))
  return try Data(contentsOf: url)
}

private let formatAnyRes = """
  {"tile_size": 378, "max_rows": 4, "max_cols": 4, "max_tiles": 16, "thumbnail": true,
   "image_mean": [0.5,0.5,0.5], "image_std": [0.5,0.5,0.5], "resample": "bicubic"}
  """

private func config(tile: Int, rows: Int = 4, cols: Int = 4, tiles: Int = 16, thumbnail: Bool = true) throws -> AnyResConfig {
  try AnyResConfig(tileSize: tile, maxRows: rows, maxCols: cols, maxTiles: tiles, thumbnail: thumbnail,
                   imageMean: [0.5, 0.5, 0.5], imageStd: [0.5, 0.5, 0.5], resample: .bicubic)
}

@Suite struct AnyResGoldenTests {
  @Test func matchesPythonReference() throws {
    let m = try JSONDecoder().decode(AnyResManifest.self, from: fixture("manifest.json"))
    let ids = ImageTokenIds(imageStart: m.ids.image_start, imageEnd: m.ids.image_end,
                            tileNewline: m.ids.tile_newline, imagePad: m.ids.image_pad)
    #expect(m.cases.count >= 10)
    for c in m.cases {
      let image = try RGBImage(width: c.width, height: c.height, pixels: [UInt8](fixture("\(c.name).rgb")))
      let out = try AnyResProcessor(config: c.anyres).process(image: image)
      let plan = out.plan
      #expect([plan.grid.rows, plan.grid.cols] == c.grid, "\(c.name) grid")
      #expect([plan.resizedWidth, plan.resizedHeight] == c.resized, "\(c.name) resized size")
      #expect(plan.thumbnailWidth.map { [$0, plan.thumbnailHeight ?? -1] } == c.thumbnail, "\(c.name) thumbnail")
      #expect(plan.tileCount == c.n_tiles)

      let expected = try fixture("\(c.name).tiles.f32").withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
      #expect(out.pixels.count == expected.count, "\(c.name) tile tensor size")
      let maxDiff = maxAbsDifference(out.pixels, expected)
      #expect(maxDiff == 0, "\(c.name): tiles differ by up to \(maxDiff)")

      let h = try ImageTokenLayout.tokensPerSide(tileSize: c.anyres.tileSize, patchSize: c.patch_size)
      #expect(h == c.tokens_per_side)
      let tokens = ImageTokenLayout.tokens(plan: plan, tokensPerSide: h, ids: ids)
      #expect(tokens == c.tokens, "\(c.name) token layout")
      #expect(ImageTokenLayout.featureCount(plan: plan, tokensPerSide: h) == c.tokens.count { $0 == ids.imagePad })
    }
  }

  /// The 170 * 0.7 trap of the format doc at its real tile size: s = 378/540, 170 -> 119.
  @Test func roundingTrapAtFullTileSize() throws {
    let plan = try TilePlan(width: 540, height: 170, config: config(tile: 378, rows: 1, cols: 1, tiles: 1))
    #expect(plan.scale == ExactFraction(378, 540))
    #expect(plan.resizedWidth == 378 && plan.resizedHeight == 119)
    #expect(Int(170 * 0.7) == 118)  // what floating point would have given
  }
}

// MARK: - Config

@Suite struct AnyResConfigTests {
  @Test func decodesTheFormatsObject() throws {
    let c = try JSONDecoder().decode(AnyResConfig.self, from: Data(formatAnyRes.utf8))
    #expect(c == (try config(tile: 378)))
  }

  @Test func namesTheBadField() throws {
    let bad = formatAnyRes.replacingOccurrences(of: "\"tile_size\": 378", with: "\"tile_size\": 0")
    #expect(throws: GroundingError.invalidAnyResConfig(field: "tile_size", value: "0")) {
      try JSONDecoder().decode(AnyResConfig.self, from: Data(bad.utf8))
    }
    let std = formatAnyRes.replacingOccurrences(of: "\"image_std\": [0.5,0.5,0.5]", with: "\"image_std\": [0.5,0,0.5]")
    #expect(throws: GroundingError.self) { try JSONDecoder().decode(AnyResConfig.self, from: Data(std.utf8)) }
    let missing = formatAnyRes.replacingOccurrences(of: "\"max_rows\": 4,", with: "")
    do {
      _ = try JSONDecoder().decode(AnyResConfig.self, from: Data(missing.utf8))
      Issue.record("a missing max_rows was accepted")
    } catch let DecodingError.keyNotFound(key, _) {
      #expect(key.stringValue == "max_rows")
    }
  }

  @Test func rejectsBadImagesAndPatches() throws {
    let c = try config(tile: 28)
    #expect(throws: GroundingError.invalidImageSize(width: 0, height: 5)) { try TilePlan(width: 0, height: 5, config: c) }
    #expect(throws: GroundingError.imageTooLarge(width: 1 << 31, height: 5)) { try TilePlan(width: 1 << 31, height: 5, config: c) }
    #expect(throws: GroundingError.tileNotMultipleOfPatch(tileSize: 28, patchSize: 5)) {
      try ImageTokenLayout.tokensPerSide(tileSize: 28, patchSize: 5)
    }
  }
}
