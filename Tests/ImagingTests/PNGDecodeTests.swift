import Foundation
import Testing
@testable import Imaging

/// The fixtures of scripts/fixtures/make_png_fixtures.py: PNGs in every colour type and bit depth,
/// each with the RGB bytes PIL decodes (and, for 16-bit files, the exact round(v/257) scaling).
struct PNGFixture: Decodable, CustomTestStringConvertible, Sendable {
  struct Reference: Decodable, Sendable {
    let file: String
    let tolerance: Int
  }
  let png: String
  let width: Int
  let height: Int
  let background: [UInt8]
  let references: [Reference]
  let note: String

  var testDescription: String { png }

  static func url(_ name: String) throws -> URL {
    try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/png"),
                 "fixture \(name) missing")
  }

  static func data(_ name: String) throws -> Data { try Data(contentsOf: url(name)) }

  static let all: [PNGFixture] = fixtureList("manifest.json", in: "Fixtures/png")
}

/// A JSON list of test cases from the bundle; empty when missing (a count test catches that,
/// since test arguments cannot throw).
func fixtureList<Case: Decodable>(_ name: String, in subdirectory: String) -> [Case] {
  guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: subdirectory),
        let data = try? Data(contentsOf: url),
        let list = try? JSONDecoder().decode([Case].self, from: data)
  else { return [] }
  return list
}

/// Largest absolute difference between two byte buffers of equal length.
func maxAbsDiff(_ a: [UInt8], _ b: [UInt8]) -> Int {
  zip(a, b).reduce(0) { max($0, abs(Int($1.0) - Int($1.1))) }
}

@Suite struct PNGDecodeTests {
  @Test func manifestIsComplete() {
    // 25 decodable fixtures; an empty list would make the parameterised test vacuous.
    #expect(PNGFixture.all.count == 25)
  }

  @Test(arguments: PNGFixture.all)
  func decodesLikePIL(_ fixture: PNGFixture) throws {
    let bg = RGB(fixture.background[0], fixture.background[1], fixture.background[2])
    let image = try PNG.decode(PNGFixture.data(fixture.png), background: bg)
    #expect(image.width == fixture.width && image.height == fixture.height)
    for ref in fixture.references {
      let expected = [UInt8](try PNGFixture.data(ref.file))
      try #require(expected.count == image.pixels.count)
      let diff = maxAbsDiff(image.pixels, expected)
      #expect(diff <= ref.tolerance, "\(ref.file): max difference \(diff) > \(ref.tolerance)")
    }
  }

  @Test func readsFromAPath() throws {
    let path = try PNGFixture.url("palette8_trns.png").path
    let image = try PNG.read(path: path)
    #expect(image.pixels == [UInt8](try PNGFixture.data("palette8_trns.rgb")))
  }

  @Test func flattenRoundsToNearest() {
    // Worked by hand: a = 128, fg 255, bg 201: (32640 + 127*201)/255 = 228.1 -> 228;
    // a = 127, fg 100, bg 201: (12700 + 128*201)/255 = 150.698 -> 151.
    var px: [UInt8] = [255, 255, 255, 128, 255, 0, 255, 1, 100, 100, 100, 127]
    PNGDecoder.flatten(&px, pixelCount: 3, onto: RGB(0, 201, 201))
    #expect(px == [128, 228, 228, 1, 200, 201, 50, 151, 151])
  }
}
