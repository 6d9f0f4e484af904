import Foundation

/// A light walk over PNG chunks (length, type, data, CRC). It never judges validity: on
/// anything malformed it stops and leaves the errors to libpng. It serves two purposes:
/// dropping the colour-space chunks (gAMA, sRGB, iCCP, cHRM) so that libpng passes samples
/// through unconverted, as PIL does; and summing IDAT sizes, so that a header promising far
/// more pixels than the compressed data can hold is refused before the pixel buffer exists.
struct PNGChunks {
  /// Whole chunks (header and CRC included) that make libpng convert samples; all precede IDAT.
  var colourSpaceRanges: [Range<Int>] = []
  /// Bytes of compressed image data present (a truncated last chunk counts what is there).
  var idatBytes = 0
  /// IHDR's width, height, bit depth and colour type, when IHDR is first and whole.
  var header: (width: Int, height: Int, bitDepth: Int, colourType: Int)?

  static let signatureLength = 8
  /// deflate's largest expansion: a 258-byte match costs at least 2 bits.
  static let maxInflateRatio = 1032

  private static let colourSpaceTypes: [(UInt8, UInt8, UInt8, UInt8)] = [
    (0x67, 0x41, 0x4D, 0x41),  // gAMA
    (0x73, 0x52, 0x47, 0x42),  // sRGB
    (0x69, 0x43, 0x43, 0x50),  // iCCP
    (0x63, 0x48, 0x52, 0x4D),  // cHRM
  ]

  // MARK: - Walk

  init(_ data: Data) {
    data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
      var pos = Self.signatureLength
      var seenIDAT = false
      // Each chunk: length (4, big-endian), type (4), data (length), CRC (4).
      while bytes.count - pos >= 8 {
        let length = bytes[pos..<pos + 4].reduce(0) { $0 << 8 | Int($1) }
        let type = (bytes[pos + 4], bytes[pos + 5], bytes[pos + 6], bytes[pos + 7])
        let end = pos + 12 + length  // length < 2^32: no overflow
        if type == (0x49, 0x44, 0x41, 0x54) {  // IDAT
          seenIDAT = true
          idatBytes += min(length, bytes.count - pos - 8)
        } else if type == (0x49, 0x48, 0x44, 0x52), pos == Self.signatureLength, length == 13, end <= bytes.count {
          func u32(_ at: Int) -> Int { bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
          header = (u32(pos + 8), u32(pos + 12), Int(bytes[pos + 16]), Int(bytes[pos + 17]))
        } else if !seenIDAT, end <= bytes.count, Self.colourSpaceTypes.contains(where: { $0 == type }) {
          colourSpaceRanges.append(pos..<end)
        } else if type == (0x49, 0x45, 0x4E, 0x44) {  // IEND
          break
        }
        guard end <= bytes.count else { break }
        pos = end
      }
    }
  }

  // MARK: - Checks

  /// The fewest bytes that the decompressed image data can occupy (pixels only, no filter
  /// bytes), from IHDR; nil when IHDR was not read or names an unknown colour type.
  var minimumRawBytes: Int? {
    guard let h = header else { return nil }
    let samples: Int
    switch h.colourType {
    case 0, 3: samples = 1  // gray, palette
    case 2: samples = 3
    case 4: samples = 2
    case 6: samples = 4
    default: return nil
    }
    let (pixels, o1) = h.width.multipliedReportingOverflow(by: h.height)
    let (bits, o2) = pixels.multipliedReportingOverflow(by: samples * h.bitDepth)
    return o1 || o2 ? Int.max : bits / 8
  }

  /// Whether the IDAT data could inflate to the whole image (true when unknown).
  var idatCanFillImage: Bool {
    guard let raw = minimumRawBytes else { return true }
    let (capacity, overflow) = idatBytes.multipliedReportingOverflow(by: Self.maxInflateRatio)
    return overflow || capacity + 1024 >= raw
  }

  /// `data` without the colour-space chunks.
  func removingColourSpace(from data: Data) -> Data {
    guard !colourSpaceRanges.isEmpty else { return data }
    var out = Data(capacity: data.count)
    var start = data.startIndex
    for r in colourSpaceRanges {
      out.append(data[start..<data.startIndex + r.lowerBound])
      start = data.startIndex + r.upperBound
    }
    out.append(data[start...])
    return out
  }
}
