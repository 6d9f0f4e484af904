// MARK: - Which ggml type each tensor of an exported GGUF gets
//
// The language model: llama.cpp's converter at f16 (conversion/base.py `prepare_tensors`: 1-D
// tensors, `*_norm.weight` and every non-`.weight` tensor in f32, the rest in the output type),
// then for the quantized types llama-quantize's default mixes (src/llama-quant.cpp
// `tensor_allows_quantization`, `llama_tensor_get_type_impl`, `tensor_type_fallback`):
//   q8_0 -> MOSTLY_Q8_0 (what the converter's --outtype q8_0 writes too), q4_0 -> MOSTLY_Q4_0,
//   q4_k -> MOSTLY_Q4_K_M, q5_k -> MOSTLY_Q5_K_M, q6_k -> MOSTLY_Q6_K (llama-quantize's "Q4_K"
//   and "Q5_K" mean the _M mixes).
// In those mixes output.weight (token_embd.weight when the embeddings are tied) becomes Q6_K,
// or Q8_0 when its row length does not divide into the mix's blocks; for Q4_K_M and Q5_K_M
// attn_v and ffn_down of the layers `useMoreBits` picks become Q6_K. A row length that does not
// divide into the chosen type's blocks falls back as llama-quantize does: Q4_K -> Q5_0,
// Q5_K -> Q5_1, Q6_K -> Q8_0, and to F16 when that does not divide either (32-block types go
// straight to F16). llama-quantize's 70B and 8-expert rules never apply to qwen2vl / qwen3vl.
//
// The mmproj: the converter's Qwen-VL rules at --outtype f16 | f32 | q8_0: 1-D tensors and norms
// in f32, v.position_embd in f32, the patch embedding (both frames) in f16 for f16 and in f32
// otherwise, the rest in the type (q8_0 falling back to f16 for rows not divisible by 32).

/// The `--type` of `gui-agent quantize`: the language model's file type.
public enum GGUFModelType: String, Sendable, CaseIterable {
  case f16, q8_0, q4_0, q4_k, q5_k, q6_k

  /// llama.cpp's `llama_ftype` (general.file_type).
  public var fileType: UInt32 {
    switch self {
    case .f16: 1
    case .q8_0: 7
    case .q4_0: 2
    case .q4_k: 15  // MOSTLY_Q4_K_M
    case .q5_k: 17  // MOSTLY_Q5_K_M
    case .q6_k: 18
    }
  }

  /// The mix's default tensor type (`llama_ftype_get_default_type`).
  public var defaultType: TensorDType {
    switch self {
    case .f16: .f16
    case .q8_0: .q8_0
    case .q4_0: .q4_0
    case .q4_k: .q4_K
    case .q5_k: .q5_K
    case .q6_k: .q6_K
    }
  }
}

/// The `--mmproj-type` of `gui-agent quantize`.
public enum GGUFProjectorType: String, Sendable, CaseIterable {
  case f16, f32, q8_0

  public var fileType: UInt32 { self == .f32 ? 0 : self == .f16 ? 1 : 7 }
  var tensorType: TensorDType { self == .f32 ? .f32 : self == .f16 ? .f16 : .q8_0 }
}

/// A tensor's chosen type, and the fallback that led there (nil when none).
public struct GGUFTypeChoice: Sendable, Equatable {
  public let type: TensorDType
  public let fallback: String?
}

enum GGUFTypePolicy {
  /// Whether llama.cpp makes this type in two steps, converter then llama-quantize (whose file
  /// lists the tensors in `quantizeOrder`); f16 and q8_0 come from the converter directly.
  static func viaLlamaQuantize(_ type: GGUFModelType) -> Bool { type != .f16 && type != .q8_0 }

  /// llama-quantize's tensor order (llama_model_loader's `weight_name_comparer`): by the N of
  /// "blk.N." (-1 for other names), then by name.
  static func quantizeOrder(_ a: String, _ b: String) -> Bool {
    let la = blockIndex(a) ?? -1, lb = blockIndex(b) ?? -1
    return la != lb ? la < lb : Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8))
  }

  /// llama-quantize's `use_more_bits`: the first and last eighth of the layers and every third
  /// in between.
  static func useMoreBits(_ layer: Int, _ layers: Int) -> Bool {
    layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2
  }

  /// The type of a language-model tensor.
  /// - Parameters:
  ///   - shape: PyTorch order (`shape.last` is ggml's row length ne[0]).
  ///   - layers: the decoder's block count; `tied`: no output.weight (token_embd doubles as it).
  static func model(_ name: String, shape: [Int], type: GGUFModelType, layers: Int, tied: Bool) -> GGUFTypeChoice {
    // The converter: f32 for 1-D, norms and non-weights.
    if shape.count <= 1 || name.hasSuffix("_norm.weight") || !name.hasSuffix(".weight") { return GGUFTypeChoice(type: .f32, fallback: nil) }
    guard allowsQuantization(name) else { return GGUFTypeChoice(type: .f16, fallback: nil) }
    let columns = shape.last ?? 1
    var t = type.defaultType
    guard t.isQuantized else { return GGUFTypeChoice(type: t, fallback: nil) }
    let layer = blockIndex(name)
    if name == "output.weight" || (tied && name == "token_embd.weight") {
      if columns % t.blockSize != 0 { t = .q8_0 } else if t != .q8_0 { t = .q6_K }
    } else if name.hasSuffix("attn_v.weight") || name.hasSuffix("attn_qkv.weight") {
      if type == .q4_k || type == .q5_k, let layer, useMoreBits(layer, layers) { t = .q6_K }
    } else if name.contains("ffn_down") {
      if type == .q4_k || type == .q5_k, let layer, useMoreBits(layer, layers) { t = .q6_K }
    }
    return fallback(name, t, columns: columns)
  }

  /// llama-quantize's `tensor_type_fallback` for a row of `columns` elements.
  static func fallback(_ name: String, _ t: TensorDType, columns: Int) -> GGUFTypeChoice {
    guard columns % t.blockSize != 0 else { return GGUFTypeChoice(type: t, fallback: nil) }
    var r: TensorDType = switch t {
    case .q4_K: .q5_0
    case .q5_K: .q5_1
    case .q6_K: .q8_0
    default: t
    }
    if columns % r.blockSize != 0 { r = .f16 }
    return GGUFTypeChoice(type: r, fallback: "\(name): row length \(columns) is not divisible by \(t.blockSize) (required for \(t)); falling back to \(r)")
  }

  /// llama-quantize's `tensor_allows_quantization` for the names a Qwen-VL language model has
  /// (2-D, ends in "weight", not a norm, not a position embedding or gating table).
  static func allowsQuantization(_ name: String) -> Bool {
    name.hasSuffix("weight") && !name.contains("_norm.weight") && !name.contains("ffn_gate_inp.weight")
      && !name.contains(".position_embd") && !name.contains(".patch_embd") && name != "position_embd.weight"
  }

  /// N of "blk.N.*".
  static func blockIndex(_ name: String) -> Int? {
    guard name.hasPrefix("blk.") else { return nil }
    return Int(name.dropFirst(4).prefix { $0 != "." })
  }

  /// The type of an mmproj tensor (converter rules, see above).
  static func mmproj(_ name: String, shape: [Int], type: GGUFProjectorType) -> GGUFTypeChoice {
    if shape.count <= 1 || name.hasSuffix("_norm.weight") { return GGUFTypeChoice(type: .f32, fallback: nil) }
    if name.contains(".patch_embd.weight") { return GGUFTypeChoice(type: type == .f16 ? .f16 : .f32, fallback: nil) }
    if name.contains(".position_embd.") || !name.hasSuffix(".weight") { return GGUFTypeChoice(type: .f32, fallback: nil) }
    let t = type.tensorType, columns = shape.last ?? 1
    guard columns % t.blockSize == 0 else {
      return GGUFTypeChoice(type: .f16, fallback: "\(name): row length \(columns) is not divisible by \(t.blockSize) (required for \(t)); falling back to f16")
    }
    return GGUFTypeChoice(type: t, fallback: nil)
  }
}
