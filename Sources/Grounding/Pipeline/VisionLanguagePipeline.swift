import Engine
import Foundation
import Imaging

/// A prompt ready for the decoder: the expanded token ids and the image embeddings that fill
/// their `image_pad` positions, in order.
public struct PreparedPrompt: Sendable {
  /// The sequence the decoder sees, images expanded.
  public var ids: [Int]
  /// (features, D_lm) adapter outputs for every image-feature position; nil without images.
  public var imageEmbeddings: [Float]?
  /// One tiling plan per image, in order (AnyRes families; empty for native-resolution ones).
  public var plans: [TilePlan]
  /// Native-resolution families: each image's patch grid and the size it was resized to.
  public var imageGrids: [ImageGrid] = []
  public var resizedSizes: [(width: Int, height: Int)] = []
  /// Seconds spent on AnyRes (resize, tiles) and on the vision tower plus adapter.
  public var preprocessSeconds: Double
  public var visionSeconds: Double
}

/// Text and images in, a prompt for the decoder out: the chat template, the AnyRes processor,
/// the vision tower over all tiles of all images in one batch, and the token layout.
public struct VisionLanguagePipeline: Sendable {
  public let model: LoadedModel
  public let processor: AnyResProcessor?
  /// Adapter tokens per tile side (h).
  public let tokensPerSide: Int

  public init(model: LoadedModel) throws(GroundingError) {
    self.model = model
    if let vision = model.vision, let anyres = vision.anyres {
      processor = AnyResProcessor(config: try AnyResConfig(anyres))
      tokensPerSide = try ImageTokenLayout.tokensPerSide(tileSize: anyres.tileSize, patchSize: vision.patchSize)
    } else {
      processor = nil
      tokensPerSide = 0
    }
  }

  /// The image placeholder the text uses (`<|image_pad|>` for bluelm_vl;
  /// `<|vision_start|><|image_pad|><|vision_end|>` for Qwen-VL).
  public var imagePlaceholder: String? {
    guard let vision = model.vision, let pad = model.tokenizer.token(for: vision.tokenIds.imagePad) else { return nil }
    guard case .nativeResolution = vision.layout,
          let open = model.tokenizer.token(for: vision.tokenIds.imageStart),
          let close = model.tokenizer.token(for: vision.tokenIds.imageEnd) else { return pad }
    return open + pad + close
  }

  /// The size `image` is resized to before the vision tower: smart_resize for native-resolution
  /// families, the AnyRes resize for tiling ones, the image itself for text-only models.
  public func inputSize(of image: RGBImage) throws(GroundingError) -> (width: Int, height: Int) {
    if let vision = model.vision, case let .nativeResolution(resize) = vision.layout {
      do {
        let t = try resize.targetSize(height: image.height, width: image.width)
        return (t.width, t.height)
      } catch { throw .engine(error) }
    }
    if let processor {
      let plan = try TilePlan(width: image.width, height: image.height, config: processor.config)
      return (plan.resizedWidth, plan.resizedHeight)
    }
    return (image.width, image.height)
  }

  /// Builds the decoder's input for `prompt` and `images`.
  ///
  /// Without `raw`, the chat template wraps the prompt, and the images' placeholders go before
  /// the text unless the prompt already holds one per image. With `raw`, the prompt is taken as
  /// it is and must hold exactly one placeholder per image.
  public func prepare(prompt: String, images: [RGBImage] = [], raw: Bool = false,
                      thinking: ThinkingMode = .default) throws(GroundingError) -> PreparedPrompt {
    guard images.isEmpty || model.vision != nil else {
      throw .modelTakesNoImages(family: model.family)
    }
    var text = prompt
    if !images.isEmpty, !raw, let placeholder = imagePlaceholder,
       let pad = model.vision.flatMap({ model.tokenizer.token(for: $0.tokenIds.imagePad) }),
       prompt.components(separatedBy: pad).count - 1 != images.count {
      text = String(repeating: placeholder, count: images.count) + prompt
    }
    let ids = model.promptIds(text, raw: raw, thinking: thinking)
    if let vision = model.vision, case let .nativeResolution(resize) = vision.layout, !images.isEmpty {
      return try prepareNative(ids: ids, images: images, resize: resize, padId: vision.tokenIds.imagePad)
    }
    guard let vision = model.vision, let processor, !images.isEmpty else {
      let pads = model.vision.map { v in ids.count { $0 == v.tokenIds.imagePad } } ?? 0
      if pads > 0 { throw .imagePlaceholderMismatch(placeholders: pads, images: 0) }
      return PreparedPrompt(ids: ids, imageEmbeddings: nil, plans: [], preprocessSeconds: 0, visionSeconds: 0)
    }
    let clock = ContinuousClock()
    let t0 = clock.now
    var plans: [TilePlan] = []
    var pixels: [Float] = []
    for image in images {
      let tiles = try processor.process(image: image)
      plans.append(tiles.plan)
      pixels += tiles.pixels
    }
    let expanded = try ImageTokenLayout.expand(ids, plans: plans, tokensPerSide: tokensPerSide, ids: vision.tokenIds)
    let t1 = clock.now
    let embeddings: [Float]
    do { embeddings = try model.network.encodeImages(tiles: pixels) } catch { throw .engine(error) }
    let t2 = clock.now
    return PreparedPrompt(ids: expanded, imageEmbeddings: embeddings, plans: plans,
                          preprocessSeconds: (t1 - t0).seconds, visionSeconds: (t2 - t1).seconds)
  }

  /// Native resolution (Qwen-VL): each image resized by smart_resize (Pillow's bicubic), cut
  /// into patches, all images through the tower in one call; each `<|image_pad|>` becomes the
  /// image's merged tokens.
  private func prepareNative(ids: [Int], images: [RGBImage], resize: SmartResize,
                             padId: Int) throws(GroundingError) -> PreparedPrompt {
    let placeholders = ids.count { $0 == padId }
    guard placeholders == images.count else {
      throw .imagePlaceholderMismatch(placeholders: placeholders, images: images.count)
    }
    let clock = ContinuousClock()
    let t0 = clock.now
    var patches: [Float] = [], grids: [ImageGrid] = [], sizes: [(width: Int, height: Int)] = []
    for image in images {
      let target: (height: Int, width: Int)
      do { target = try resize.targetSize(height: image.height, width: image.width) } catch { throw .engine(error) }
      let resized: RGBImage
      if target.width == image.width, target.height == image.height {
        resized = image
      } else {
        do { resized = try image.resized(width: target.width, height: target.height, filter: .bicubic) } catch {
          throw .invalidArgument("cannot resize the \(image.width)x\(image.height) image to \(target.width)x\(target.height): \(error)")
        }
      }
      do {
        let (values, grid) = try resize.patches(rgb: resized.pixels, height: resized.height, width: resized.width)
        patches += values
        grids.append(grid)
      } catch { throw .engine(error) }
      sizes.append((target.width, target.height))
    }
    var expanded: [Int] = []
    var k = 0
    for id in ids {
      if id == padId {
        expanded += Array(repeating: padId, count: grids[k].tokenCount(merge: resize.mergeSize))
        k += 1
      } else {
        expanded.append(id)
      }
    }
    let t1 = clock.now
    let embeddings: [Float]
    do { embeddings = try model.network.encodeImages(patches: patches, grids: grids) } catch { throw .engine(error) }
    let t2 = clock.now
    var prepared = PreparedPrompt(ids: expanded, imageEmbeddings: embeddings, plans: [],
                                  preprocessSeconds: (t1 - t0).seconds, visionSeconds: (t2 - t1).seconds)
    prepared.imageGrids = grids
    prepared.resizedSizes = sizes
    return prepared
  }
}
