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
  /// One tiling plan per image, in order.
  public var plans: [TilePlan]
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
    if let vision = model.vision {
      processor = AnyResProcessor(config: try AnyResConfig(vision.anyres))
      tokensPerSide = try ImageTokenLayout.tokensPerSide(tileSize: vision.anyres.tileSize, patchSize: vision.patchSize)
    } else {
      processor = nil
      tokensPerSide = 0
    }
  }

  /// The image placeholder the text uses (`<|image_pad|>` for bluelm_vl).
  public var imagePlaceholder: String? {
    model.vision.flatMap { model.tokenizer.token(for: $0.tokenIds.imagePad) }
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
    if !images.isEmpty, !raw, let pad = imagePlaceholder,
       prompt.components(separatedBy: pad).count - 1 != images.count {
      text = String(repeating: pad, count: images.count) + prompt
    }
    let ids = model.promptIds(text, raw: raw, thinking: thinking)
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
}
