// MARK: - Tensor names of Qwen2-VL / Qwen2.5-VL checkpoints
//
// transformers 4.x wrote `visual.*`, `model.layers.N.*`, `model.embed_tokens`, `lm_head`; later
// versions write `model.visual.*` and `model.language_model.*`. Both are published; the layout
// is told by which embedding table the checkpoint holds.

/// Where a checkpoint keeps the vision tower and the decoder.
public struct QwenVLTensorNames: Sendable, Equatable {
  /// Prefix of the vision tower: `model.visual.` or `visual.`.
  public let vision: String
  /// Prefix of the decoder's `embed_tokens`, `layers`, `norm`: `model.language_model.` or `model.`.
  public let text: String
  public let lmHead = "lm_head.weight"

  /// Finds the layout from the names present.
  public init(_ source: any WeightSource) throws(EngineError) {
    if source.info("model.language_model.embed_tokens.weight") != nil {
      text = "model.language_model."
    } else if source.info("model.embed_tokens.weight") != nil {
      text = "model."
    } else {
      throw .missingTensor("model.language_model.embed_tokens.weight (or model.embed_tokens.weight)")
    }
    vision = source.info("model.visual.patch_embed.proj.weight") != nil ? "model.visual." : "visual."
  }

  /// The checkpoint's name for a decoder name of the shared decoder (`BlueLMVLTensorNames`).
  public func decoderName(_ name: String) -> String? {
    typealias N = BlueLMVLTensorNames
    if name == N.lmHead { return lmHead }
    let prefix = "language_model.model."
    guard name.hasPrefix(prefix) else { return nil }
    return text + name.dropFirst(prefix.count)
  }

  /// The decoder's weights under the shared decoder's names.
  func decoderWeights(_ source: any WeightSource, layers: Int) -> RenamedWeights {
    typealias N = BlueLMVLTensorNames
    let layerNames = [N.TextLayer.inputNorm, N.TextLayer.postNorm, N.TextLayer.qNorm, N.TextLayer.kNorm] + [
      N.TextLayer.q, N.TextLayer.k, N.TextLayer.v, N.TextLayer.o, N.TextLayer.gate, N.TextLayer.up, N.TextLayer.down,
    ].flatMap { [$0 + ".weight", $0 + ".bias"] }
    let names = [N.embedTokens, N.finalNorm, N.lmHead] + (0..<layers).flatMap { i in layerNames.map { N.textLayer(i) + $0 } }
    let me = self
    return RenamedWeights(source, names: names) { me.decoderName($0) }
  }

  public func block(_ i: Int) -> String { vision + "blocks.\(i)" }
  public var patchEmbed: String { vision + "patch_embed.proj.weight" }
  public var patchEmbedBias: String { vision + "patch_embed.proj.bias" }
  public var positionTable: String { vision + "pos_embed.weight" }
  public var merger: String { vision + "merger" }
  public func deepstackMerger(_ k: Int) -> String { vision + "deepstack_merger_list.\(k)" }
}
