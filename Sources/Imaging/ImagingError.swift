import Foundation

/// Errors of image construction and PNG coding; each carries the value that was wrong.
public enum ImagingError: Error, LocalizedError, Equatable {
  case badDimensions(width: Int, height: Int)
  case pixelCountMismatch(expected: Int, actual: Int)
  case regionOutside(PixelRect, width: Int, height: Int)
  /// libpng rejected the data; `reason` is its message (bad signature, CRC error, truncation...).
  case pngDecodeFailed(reason: String)
  /// The PNG header declares more pixels than the caller allows (checked before any allocation).
  case pngTooLarge(width: Int, height: Int, maxPixels: Int)
  case pngEncodeFailed(reason: String)
  case fileUnreadable(path: String, reason: String)
  case fileUnwritable(path: String, reason: String)

  public var errorDescription: String? {
    switch self {
    case let .badDimensions(w, h): "invalid image dimensions \(w)x\(h)"
    case let .pixelCountMismatch(e, a): "pixel buffer holds \(a) bytes, expected \(e)"
    case let .regionOutside(r, w, h): "region \(r) is not inside the \(w)x\(h) image"
    case let .pngDecodeFailed(reason): "cannot decode PNG: \(reason)"
    case let .pngTooLarge(w, h, m): "PNG of \(w)x\(h) pixels exceeds the limit of \(m) pixels"
    case let .pngEncodeFailed(reason): "cannot encode PNG: \(reason)"
    case let .fileUnreadable(path, reason): "cannot read \(path): \(reason)"
    case let .fileUnwritable(path, reason): "cannot write \(path): \(reason)"
    }
  }
}
