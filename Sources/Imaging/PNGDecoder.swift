import CPNG
import Foundation

/// One decode through libpng's simplified API; see ``PNG`` for the conventions it matches.
struct PNGDecoder {
  let maxPixels: Int
  let background: RGB

  // MARK: - Decode

  func decode(_ data: Data) throws(ImagingError) -> RGBImage {
    guard !data.isEmpty else { throw .pngDecodeFailed(reason: "no data (0 bytes)") }
    // PIL ignores gAMA/sRGB/iCCP/cHRM; libpng would convert samples by them. Without them libpng
    // takes 8-bit samples as sRGB (its output space) and 16-bit ones as linear (ours, below).
    let chunks = PNGChunks(data)
    let source = chunks.removingColourSpace(from: data)
    // Data.withUnsafeBytes rethrows untyped errors; carry the typed one out in a Result.
    let result = source.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
      Result { () throws(ImagingError) in try decode(bytes, chunks: chunks) }
    }
    return try result.get()
  }

  private func decode(_ bytes: UnsafeRawBufferPointer, chunks: PNGChunks) throws(ImagingError) -> RGBImage {
    var image = png_image()
    image.version = png_uint_32(PNG_IMAGE_VERSION)
    // Frees libpng's state on every path (a no-op once finish_read or an error has freed it).
    defer { png_image_free(&image) }
    // libpng reads the signature and every chunk up to the first IDAT here; `bytes` must stay
    // valid until finish_read, which the caller's withUnsafeBytes guarantees.
    guard png_image_begin_read_from_memory(&image, bytes.baseAddress, bytes.count) != 0 else {
      throw .pngDecodeFailed(reason: Self.message(of: image))
    }

    // MARK: Size checks, before any allocation
    let width = Int(image.width), height = Int(image.height)
    let (pixelCount, overflow) = width.multipliedReportingOverflow(by: height)
    guard width > 0, height > 0 else { throw .badDimensions(width: width, height: height) }
    guard !overflow, pixelCount <= maxPixels else {
      throw .pngTooLarge(width: width, height: height, maxPixels: maxPixels)
    }
    // A header may promise far more than the file holds: refuse what deflate cannot produce.
    guard chunks.idatCanFillImage else {
      throw .pngDecodeFailed(reason: "\(chunks.idatBytes) bytes of image data cannot inflate to \(width)x\(height) "
                             + "pixels (deflate expands at most \(PNGChunks.maxInflateRatio)-fold)")
    }
    let fileFormat = image.format
    // Alpha (an alpha channel or a tRNS chunk) is read unflattened and composited below, in
    // encoded values; opaque files are read straight to RGB.
    let hasAlpha = fileFormat & png_uint_32(PNG_FORMAT_FLAG_ALPHA) != 0
    let is16Bit = fileFormat & png_uint_32(PNG_FORMAT_FLAG_LINEAR) != 0
    let channels = hasAlpha ? 4 : 3
    let (count, countOverflow) = pixelCount.multipliedReportingOverflow(by: channels)
    let (rowStride, strideOverflow) = width.multipliedReportingOverflow(by: channels)
    guard !countOverflow, !strideOverflow, rowStride <= Int(Int32.max) else {
      throw .pngTooLarge(width: width, height: height, maxPixels: maxPixels)
    }

    // MARK: Pixels
    image.format = png_uint_32(PNG_FORMAT_FLAG_COLOR)
      | (hasAlpha ? png_uint_32(PNG_FORMAT_FLAG_ALPHA) : 0)
      | (is16Bit ? png_uint_32(PNG_FORMAT_FLAG_LINEAR) : 0)
    var pixels: [UInt8]
    if is16Bit {
      // 16-bit files are read at 16 bits and narrowed here: libpng's own 16 -> 8-bit path
      // corrupts Adam7 images (pnggroup/libpng#853). With the LINEAR output format and no
      // colour-space chunk, libpng passes samples through unchanged (alpha premultiplied).
      // (height, width, channels) 16-bit samples.
      var samples = [UInt16](repeating: 0, count: count)
      try Self.finishRead(&image, into: &samples, rowStride: rowStride)
      pixels = Self.narrow(samples, pixelCount: pixelCount, hasAlpha: hasAlpha, onto: background)
    } else {
      // (height, width, channels) bytes.
      pixels = [UInt8](repeating: 0, count: count)
      try Self.finishRead(&image, into: &pixels, rowStride: rowStride)
      if hasAlpha { Self.flatten(&pixels, pixelCount: pixelCount, onto: background) }
    }
    return try RGBImage(width: width, height: height, pixels: pixels)
  }

  /// Decodes the pixels into `buffer`; `rowStride` counts components (bytes or UInt16s).
  private static func finishRead<Sample>(
    _ image: inout png_image, into buffer: inout [Sample], rowStride: Int
  ) throws(ImagingError) {
    let ok = buffer.withUnsafeMutableBytes { raw in
      png_image_finish_read(&image, nil, raw.baseAddress, Int32(rowStride), nil)
    }
    guard ok != 0 else { throw .pngDecodeFailed(reason: message(of: image)) }
  }

  // MARK: - Alpha

  /// RGBA (n, 4) -> RGB (n, 3) in place: `round((a·fg + (255−a)·bg) / 255)` per channel.
  /// The numerator is an integer, so its quotient by 255 never ends in exactly .5 and
  /// `(num + 127) / 255` is the correctly rounded value.
  static func flatten(_ px: inout [UInt8], pixelCount n: Int, onto bg: RGB) {
    let back = (UInt32(bg.r), UInt32(bg.g), UInt32(bg.b))
    px.withUnsafeMutableBufferPointer { p in
      // Writing pixel i to 3i never overtakes the read of pixel i at 4i.
      for i in 0..<n {
        let a = UInt32(p[4 * i + 3]), na = 255 - a
        let r = (a * UInt32(p[4 * i]) + na * back.0 + 127) / 255
        let g = (a * UInt32(p[4 * i + 1]) + na * back.1 + 127) / 255
        let b = (a * UInt32(p[4 * i + 2]) + na * back.2 + 127) / 255
        p[3 * i] = UInt8(truncatingIfNeeded: r)
        p[3 * i + 1] = UInt8(truncatingIfNeeded: g)
        p[3 * i + 2] = UInt8(truncatingIfNeeded: b)
      }
    }
    px.removeLast(n)
  }

  /// 16-bit (n, 3) or premultiplied (n, 4) samples -> 8-bit RGB (n, 3).
  /// Opaque: `round(v / 257)`, as libpng's png_set_scale_16. With alpha, libpng hands
  /// `p = round(c·a / 65535)`, composited at 16-bit precision before one rounding:
  /// `round((p·255 + (65535 − a)·bg) / 65535)` (65535 is odd, so no ties).
  static func narrow(_ s: [UInt16], pixelCount n: Int, hasAlpha: Bool, onto bg: RGB) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: n * 3)
    let back = [UInt64(bg.r), UInt64(bg.g), UInt64(bg.b)]
    s.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        for i in 0..<n {
          let a = hasAlpha ? UInt64(src[4 * i + 3]) : 65535
          let base = hasAlpha ? 4 * i : 3 * i
          for c in 0..<3 {
            let num = UInt64(src[base + c]) * 255 + (65535 - a) * back[c]
            dst[3 * i + c] = UInt8(truncatingIfNeeded: (num + 32767) / 65535)
          }
        }
      }
    }
    return out
  }

  // MARK: - Messages

  /// libpng's error or warning text (a NUL-terminated `char[64]`).
  static func message(of image: png_image) -> String {
    let text = withUnsafeBytes(of: image.message) { raw in
      String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
    return text.isEmpty ? "libpng reported an error without a message" : text
  }
}
