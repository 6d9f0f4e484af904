import Foundation
import Testing
@testable import Imaging

/// Broken and hostile inputs: each must give a thrown ImagingError, never a crash.
@Suite struct PNGRobustnessTests {
  /// Files that PIL also rejects (the fixture script checks that it does).
  @Test(arguments: ["truncated", "truncated_header", "bad_signature", "bad_crc", "bad_zlib"])
  func brokenFixturesThrow(_ name: String) throws {
    let data = try PNGFixture.data("broken_\(name).png")
    #expect {
      _ = try PNG.decode(data)
    } throws: { error in
      guard case let ImagingError.pngDecodeFailed(reason) = error else { return false }
      return !reason.isEmpty
    }
  }

  @Test func oversizedHeaderIsRejectedBeforeAllocation() throws {
    // IHDR claims 100000 x 100000 (10^10 pixels, 30 GB of RGB); the data holds 64 bytes.
    let data = try PNGFixture.data("broken_huge_header.png")
    #expect(throws: ImagingError.pngTooLarge(width: 100_000, height: 100_000, maxPixels: PNG.defaultMaxPixels)) {
      try PNG.decode(data)
    }
  }

  @Test func headerPromisingMoreThanTheDataHoldsIsRejected() throws {
    // Without a pixel cap, 10^10 pixels would mean a 30 GB buffer; 64 bytes of IDAT inflate to at
    // most 66 KB, so the header is refused before anything is allocated.
    let data = try PNGFixture.data("broken_huge_header.png")
    #expect {
      _ = try PNG.decode(data, maxPixels: .max)
    } throws: { error in
      guard case let ImagingError.pngDecodeFailed(reason) = error else { return false }
      return reason.contains("cannot inflate to 100000x100000")
    }
  }

  @Test func idatBoundIsNotTooStrict() throws {
    // A flat 3000x3000 image compresses over 800-fold (libpng, default level), near deflate's
    // 1032-fold limit, and must pass.
    let flat = try RGBImage(width: 3000, height: 3000, fill: RGB(7, 7, 7))
    let data = try PNG.encode(flat)
    #expect(PNGChunks(data).idatBytes * 800 < 3000 * 3000 * 3)
    #expect(try PNG.decode(data) == flat)
  }

  @Test func maxPixelsIsInclusive() throws {
    let data = try PNGFixture.data("rgb8.png")  // 33 x 17 = 561 pixels
    #expect(throws: ImagingError.pngTooLarge(width: 33, height: 17, maxPixels: 560)) {
      try PNG.decode(data, maxPixels: 560)
    }
    #expect(try PNG.decode(data, maxPixels: 561).width == 33)
  }

  @Test func nonPNGInputsThrow() {
    let inputs: [Data] = [
      Data(), Data([0x89]), Data("hello, this is not a PNG file at all".utf8),
      Data([0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 0x4A, 0x46, 0x49, 0x46]),  // a JPEG header
      Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]),  // a signature alone
    ]
    for data in inputs {
      #expect(throws: ImagingError.self, "\(data.count) bytes") { try PNG.decode(data) }
    }
  }

  @Test func everyTruncationThrows() throws {
    let data = try PNGFixture.data("rgb8_small.png")
    // Every prefix that cuts into IHDR..IDAT must fail; IEND is the last 12 bytes.
    for n in 0..<(data.count - 12) {
      #expect(throws: ImagingError.self, "prefix of \(n) bytes") { try PNG.decode(data.prefix(n)) }
    }
  }

  @Test func corruptedBytesNeverCrash() throws {
    let original = [UInt8](try PNGFixture.data("palette8_trns.png"))
    let expected = try PNG.decode(Data(original))
    var state: UInt64 = 42
    var failures = 0
    for _ in 0..<600 {
      var bytes = original
      for _ in 0..<3 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        let i = Int((state >> 33) % UInt64(bytes.count))
        bytes[i] ^= UInt8(truncatingIfNeeded: state >> 20) | 1
      }
      do {
        let img = try PNG.decode(Data(bytes), maxPixels: 1 << 20)
        #expect(img.pixels.count == img.width * img.height * 3)
      } catch {
        failures += 1
      }
    }
    // Most damage lands in CRC-checked chunks and must be caught; a few flips fall in ancillary
    // data that libpng drops with a warning.
    #expect(failures > 400)
    #expect(expected.width == 33)
  }
}
