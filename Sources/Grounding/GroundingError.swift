import Engine
import Foundation
import Imaging

/// Errors of the Grounding module; each case carries the value that was wrong.
public enum GroundingError: Error, LocalizedError, Equatable {
  case invalidArgument(String)
  /// A field of the `anyres` configuration is out of range, e.g. `tile_size` 0.
  case invalidAnyResConfig(field: String, value: String)
  /// An image too large for exact grid arithmetic (either side above 2^30 pixels).
  case imageTooLarge(width: Int, height: Int)
  /// The tile size is not a whole number of vision patches.
  case tileNotMultipleOfPatch(tileSize: Int, patchSize: Int)
  /// A token sequence holds a different number of `image_pad` placeholders than images given.
  case imagePlaceholderMismatch(placeholders: Int, images: Int)
  /// An image size that no coordinate can be mapped into (a side of 0 or less).
  case invalidImageSize(width: Int, height: Int)
  /// Resizing an image for the vision tower failed.
  case imaging(ImagingError)
  /// The model's family has no vision tower.
  case modelTakesNoImages(family: String)
  /// The engine failed while encoding images or generating.
  case engine(EngineError)
  /// A benchmark annotation file that cannot be used as a whole (unreadable, not a JSON list,
  /// format not recognised).
  case annotationFile(path: String, reason: String)
  /// A results (JSONL) or predictions file with a bad record; `line` is 1-based (0: the whole file).
  case recordFile(path: String, line: Int, reason: String)
  /// Two records for the same sample that disagree (e.g. two shards that both scored it).
  case conflictingRecords(sample: String, first: String, second: String)
  /// No folder searched holds Tesseract's model for the language (`<language>.traineddata`).
  case ocrDataMissing(language: String, searched: [String])
  /// Tesseract found the folder but could not load the language from it.
  case ocrLanguageUnavailable(language: String, dataPath: String)
  /// The OCR engine failed on an image.
  case ocrEngine(String)
  /// Results files that do not make one whole run: a shard missing or given twice, or files of
  /// different annotations or setups. The message names the shard and files.
  case shardSet(String)

  public var errorDescription: String? {
    switch self {
    case let .invalidArgument(message): message
    case let .invalidAnyResConfig(field, value): "invalid anyres.\(field): \(value)"
    case let .imageTooLarge(w, h): "image \(w)x\(h) is too large (each side must be at most 2^30 pixels)"
    case let .tileNotMultipleOfPatch(t, p): "tile size \(t) is not a multiple of the patch size \(p)"
    case let .imagePlaceholderMismatch(p, i): "the token sequence holds \(p) image placeholders for \(i) images"
    case let .invalidImageSize(w, h): "invalid image size \(w)x\(h)"
    case let .imaging(e): "image resize failed: \(e.localizedDescription)"
    case let .modelTakesNoImages(f): "the \(f) model takes no images"
    case let .engine(e): e.localizedDescription
    case let .annotationFile(path, reason): "annotation file \(path): \(reason)"
    case let .recordFile(path, line, reason): line > 0 ? "\(path) line \(line): \(reason)" : "\(path): \(reason)"
    case let .conflictingRecords(sample, first, second): "conflicting results for \(sample): \(first) vs \(second)"
    case let .ocrDataMissing(language, searched):
      "no Tesseract data for language '\(language)' in \(searched.joined(separator: ", ")) "
        + "(install tesseract-ocr-\(language.split(separator: "+").first ?? "eng") or set TESSDATA_PREFIX to its tessdata folder)"
    case let .ocrLanguageUnavailable(language, dataPath): "Tesseract could not load language '\(language)' from \(dataPath)"
    case let .ocrEngine(message): "OCR failed: \(message)"
    case let .shardSet(message): message
    }
  }
}
