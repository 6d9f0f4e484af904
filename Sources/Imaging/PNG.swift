import Foundation

/// PNG reading and writing through libpng's simplified API (`png_image_*`).
///
/// libpng's classic API reports errors by `longjmp`, which Swift cannot host; the simplified API
/// catches them inside libpng and returns the message in `png_image.message`, so every bad input
/// becomes a thrown ``ImagingError`` and never ends the process.
///
/// Decoding matches PIL (`Image.open(path).convert("RGB")` on 8-bit files) byte for byte:
/// - every colour type and bit depth (1/2/4/8/16-bit gray, gray+alpha, palette with or without
///   tRNS, RGB, RGBA, tRNS colour keys) and Adam7 interlacing;
/// - samples are taken as they are: gAMA, sRGB, iCCP and cHRM chunks are ignored, as PIL ignores
///   them (libpng alone converts by them: 72 levels off on a gAMA 1.0 fixture);
/// - alpha is flattened onto `background` in the encoded (sRGB) values, not in linear light:
///   `out = round((a·fg + (255−a)·bg) / 255)` with 8-bit `a`, `fg`, `bg`. (The simplified API's
///   own compositing linearises first: up to 72 levels from PIL on the RGBA fixture.)
/// - 16-bit samples become `round(v / 257)` (libpng's `png_set_scale_16`); PIL keeps the high
///   byte (`v >> 8`), at most 1 level away. 16-bit alpha is composited at 16 bits and rounded
///   once (see `PNGDecoder.narrow`), within 2 levels of PIL's 8-bit compositing.
///
/// libpng warnings (an ancillary chunk with a bad CRC, which it skips) do not fail a decode.
public enum PNG {
  /// The default cap on `width * height`: 200 megapixels (about 600 MB of RGB).
  public static let defaultMaxPixels = 200_000_000

  /// How hard the encoder works. The simplified API exposes two settings, not a zlib level.
  public enum Compression: Sendable {
    /// Adaptive row filters and zlib's default level (6): smaller files.
    case standard
    /// No row filters and zlib level 3 (`PNG_IMAGE_FLAG_FAST`): several times faster, for
    /// screenshots and debugging pictures.
    case fast
  }

  // MARK: - Decoding

  /// Decodes PNG data to RGB.
  ///
  /// - Parameters:
  ///   - maxPixels: the largest `width * height` accepted; checked on the header, before the
  ///     pixel buffer is allocated.
  ///   - background: the colour that transparent pixels are flattened onto.
  /// - Throws: ``ImagingError/pngDecodeFailed(reason:)`` for data that is not a valid PNG
  ///   (libpng's message as the reason), ``ImagingError/pngTooLarge(width:height:maxPixels:)``.
  public static func decode(
    _ data: Data, maxPixels: Int = defaultMaxPixels, background: RGB = RGB(255, 255, 255)
  ) throws(ImagingError) -> RGBImage {
    try PNGDecoder(maxPixels: maxPixels, background: background).decode(data)
  }

  /// Reads and decodes the PNG file at `path`; see ``decode(_:maxPixels:background:)``.
  public static func read(
    path: String, maxPixels: Int = defaultMaxPixels, background: RGB = RGB(255, 255, 255)
  ) throws(ImagingError) -> RGBImage {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
      throw .fileUnreadable(path: path, reason: error.localizedDescription)
    }
    return try decode(data, maxPixels: maxPixels, background: background)
  }

  // MARK: - Encoding

  /// Encodes an image as an 8-bit RGB PNG (with an sRGB chunk, as libpng writes for 8-bit data).
  public static func encode(_ image: RGBImage, compression: Compression = .standard) throws(ImagingError) -> Data {
    try PNGEncoder.encode(image, fast: compression == .fast)
  }

  /// Encodes `image` and writes it to `path` atomically (a temporary file, then a rename).
  public static func write(_ image: RGBImage, to path: String, compression: Compression = .standard) throws(ImagingError) {
    let data = try encode(image, compression: compression)
    do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
      throw .fileUnwritable(path: path, reason: error.localizedDescription)
    }
  }
}
