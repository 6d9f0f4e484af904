import Foundation

/// A light walk over PNG chunks (length, type, data, CRC) before the first IDAT, used to drop
/// the colour-space chunks (gAMA, sRGB, iCCP, cHRM) so that libpng passes samples through
/// unconverted, as PIL does. It never judges validity: on
/// anything malformed it stops and leaves the errors to libpng.
enum PNGChunks {
  /// 8-byte signature; chunks start after it.
  static let signatureLength = 8

  /// Chunk types that make libpng convert samples; all must precede IDAT.
  static let colourSpaceTypes: [(UInt8, UInt8, UInt8, UInt8)] = [
    (0x67, 0x41, 0x4D, 0x41),  // gAMA
    (0x73, 0x52, 0x47, 0x42),  // sRGB
    (0x69, 0x43, 0x43, 0x50),  // iCCP
    (0x63, 0x48, 0x52, 0x4D),  // cHRM
  ]

  /// Byte ranges (whole chunks, header and CRC included) of colour-space chunks before the first IDAT.
  static func colourSpaceChunks(in data: Data) -> [Range<Int>] {
    data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> [Range<Int>] in
      var found: [Range<Int>] = []
      var pos = signatureLength
      // Each chunk: length (4, big-endian), type (4), data (length), CRC (4).
      while bytes.count - pos >= 12 {
        let length = bytes[pos..<pos + 4].reduce(0) { $0 << 8 | Int($1) }
        let type = (bytes[pos + 4], bytes[pos + 5], bytes[pos + 6], bytes[pos + 7])
        let (end, overflow) = (pos + 12).addingReportingOverflow(length)
        guard !overflow, end <= bytes.count else { break }
        if type == (0x49, 0x44, 0x41, 0x54) { break }  // IDAT
        if colourSpaceTypes.contains(where: { $0 == type }) { found.append(pos..<end) }
        pos = end
      }
      return found
    }
  }

  /// `data` without the given (sorted, disjoint) byte ranges.
  static func removing(_ ranges: [Range<Int>], from data: Data) -> Data {
    var out = Data(capacity: data.count)
    var start = data.startIndex
    for r in ranges {
      out.append(data[start..<data.startIndex + r.lowerBound])
      start = data.startIndex + r.upperBound
    }
    out.append(data[start...])
    return out
  }
}
