import Foundation
import Testing
@testable import Imaging

/// The chunks of a PNG stream, checked by a CRC-32 written here (ISO 3309 / PNG spec annex D),
/// independently of libpng.
private struct ChunkList {
  var chunks: [(type: String, data: [UInt8], crcOK: Bool)] = []

  init(_ bytes: [UInt8]) throws {
    try #require(bytes.count >= 8 && Array(bytes[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    var pos = 8
    while pos + 12 <= bytes.count {
      let length = bytes[pos..<pos + 4].reduce(0) { $0 << 8 | Int($1) }
      try #require(pos + 12 + length <= bytes.count)
      let typeAndData = Array(bytes[pos + 4..<pos + 8 + length])
      let stored = bytes[pos + 8 + length..<pos + 12 + length].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
      chunks.append((String(decoding: typeAndData[0..<4], as: UTF8.self), Array(typeAndData[4...]),
                     Self.crc32(typeAndData) == stored))
      pos += 12 + length
    }
    try #require(pos == bytes.count, "trailing bytes after the last chunk")
  }

  static func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
      crc ^= UInt32(b)
      for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
    }
    return ~crc
  }
}

/// A deterministic image with every byte value and no large flat areas.
func patternImage(width: Int, height: Int, seed: UInt64) throws -> RGBImage {
  var state = seed
  var img = try RGBImage(width: width, height: height)
  for i in 0..<img.pixels.count {
    state = state &* 6364136223846793005 &+ 1442695040888963407  // Knuth's MMIX LCG
    img.pixels[i] = i % 7 == 0 ? UInt8(truncatingIfNeeded: state >> 56) : UInt8(truncatingIfNeeded: i * 13 / 5)
  }
  return img
}

@Suite struct PNGEncodeTests {
  @Test(arguments: [PNG.Compression.standard, .fast])
  func roundTrips(_ compression: PNG.Compression) throws {
    for (w, h) in [(1, 1), (13, 7), (33, 17), (300, 2)] {
      let img = try patternImage(width: w, height: h, seed: UInt64(w * 1000 + h))
      let data = try PNG.encode(img, compression: compression)
      #expect(try PNG.decode(data) == img, "\(w)x\(h)")
    }
  }

  @Test func writesAWellFormedStream() throws {
    let img = try patternImage(width: 33, height: 17, seed: 7)
    let list = try ChunkList([UInt8](try PNG.encode(img)))
    #expect(list.chunks.allSatisfy { $0.crcOK })
    #expect(list.chunks.first?.type == "IHDR" && list.chunks.last?.type == "IEND")
    #expect(list.chunks.contains { $0.type == "IDAT" })
    // IHDR: width 33, height 17, depth 8, colour type 2 (RGB), deflate, filter 0, no interlace.
    #expect(list.chunks.first?.data == [0, 0, 0, 33, 0, 0, 0, 17, 8, 2, 0, 0, 0])
  }

  @Test func fastSettingReachesLibpng() throws {
    let img = try patternImage(width: 200, height: 100, seed: 3)
    let standard = try PNG.encode(img, compression: .standard)
    let fast = try PNG.encode(img, compression: .fast)
    #expect(try ChunkList([UInt8](fast)).chunks.allSatisfy { $0.crcOK })
    #expect(standard != fast)  // the FAST flag reached libpng (different filters/level)
  }

  @Test func writesAndReadsAFile() throws {
    let img = try patternImage(width: 21, height: 9, seed: 11)
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("png-\(UUID().uuidString).png").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try PNG.write(img, to: path, compression: .fast)
    #expect(try PNG.read(path: path) == img)
  }

  @Test func fileErrorsNameThePath() {
    #expect(throws: ImagingError.fileUnreadable(path: "/nonexistent/x.png", reason: "")) {
      do { _ = try PNG.read(path: "/nonexistent/x.png") } catch let ImagingError.fileUnreadable(path, _) {
        throw ImagingError.fileUnreadable(path: path, reason: "")
      }
    }
    #expect(throws: ImagingError.self) {
      try PNG.write(try RGBImage(width: 2, height: 2), to: "/nonexistent-dir/x.png")
    }
  }
}
