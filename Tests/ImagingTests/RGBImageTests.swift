import Testing
@testable import Imaging

@Suite struct RGBImageTests {
  @Test func cropCutsTheRightPixels() throws {
    var img = try RGBImage(width: 4, height: 3)
    for y in 0..<3 { for x in 0..<4 { img[x, y] = RGB(UInt8(x), UInt8(y), 7) } }
    let c = try img.cropped(to: PixelRect(x: 1, y: 1, width: 2, height: 2))
    #expect(c.width == 2 && c.height == 2)
    #expect(c[0, 0] == RGB(1, 1, 7))
    #expect(c[1, 1] == RGB(2, 2, 7))
  }

  @Test func rejectsBadBuffers() {
    #expect(throws: ImagingError.self) { try RGBImage(width: 2, height: 2, pixels: [0, 0, 0]) }
    #expect(throws: ImagingError.self) { try RGBImage(width: 0, height: 2) }
    #expect(throws: ImagingError.self) {
      try RGBImage(width: 2, height: 2).cropped(to: PixelRect(x: 1, y: 1, width: 2, height: 1))
    }
  }
}
