import Foundation
import Grounding
import Imaging

/// `POST /v1/parse`: {image | capture [, monitor], words?, scale?, segmentation?, language?}
/// -> {area, elements: [{id, kind, text, box, confidence}], milliseconds, parser, image_size}.
extension GUIAgentService {
  static let parseFields: Set<String> = ["image", "capture", "monitor", "words", "scale", "segmentation", "language"]

  func parse(_ request: HTTPRequest) throws -> HTTPResponse {
    let body = try JSONFields(body: request.body)
    try body.rejectUnknown(Self.parseFields)
    var options = TesseractParser.Options()
    options.level = try body.bool("words") == true ? .words : .lines
    options.scale = try body.double("scale", in: 1...4) ?? options.scale
    if let s = try body.string("segmentation") {
      guard let mode = PageSegmentation(rawValue: s) else { throw RequestError.field("segmentation", "'\(s)' is not sparse, auto or block") }
      options.pageSegmentation = mode
    }
    let language = try body.string("language")
    options.language = language ?? options.language
    let (image, origin) = try screenshot(body)
    let area = PixelRect(x: origin.x, y: origin.y, width: image.width, height: image.height)
    let parsers = ocrParsers, chosen = options
    // OCR takes seconds of CPU on a full screen: it waits its turn with model work.
    let (result, name): (ScreenParse, String) = try inQueue(request.cancellation) {
      do {
        return try parsers.with(chosen) { parser in (try parser.parse(image, area: area), parser.name) }
      } catch let error as GroundingError {
        throw Self.ocrRequestError(error, languageGiven: language != nil)
      }
    }
    var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(result)) as? [String: Any] ?? [:]
    object["parser"] = name
    object["image_size"] = [image.width, image.height]
    return .json(object)
  }

  /// A language the client named and that cannot be loaded is its mistake (400); the default
  /// language missing is the server's (503).
  static func ocrRequestError(_ error: GroundingError, languageGiven: Bool) -> RequestError {
    switch error {
    case .invalidArgument: .field("language", error.localizedDescription)
    case .ocrDataMissing, .ocrLanguageUnavailable:
      languageGiven ? .field("language", error.localizedDescription)
        : RequestError(503, "OCR is unavailable: \(error.localizedDescription)")
    default: RequestError(500, error.localizedDescription)
    }
  }
}

/// Tesseract parsers kept between requests (loading a language takes a while), one per option
/// set, each used by one request at a time.
final class OCRParsers: @unchecked Sendable {
  private let lock = NSLock()
  private var parsers: [TesseractParser.Options: TesseractParser] = [:]
  /// Option sets kept at most; a request with yet another starts the collection over.
  private let capacity = 4

  func with<T>(_ options: TesseractParser.Options, _ body: (TesseractParser) throws -> T) throws -> T {
    lock.lock()
    defer { lock.unlock() }
    if let parser = parsers[options] { return try body(parser) }
    let parser = try TesseractParser(options: options)
    if parsers.count >= capacity { parsers.removeAll() }
    parsers[options] = parser
    return try body(parser)
  }
}
