import Foundation

/// Errors of image construction and PNG coding; each carries the value that was wrong.
public enum ImagingError: Error, LocalizedError, Equatable {
  case badDimensions(width: Int, height: Int)
  case pixelCountMismatch(expected: Int, actual: Int)
  case regionOutside(PixelRect, width: Int, height: Int)

  public var errorDescription: String? {
    switch self {
    case let .badDimensions(w, h): "invalid image dimensions \(w)x\(h)"
    case let .pixelCountMismatch(e, a): "pixel buffer holds \(a) bytes, expected \(e)"
    case let .regionOutside(r, w, h): "region \(r) is not inside the \(w)x\(h) image"
    }
  }
}
