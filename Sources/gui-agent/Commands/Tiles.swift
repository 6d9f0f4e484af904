import Engine
import Foundation
import Grounding
import Imaging

/// `gui-agent tiles`: how AnyRes cuts an image, as numbers and as a picture.
extension Commands {
  static let tiles = Command(
    name: "tiles",
    abstract: "Show how AnyRes tiles an image: the grid, the resize, and a picture of it.",
    discussion: """
      Without --model, the embedded model's tiling (Models/bluelm-vl-nano: 224 px tiles, up to 9x5, \
      thumbnail); where that model is not found, the format's default (378 px tiles, up to 4x4, thumbnail).
      """,
    options: [
      .value("image", "PNG", "The image (required)."),
      .value("model", "PATH", "Take the tiling settings of this checkpoint (default: the embedded model's)."),
      .value("output", short: "o", "FILE.png", "Write the image with the tile grid drawn on it."),
    ],
    run: { args in
      guard let path = args.string("image") else { throw UsageError("missing --image PNG") }
      let image = try PNG.read(path: path)
      let settings: AnyResSettings
      if let model = args.string("model") ?? DefaultModel.path() {
        settings = try ModelLoader.load(path: model).vision.flatMap(\.anyres)
          ?? { throw GroundingError.modelTakesNoImages(family: model) }()
      } else {
        settings = AnyResSettings(tileSize: 378)
      }
      let config = try AnyResConfig(settings)
      let plan = try TilePlan(width: image.width, height: image.height, config: config)
      if let out = args.string("output") {
        try PNG.write(plan.gridPicture(of: image), to: out)
      }
      if args.json {
        var o: [String: Any] = [
          "image": [image.width, image.height], "tile_size": plan.tileSize,
          "grid": [plan.grid.rows, plan.grid.cols], "canvas": [plan.canvasWidth, plan.canvasHeight],
          "resized": [plan.resizedWidth, plan.resizedHeight], "tiles": plan.tileCount,
          "thumbnail": plan.hasThumbnail ? [plan.thumbnailWidth ?? 0, plan.thumbnailHeight ?? 0] : NSNull(),
        ]
        if let out = args.string("output") { o["output"] = out }
        try Output.json(o)
      } else {
        Output.out("image \(image.width)x\(image.height) -> resized \(plan.resizedWidth)x\(plan.resizedHeight) on a \(plan.canvasWidth)x\(plan.canvasHeight) canvas")
        Output.out("grid \(plan.grid.rows) rows x \(plan.grid.cols) cols of \(plan.tileSize) px tiles"
          + (plan.hasThumbnail ? ", plus a \(plan.thumbnailWidth ?? 0)x\(plan.thumbnailHeight ?? 0) thumbnail" : "")
          + " = \(plan.tileCount) tiles for the vision tower")
        if let out = args.string("output") { Output.out("wrote \(out)") }
      }
      return .success
    })
}
