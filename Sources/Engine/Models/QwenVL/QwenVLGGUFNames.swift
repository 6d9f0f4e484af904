// MARK: - Where llama.cpp's converter puts each Qwen-VL tensor in a GGUF pair
//
// A pair is a language-model GGUF (`general.architecture` qwen2vl / qwen3vl; llama.cpp's usual
// decoder names `blk.N.attn_q` ...) and an mmproj GGUF (`clip`; the tower as `v.*`, the merger as
// `mm.0` / `mm.2`). Facts from llama.cpp's conversion/qwenvl.py and qwen3vl.py and gguf-py's
// tensor map: Qwen2-VL / Qwen2.5-VL's fused qkv is split into attn_q / attn_k / attn_v (Qwen3-VL
// keeps attn_qkv), the Conv3d patch embedding becomes one Conv2d per frame (`v.patch_embd.weight`,
// `v.patch_embd.weight.1`), and a DeepStack merger is named by the tower block that feeds it. No
// other tensor is transformed (no transposition, no permutation of q/k).

/// Which file of a pair holds a tensor.
public enum GGUFPairFile: String, Sendable, Equatable {
  case model, mmproj
}

/// How one checkpoint tensor is stored in a GGUF pair.
public enum GGUFPlacement: Sendable, Equatable {
  /// One tensor, same shape (PyTorch order), another name.
  case same(String)
  /// The rows (first dim) split into equal consecutive parts, one tensor each.
  case splitRows([String])
  /// A Conv3d weight (out, C, T, P, P) stored as T Conv2d weights (out, C, P, P), frame by frame.
  case splitFrames([String])

  /// The GGUF tensor names, in order.
  public var names: [String] {
    switch self {
    case let .same(n): [n]
    case let .splitRows(ns), let .splitFrames(ns): ns
    }
  }
}

/// The name map of one family, in the checkpoint layout transformers 4.x wrote (`visual.*`,
/// `model.*`, `lm_head.weight`; see `canonical` for the later layout).
public struct QwenVLGGUFNames: Sendable, Equatable {
  public let family: QwenVisionVariant
  /// Qwen3-VL: the tower blocks that feed DeepStack mergers (`deepstack_visual_indexes`).
  public let deepstackBlocks: [Int]

  public init(family: QwenVisionVariant, deepstackBlocks: [Int] = []) {
    self.family = family; self.deepstackBlocks = deepstackBlocks
  }

  /// A checkpoint name in the 4.x layout: `model.language_model.X` -> `model.X`,
  /// `model.visual.X` -> `visual.X`; other names unchanged.
  public static func canonical(_ name: String) -> String {
    if name.hasPrefix("model.language_model.") { return "model." + name.dropFirst("model.language_model.".count) }
    if name.hasPrefix("model.visual.") { return String(name.dropFirst("model.".count)) }
    return name
  }

  private static let decoderLayer: [String: String] = [
    "input_layernorm.weight": "attn_norm.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight", "self_attn.q_proj.bias": "attn_q.bias",
    "self_attn.k_proj.weight": "attn_k.weight", "self_attn.k_proj.bias": "attn_k.bias",
    "self_attn.v_proj.weight": "attn_v.weight", "self_attn.v_proj.bias": "attn_v.bias",
    "self_attn.o_proj.weight": "attn_output.weight",
    "self_attn.q_norm.weight": "attn_q_norm.weight", "self_attn.k_norm.weight": "attn_k_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
  ]

  /// Where the checkpoint tensor `name` (any layout) lives in the pair, nil for a tensor the
  /// converter does not write (or an unknown name).
  public func placement(of name: String) -> (file: GGUFPairFile, placement: GGUFPlacement)? {
    let n = Self.canonical(name)
    switch n {
    case "model.embed_tokens.weight": return (.model, .same("token_embd.weight"))
    case "model.norm.weight": return (.model, .same("output_norm.weight"))
    case "lm_head.weight": return (.model, .same("output.weight"))
    default: break
    }
    if let (i, rest) = Self.indexed(n, "model.layers."), let g = Self.decoderLayer[rest] {
      return (.model, .same("blk.\(i).\(g)"))
    }
    guard n.hasPrefix("visual.") else { return nil }
    let v = String(n.dropFirst("visual.".count))
    if let (i, rest) = Self.indexed(v, "blocks."), let p = block(i, rest) { return (.mmproj, p) }
    if let (k, rest) = Self.indexed(v, "deepstack_merger_list."), family == .qwen3VL, k < deepstackBlocks.count {
      let parts = rest.split(separator: ".", maxSplits: 1).map(String.init)
      let sub = ["norm": "norm", "linear_fc1": "fc1", "linear_fc2": "fc2"]
      guard parts.count == 2, let s = sub[parts[0]] else { return nil }
      return (.mmproj, .same("v.deepstack.\(deepstackBlocks[k]).\(s).\(parts[1])"))
    }
    switch v {
    case "patch_embed.proj.weight": return (.mmproj, .splitFrames(["v.patch_embd.weight", "v.patch_embd.weight.1"]))
    case "patch_embed.proj.bias": return (.mmproj, .same("v.patch_embd.bias"))
    case "pos_embed.weight": return (.mmproj, .same("v.position_embd.weight"))
    default: break
    }
    let merger: [String: String] = family == .qwen3VL
      ? ["merger.norm.weight": "v.post_ln.weight", "merger.norm.bias": "v.post_ln.bias",
         "merger.linear_fc1.weight": "mm.0.weight", "merger.linear_fc1.bias": "mm.0.bias",
         "merger.linear_fc2.weight": "mm.2.weight", "merger.linear_fc2.bias": "mm.2.bias"]
      : ["merger.ln_q.weight": "v.post_ln.weight", "merger.ln_q.bias": "v.post_ln.bias",
         "merger.mlp.0.weight": "mm.0.weight", "merger.mlp.0.bias": "mm.0.bias",
         "merger.mlp.2.weight": "mm.2.weight", "merger.mlp.2.bias": "mm.2.bias"]
    return merger[v].map { (.mmproj, .same($0)) }
  }

  /// A tower block's tensor: `rest` is the name after `blocks.N.`.
  private func block(_ i: Int, _ rest: String) -> GGUFPlacement? {
    let b = "v.blk.\(i)."
    let parts = rest.split(separator: ".").map(String.init)
    guard parts.count >= 2, let kind = parts.last else { return nil }
    let module = parts.dropLast().joined(separator: ".")
    if module == "attn.qkv" {
      return family == .qwen3VL ? .same(b + "attn_qkv.\(kind)")
        : .splitRows(["attn_q", "attn_k", "attn_v"].map { b + $0 + ".\(kind)" })
    }
    let mlp: [String: String] = switch family {
    case .qwen2VL: ["mlp.fc1": "ffn_up", "mlp.fc2": "ffn_down"]
    case .qwen2_5VL: ["mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down"]
    case .qwen3VL: ["mlp.linear_fc1": "ffn_up", "mlp.linear_fc2": "ffn_down"]
    }
    let common = ["norm1": "ln1", "norm2": "ln2", "attn.proj": "attn_out"]
    guard let g = common[module] ?? mlp[module] else { return nil }
    return .same(b + g + ".\(kind)")
  }

  /// `prefix` + an index + "." + the rest, or nil.
  private static func indexed(_ name: String, _ prefix: String) -> (Int, String)? {
    guard name.hasPrefix(prefix) else { return nil }
    let tail = name.dropFirst(prefix.count)
    guard let dot = tail.firstIndex(of: "."), let i = Int(tail[..<dot]), i >= 0 else { return nil }
    return (i, String(tail[tail.index(after: dot)...]))
  }
}
