/// An 8-bit RGB image, the one pixel type of the project: screenshots, PNG files and model inputs.
///
/// Pixels are stored row-major, three bytes per pixel, no padding: `pixels[(y * width + x) * 3 + c]`.
public struct RGBImage: Sendable, Equatable {
  public let width: Int
  public let height: Int
  /// (height, width, 3) RGB bytes.
  public var pixels: [UInt8]

  /// Wraps existing bytes; the count must be exactly `width * height * 3`.
  public init(width: Int, height: Int, pixels: [UInt8]) throws(ImagingError) {
    guard width > 0, height > 0 else { throw .badDimensions(width: width, height: height) }
    let (n, overflow) = width.multipliedReportingOverflow(by: height)
    guard !overflow, n <= Int.max / 3, pixels.count == n * 3 else {
      throw .pixelCountMismatch(expected: overflow ? -1 : n * 3, actual: pixels.count)
    }
    self.width = width
    self.height = height
    self.pixels = pixels
  }

  /// An image filled with one colour.
  public init(width: Int, height: Int, fill: RGB = RGB(0, 0, 0)) throws(ImagingError) {
    guard width > 0, height > 0 else { throw .badDimensions(width: width, height: height) }
    let (n, overflow) = width.multipliedReportingOverflow(by: height)
    guard !overflow, n <= Int.max / 3 else { throw .badDimensions(width: width, height: height) }
    var px = [UInt8](repeating: 0, count: n * 3)
    if fill != RGB(0, 0, 0) {
      for i in 0..<n { px[3 * i] = fill.r; px[3 * i + 1] = fill.g; px[3 * i + 2] = fill.b }
    }
    self.width = width
    self.height = height
    self.pixels = px
  }

  @inlinable public subscript(x: Int, y: Int) -> RGB {
    get {
      let i = (y * width + x) * 3
      return RGB(pixels[i], pixels[i + 1], pixels[i + 2])
    }
    set {
      let i = (y * width + x) * 3
      pixels[i] = newValue.r; pixels[i + 1] = newValue.g; pixels[i + 2] = newValue.b
    }
  }

  /// The pixels of `rect`, which must lie inside the image.
  public func cropped(to rect: PixelRect) throws(ImagingError) -> RGBImage {
    guard rect.width > 0, rect.height > 0, rect.x >= 0, rect.y >= 0,
          rect.x + rect.width <= width, rect.y + rect.height <= height
    else { throw .regionOutside(rect, width: width, height: height) }
    var out = [UInt8](repeating: 0, count: rect.width * rect.height * 3)
    let rowBytes = rect.width * 3
    pixels.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        for row in 0..<rect.height {
          let s = ((rect.y + row) * width + rect.x) * 3
          for k in 0..<rowBytes { dst[row * rowBytes + k] = src[s + k] }
        }
      }
    }
    return try RGBImage(width: rect.width, height: rect.height, pixels: out)
  }
}

/// One RGB colour.
public struct RGB: Sendable, Equatable, Hashable {
  public var r: UInt8, g: UInt8, b: UInt8
  public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
}

/// An axis-aligned rectangle in pixels: origin at the top-left, extending right and down.
public struct PixelRect: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
  public var x: Int, y: Int, width: Int, height: Int
  public init(x: Int, y: Int, width: Int, height: Int) {
    self.x = x; self.y = y; self.width = width; self.height = height
  }
  public func contains(x px: Int, y py: Int) -> Bool {
    px >= x && py >= y && px < x + width && py < y + height
  }
  public var description: String { "\(width)x\(height)+\(x)+\(y)" }
}
