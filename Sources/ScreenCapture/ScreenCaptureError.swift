import Foundation

/// Errors of the ScreenCapture module; each case carries the value that was wrong.
public enum ScreenCaptureError: Error, LocalizedError, Equatable {
  case invalidArgument(String)

  public var errorDescription: String? {
    switch self {
    case let .invalidArgument(message): message
    }
  }
}
