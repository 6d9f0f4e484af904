import Foundation
import Grounding
import Imaging

// MARK: - Images

extension FuzzTarget {
  static let imageTargets: [FuzzTarget] = [
    FuzzTarget("png", "PNG bytes: PNG.decode (libpng, chunk walk, alpha, 16-bit), then AnyRes tiles of small images",
               maxLength: 64 << 10, dictionary: "png") { data in
      guard let image = attempt("png", { try PNG.decode(data) }) else { return }
      // What a grounding request does next. Large images are left out: resizing one that is
      // truly large is slow by nature, not a finding.
      guard image.width * image.height <= 1 << 20 else { return }
      _ = attempt("anyres", { try tinyProcessor.process(image: image) })
    },
  ]

  /// The tiny test checkpoint's AnyRes settings: 42-pixel tiles, up to 3x3 (6 tiles) and a thumbnail.
  static let tinyProcessor: AnyResProcessor = {
    // Valid constants: a failure here is a harness error.
    guard let config = try? AnyResConfig(tileSize: 42, maxRows: 3, maxCols: 3, maxTiles: 6, thumbnail: true,
                                         imageMean: [0.5, 0.5, 0.5], imageStd: [0.5, 0.5, 0.5], resample: .bicubic)
    else { fatalError("fuzz harness: the tiny AnyRes settings are invalid") }
    return AnyResProcessor(config: config)
  }()
}
