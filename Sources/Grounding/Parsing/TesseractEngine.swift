import CTesseract
import Foundation
import Imaging

/// A word or line as Tesseract read it, in the pixels of the image it was given.
struct RecognizedText {
  var text: String
  /// Left, top inclusive; right, bottom exclusive (Tesseract's `BoundingBox`).
  var left: Int, top: Int, right: Int, bottom: Int
  var confidence: Double
}

/// A text line and the words on it, as Tesseract's layout analysis grouped them.
struct RecognizedLine {
  var line: RecognizedText
  var words: [RecognizedText]
}

/// One Tesseract engine (`TessBaseAPI`) with its language loaded: the C API wrapped so that
/// every handle and string it returns is freed. Not thread-safe; one per thread.
final class TesseractEngine {
  private let handle: OpaquePointer
  let dataPath: String
  let language: String

  /// Loads `language` (`eng`, or several as `eng+deu`) from the tessdata folder `dataPath`.
  init(dataPath: String, language: String) throws(GroundingError) {
    guard let handle = TessBaseAPICreate() else { throw .ocrEngine("TessBaseAPICreate returned nothing") }
    // Init3 fails (non-zero) when a language's .traineddata is missing or unreadable; Tesseract
    // also prints why on standard error.
    guard TessBaseAPIInit3(handle, dataPath, language) == 0 else {
      TessBaseAPIDelete(handle)
      throw .ocrLanguageUnavailable(language: language, dataPath: dataPath)
    }
    self.handle = handle
    self.dataPath = dataPath
    self.language = language
  }

  deinit {
    TessBaseAPIEnd(handle)
    TessBaseAPIDelete(handle)
  }

  /// "5.3.0".
  static var version: String { TessVersion().map { String(cString: $0) } ?? "unknown" }

  /// Reads `image` into lines of words. `ppi` tells Tesseract the text's resolution (it otherwise
  /// guesses, and warns, from the image size).
  func recognize(_ image: RGBImage, ppi: Int, pageSegmentation: TessPageSegMode) throws(GroundingError) -> [RecognizedLine] {
    TessBaseAPISetPageSegMode(handle, pageSegmentation)
    // SetImage copies the pixels into Tesseract's own image, so the buffer need live only for the call.
    image.pixels.withUnsafeBufferPointer { buffer in
      TessBaseAPISetImage(handle, buffer.baseAddress, Int32(image.width), Int32(image.height), 3, Int32(image.width * 3))
    }
    TessBaseAPISetSourceResolution(handle, Int32(ppi))
    defer { TessBaseAPIClear(handle) }
    guard TessBaseAPIRecognize(handle, nil) == 0 else { throw .ocrEngine("recognition failed on a \(image.width)x\(image.height) image") }
    // No iterator: nothing was found on the page.
    guard let iterator = TessBaseAPIGetIterator(handle) else { return [] }
    defer { TessResultIteratorDelete(iterator) }
    let page = TessResultIteratorGetPageIteratorConst(iterator)
    var lines: [RecognizedLine] = []
    repeat {
      guard let word = read(iterator, page, level: RIL_WORD) else { continue }
      if lines.isEmpty || TessPageIteratorIsAtBeginningOf(page, RIL_TEXTLINE) != 0 {
        lines.append(RecognizedLine(line: read(iterator, page, level: RIL_TEXTLINE) ?? word, words: []))
      }
      lines[lines.count - 1].words.append(word)
    } while TessResultIteratorNext(iterator, RIL_WORD) != 0
    return lines
  }

  /// The text, box and confidence at the iterator's position on `level`; nil when it has no box.
  private func read(_ iterator: OpaquePointer, _ page: OpaquePointer?, level: TessPageIteratorLevel) -> RecognizedText? {
    var left: Int32 = 0, top: Int32 = 0, right: Int32 = 0, bottom: Int32 = 0
    guard TessPageIteratorBoundingBox(page, level, &left, &top, &right, &bottom) != 0 else { return nil }
    var text = ""
    if let utf8 = TessResultIteratorGetUTF8Text(iterator, level) {
      text = String(cString: utf8).trimmingCharacters(in: .whitespacesAndNewlines)
      TessDeleteText(utf8)
    }
    return RecognizedText(text: text, left: Int(left), top: Int(top), right: Int(right), bottom: Int(bottom),
                          confidence: Double(TessResultIteratorConfidence(iterator, level)))
  }
}
