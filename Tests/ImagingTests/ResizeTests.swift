import Foundation
import Testing
@testable import Imaging

// Goldens: scripts/fixtures/make_resize_fixtures.py (Pillow's Image.resize on uint8 RGB).

private struct ResizeManifest: Decodable {
  struct Source: Decodable { let name: String; let width: Int; let height: Int }
  struct Case: Decodable { let source: String; let filter: String; let width: Int; let height: Int; let file: String }
  let pillow: String
  let sources: [Source]
  let cases: [Case]
}

private func fixture(_ name: String) throws -> Data {
  let base = (name as NSString).deletingPathExtension, ext = (name as NSString).pathExtension
  let url = try #require(Bundle.module.url(forResource: base, withExtension: ext, subdirectory: "Fixtures/resize"))
  return try Data(contentsOf: url)
}

@Suite struct ResizeTests {
  /// Every golden case must match Pillow byte for byte.
  @Test func matchesPillowExactly() throws {
    let manifest = try JSONDecoder().decode(ResizeManifest.self, from: fixture("manifest.json"))
    #expect(manifest.cases.count >= 50)
    var images: [String: RGBImage] = [:]
    for s in manifest.sources {
      images[s.name] = try RGBImage(width: s.width, height: s.height, pixels: [UInt8](fixture("\(s.name).rgb")))
    }
    for c in manifest.cases {
      let src = try #require(images[c.source])
      let filter = try #require(ResampleFilter(rawValue: c.filter))
      let expected = [UInt8](try fixture(c.file))
      let got = try src.resized(width: c.width, height: c.height, filter: filter)
      #expect(got.width == c.width && got.height == c.height)
      let mismatches = zip(got.pixels, expected).filter { $0 != $1 }.count
      let maxDiff = zip(got.pixels, expected).map { abs(Int($0) - Int($1)) }.max() ?? 0
      #expect(got.pixels.count == expected.count && mismatches == 0,
              "\(c.file): \(mismatches) bytes differ from Pillow \(manifest.pillow), max diff \(maxDiff)")
    }
  }

  @Test func sameSizeIsIdentity() throws {
    var img = try RGBImage(width: 5, height: 4)
    for y in 0..<4 { for x in 0..<5 { img[x, y] = RGB(UInt8(x * 40), UInt8(y * 60), 9) } }
    for f in ResampleFilter.allCases { #expect(try img.resized(width: 5, height: 4, filter: f) == img) }
  }

  /// A constant image stays constant in every direction and ratio: the weights sum to one.
  @Test func constantImageStaysConstant() throws {
    let img = try RGBImage(width: 31, height: 17, fill: RGB(200, 3, 77))
    for (w, h) in [(7, 40), (64, 5), (31, 2), (1, 17), (90, 90)] {
      for f in ResampleFilter.allCases {
        let out = try img.resized(width: w, height: h, filter: f)
        #expect(out == (try RGBImage(width: w, height: h, fill: RGB(200, 3, 77))), "\(w)x\(h) \(f)")
      }
    }
  }

  @Test func rejectsBadTargetSizes() throws {
    let img = try RGBImage(width: 3, height: 3)
    #expect(throws: ImagingError.badDimensions(width: 0, height: 3)) { try img.resized(width: 0, height: 3, filter: .bicubic) }
    #expect(throws: ImagingError.self) { try img.resized(width: 4, height: -1, filter: .bilinear) }
  }
}
