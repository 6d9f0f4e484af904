import CPNG
import Foundation

/// RGB -> PNG bytes through `png_image_write_to_memory`.
enum PNGEncoder {
  // MARK: - Encode

  static func encode(_ image: RGBImage, fast: Bool) throws(ImagingError) -> Data {
    let width = image.width, height = image.height
    let rowStride = width * 3  // RGBImage guarantees width * height * 3 fits in Int
    guard width <= Int(UInt32.max), height <= Int(UInt32.max), rowStride <= Int(Int32.max) else {
      throw .pngEncodeFailed(reason: "\(width)x\(height) is too large for libpng's 32-bit row stride")
    }
    var png = png_image()
    png.version = png_uint_32(PNG_IMAGE_VERSION)
    png.width = png_uint_32(width)
    png.height = png_uint_32(height)
    png.format = png_uint_32(PNG_FORMAT_RGB)
    // FAST: no row filters and zlib level 3; the simplified API offers no other knob.
    png.flags = fast ? png_uint_32(PNG_IMAGE_FLAG_FAST) : 0
    defer { png_image_free(&png) }

    // First try with a bound on the output that libpng cannot exceed for stored data (raw
    // scanlines, zlib's worst case, one IDAT header per 8 KiB, fixed chunks); if libpng ever
    // needs more it reports the size, and the second try uses it.
    let raw = (rowStride + 1) * height
    var capacity = raw + raw / 8 + raw / 64 + 12 * (raw / 8192 + 1) + 1024
    for _ in 0..<2 {
      var size = png_alloc_size_t(capacity)
      var written = 0
      let out = image.pixels.withUnsafeBytes { pixels in
        [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
          let ok = png_image_write_to_memory(&png, buffer.baseAddress, &size, 0, pixels.baseAddress,
                                             Int32(rowStride), nil)
          written = ok != 0 ? Int(size) : 0
          count = written
        }
      }
      if written > 0 { return Data(out) }
      // Failure with a larger size means "buffer too small"; anything else is an error.
      guard Int(size) > capacity else { break }
      capacity = Int(size)
      png = Self.reset(png)
    }
    throw .pngEncodeFailed(reason: PNGDecoder.message(of: png))
  }

  /// A fresh `png_image` with the same description, for a second write.
  private static func reset(_ old: png_image) -> png_image {
    var png = png_image()
    png.version = old.version
    png.width = old.width
    png.height = old.height
    png.format = old.format
    png.flags = old.flags
    return png
  }
}
