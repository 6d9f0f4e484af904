import Engine
import Imaging

// MARK: - Grounding through the pointer head
//
// Prompt: the chat template's user turn (image and instruction, as the text path builds it),
// the assistant prefix, then <|pointer_start|><|pointer_pad|><|pointer_end|>. One prefill; the
// head scores the image tokens (AnyRes: the tiles' tokens, not the thumbnail's; native
// resolution: the whole image's merged tokens, one canvas cell each); the point rule
// (PointerCanvas) picks a region on the canvas, which maps back to the original image through
// the resize (the canvas holds the resized image at its top-left), and the capture's origin is
// added as for text answers.

/// One pointing pass before the point rule: the prompt, the scores, and the grid they lie on.
public struct PointerPass: Sendable {
  /// The prompt as run: images expanded, the pointer tokens at the end.
  public var prepared: PreparedPrompt
  /// The head's scores over the tile tokens, in the format's order.
  public var scores: PointerScores
  /// The AnyRes plan; nil for native-resolution models (Qwen-VL), whose canvas is their resize.
  public var plan: TilePlan?
  public var canvas: PointerCanvas
  /// The original image's size.
  public var imageWidth: Int
  public var imageHeight: Int
}

extension Grounder {
  /// Runs the model's pointer head for `instruction` on `image` (no point rule yet).
  /// - Throws: `invalidArgument` when the model has no pointer head; engine errors.
  public func pointerPass(image: RGBImage, instruction: String) throws(GroundingError) -> PointerPass {
    guard let (network, ids) = pointing, let vision = pipeline.model.vision else {
      throw .invalidArgument("the model '\(pipeline.model.path)' has no pointer head")
    }
    let prompt = promptTemplate.replacingOccurrences(of: "{instruction}", with: instruction)
    var prepared = try pipeline.prepare(prompt: prompt, images: [image])
    prepared.ids += ids.sequence
    guard let embeddings = prepared.imageEmbeddings else { throw .invalidArgument("the pointer prompt holds no image") }
    let plan = prepared.plans.first
    let canvas: PointerCanvas, keyRows: Range<Int>
    if let plan {
      let h = pipeline.tokensPerSide
      canvas = try PointerCanvas(plan: plan, tokensPerSide: h, patchSize: vision.patchSize)
      // The thumbnail's tokens come first among the image embeddings; the head sees the tiles only.
      let first = plan.hasThumbnail ? h * h : 0
      keyRows = first..<(first + canvas.tokenCount)
    } else if case let .nativeResolution(resize) = vision.layout, let grid = prepared.imageGrids.first,
              let size = prepared.resizedSizes.first {
      // Merged tokens row-major over the resized image: a canvas of 1-token "tiles" of
      // patch x merge pixels.
      canvas = try PointerCanvas(tileRows: grid.h / resize.mergeSize, tileCols: grid.w / resize.mergeSize,
                                 tokensPerSide: 1, tileSize: resize.factor, cell: resize.factor,
                                 resizedWidth: size.width, resizedHeight: size.height)
      keyRows = 0..<canvas.tokenCount
    } else {
      throw .invalidArgument("the pointer prompt holds no image")
    }
    let scores: PointerScores
    do {
      scores = try network.pointerScores(tokens: prepared.ids, imageEmbeddings: embeddings, imageGrids: prepared.imageGrids,
                                         imagePadId: vision.tokenIds.imagePad, keyRows: keyRows)
    } catch { throw .engine(error) }
    return PointerPass(prepared: prepared, scores: scores, plan: plan, canvas: canvas,
                       imageWidth: image.width, imageHeight: image.height)
  }

  /// `ground` for a model with a pointer head.
  func groundWithPointer(image: RGBImage, instruction: String, origin: ScreenPoint) throws(GroundingError) -> GroundingResult {
    let pass = try pointerPass(image: image, instruction: instruction)
    let region = try pass.canvas.bestRegion(scores: pass.scores.scores)
    let mapped = Self.imagePixels(region, canvas: pass.canvas, imageWidth: pass.imageWidth, imageHeight: pass.imageHeight)
    var result = GroundingResult(
      point: nil, box: nil, answer: "", reasoning: "", noCoordinate: nil, grid: pass.plan?.grid,
      timings: ["preprocess": pass.prepared.preprocessSeconds, "vision": pass.prepared.visionSeconds,
                "prefill": pass.scores.prefillSeconds, "pointer": pass.scores.headSeconds],
      method: .pointer, score: region.score, imagePoint: mapped.point)
    guard region.score >= minimumScore else {
      result.noCoordinate = .belowMinimumScore(score: region.score, minimum: minimumScore)
      return result
    }
    result.point = ScreenPoint(x: origin.x + mapped.pixel.x, y: origin.y + mapped.pixel.y)
    result.box = PixelRect(x: origin.x + mapped.box.x, y: origin.y + mapped.box.y,
                           width: mapped.box.width, height: mapped.box.height)
    return result
  }

  /// A region's point and box in original-image pixels, through the resize applied (the
  /// canvas holds the resized image at its top-left; x scales by W / resized width): the
  /// point's pixel is floor(p) and the box holds the pixels floor(x0) ... ceil(x1) - 1 of its
  /// cells' edges, each clamped into the image.
  static func imagePixels(_ region: PointerRegion, canvas: PointerCanvas, imageWidth w: Int,
                          imageHeight h: Int) -> (point: ImagePoint, pixel: ScreenPoint, box: PixelRect) {
    func original(_ p: ImagePoint) -> ImagePoint {
      ImagePoint(x: p.x * Double(w) / Double(canvas.resizedWidth), y: p.y * Double(h) / Double(canvas.resizedHeight))
    }
    let p = original(region.point)
    let a = original(ImagePoint(x: Double(region.box.x0), y: Double(region.box.y0)))
    let b = original(ImagePoint(x: Double(region.box.x1), y: Double(region.box.y1)))
    let x0 = clampedPixel(a.x, w), y0 = clampedPixel(a.y, h)
    let x1 = max(x0, clampedPixel(b.x.rounded(.up) - 1, w)), y1 = max(y0, clampedPixel(b.y.rounded(.up) - 1, h))
    return (p, ScreenPoint(x: clampedPixel(p.x, w), y: clampedPixel(p.y, h)),
            PixelRect(x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1))
  }
}
