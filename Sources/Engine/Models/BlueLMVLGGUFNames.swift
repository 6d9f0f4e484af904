// MARK: - bluelm_vl tensor names in a GGUF pair
//
// The language model goes to a standard llama.cpp architecture (text_config.model_type: llama or
// qwen2) under llama.cpp's names (src/llama-arch.cpp); the SigLIP tower, the adapter and the
// optional pointer head go to the mmproj under clip's names (tools/mtmd/clip-impl.h). The
// pointer head has no llama.cpp name: `pointer.*` is ours, kept out of the LM file because
// llama.cpp's text loader refuses tensors it does not expect.

/// Where one checkpoint tensor lives in a bluelm_vl GGUF pair.
public struct BlueLMVLGGUFPlace: Sendable, Equatable {
  public let file: GGUFPairFile
  public let name: String
  /// For `llama` q/k projections: the head count whose rows llama.cpp's converter permutes
  /// (`LlamaModel.permute`: rotate-half pairs -> adjacent pairs); nil: stored as is.
  public let permutedHeads: Int?
}

public enum BlueLMVLGGUFNames {
  /// The GGUF place of checkpoint tensor `name` (a name of `BlueLMVLTensorNames`), nil when
  /// the name is not one of the format's.
  public static func place(_ name: String, text t: DecoderTextConfig) -> BlueLMVLGGUFPlace? {
    typealias N = BlueLMVLTensorNames
    func mm(_ n: String) -> BlueLMVLGGUFPlace { BlueLMVLGGUFPlace(file: .mmproj, name: n, permutedHeads: nil) }
    func lm(_ n: String, _ heads: Int? = nil) -> BlueLMVLGGUFPlace { BlueLMVLGGUFPlace(file: .model, name: n, permutedHeads: heads) }
    // Suffix (.weight / .bias / "") after a module prefix.
    func rest(_ prefix: String) -> String? { name.hasPrefix(prefix) ? String(name.dropFirst(prefix.count)) : nil }

    if let s = rest(N.patchEmbedding) { return mm("v.patch_embd" + s) }
    if name == N.positionEmbedding { return mm("v.position_embd.weight") }
    if let s = rest(N.visionPostNorm) { return mm("v.post_ln" + s) }
    if let s = rest(N.projector1) { return mm("mm.0" + s) }
    if let s = rest(N.projector2) { return mm("mm.2" + s) }
    if let s = rest(N.pointerHead + ".") { return mm("pointer." + s) }
    if let s = rest("vision_model.encoder.layers.") {
      let parts = s.split(separator: ".", maxSplits: 1).map(String.init)
      guard parts.count == 2, let i = Int(parts[0]) else { return nil }
      let table: [(String, String)] = [
        ("layer_norm1", "ln1"), ("layer_norm2", "ln2"), ("self_attn.q_proj", "attn_q"), ("self_attn.k_proj", "attn_k"),
        ("self_attn.v_proj", "attn_v"), ("self_attn.out_proj", "attn_out"), ("mlp.fc1", "ffn_up"), ("mlp.fc2", "ffn_down"),
      ]
      for (ours, theirs) in table {
        for suffix in [".weight", ".bias"] where parts[1] == ours + suffix { return mm("v.blk.\(i).\(theirs)\(suffix)") }
      }
      return nil
    }
    if name == N.embedTokens { return lm("token_embd.weight") }
    if name == N.finalNorm { return lm("output_norm.weight") }
    if name == N.lmHead { return lm("output.weight") }
    if let s = rest("language_model.model.layers.") {
      let parts = s.split(separator: ".", maxSplits: 1).map(String.init)
      guard parts.count == 2, let i = Int(parts[0]) else { return nil }
      let permute = t.modelType == "llama"
      let table: [(String, String, Int?)] = [
        ("input_layernorm", "attn_norm", nil), ("post_attention_layernorm", "ffn_norm", nil),
        ("self_attn.q_proj", "attn_q", permute ? t.numAttentionHeads : nil),
        ("self_attn.k_proj", "attn_k", permute ? t.numKeyValueHeads : nil),
        ("self_attn.v_proj", "attn_v", nil), ("self_attn.o_proj", "attn_output", nil),
        ("self_attn.q_norm", "attn_q_norm", nil), ("self_attn.k_norm", "attn_k_norm", nil),
        ("mlp.gate_proj", "ffn_gate", nil), ("mlp.up_proj", "ffn_up", nil), ("mlp.down_proj", "ffn_down", nil),
      ]
      for (ours, theirs, heads) in table {
        for suffix in [".weight", ".bias"] where parts[1] == ours + suffix { return lm("blk.\(i).\(theirs)\(suffix)", heads) }
      }
    }
    return nil
  }

  /// For each row of the checkpoint's (rotate-half) layout, the GGUF row holding it; a GGUF
  /// file's row `order[r]` is checkpoint row r. Rows: heads x head_dim (a bias: one value a row).
  static func permutedRowOrder(rows: Int, heads: Int, name: String) throws(EngineError) -> [Int] {
    try GGUFLlamaWeights.rotateHalfRowOrder(rows: rows, heads: heads, name: name)
  }
}
