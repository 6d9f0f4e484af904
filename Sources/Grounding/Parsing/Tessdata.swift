import Foundation

/// Where Tesseract's language models (`<language>.traineddata`) are found.
public enum Tessdata {
  /// Debian's and other common install folders, searched after `TESSDATA_PREFIX`.
  public static let standardFolders = [
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
  ]

  /// The first folder that holds a model for every language of `language` (`eng`, `eng+deu`):
  /// `given` alone when not nil, else `TESSDATA_PREFIX` (the tessdata folder itself, or its parent
  /// as Tesseract 3 had it), then ``standardFolders``.
  public static func folder(for language: String, given: String? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws(GroundingError) -> String {
    let languages = try names(language)
    var candidates: [String]
    if let given {
      candidates = [given]
    } else {
      candidates = []
      if let prefix = environment["TESSDATA_PREFIX"], !prefix.isEmpty {
        candidates += [prefix, (prefix as NSString).appendingPathComponent("tessdata")]
      }
      candidates += standardFolders
    }
    let found = candidates.first { folder in
      languages.allSatisfy { FileManager.default.isReadableFile(atPath: (folder as NSString).appendingPathComponent("\($0).traineddata")) }
    }
    guard let found else { throw .ocrDataMissing(language: language, searched: candidates) }
    return found
  }

  /// `eng+deu` -> ["eng", "deu"]; only letters, digits and `_` in a name, so that a language
  /// cannot name a path.
  static func names(_ language: String) throws(GroundingError) -> [String] {
    let parts = language.split(separator: "+", omittingEmptySubsequences: false).map(String.init)
    let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "_"))
    guard parts.allSatisfy({ !$0.isEmpty && $0.unicodeScalars.allSatisfy { $0.isASCII && allowed.contains($0) } }) else {
      throw .invalidArgument("OCR language '\(language)' is not a name like eng or eng+deu")
    }
    return parts
  }
}
