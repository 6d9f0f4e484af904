// MARK: - Llama from GGUF: metadata keys and tensor names
//
// llama.cpp's `llama` architecture (src/llama-arch.cpp: LLM_KV_* keys, LLM_TENSOR_* names) read
// onto the decoder that the safetensors path uses: the hyperparameters become a
// `DecoderTextConfig`, and the tensors are served under the decoder's names
// (`BlueLMVLTensorNames`) by `GGUFLlamaWeights`. The model code never sees a GGUF name.

// MARK: Configuration

extension DecoderTextConfig {
  /// The `llama.*` hyperparameters of a GGUF file; the vocabulary size is the length of
  /// `tokenizer.ggml.tokens`, and the embeddings are tied when `output.weight` is absent.
  /// - Throws: `badConfig` naming the missing key or the inconsistent value.
  public static func llama(gguf file: GGUFFile) throws(EngineError) -> DecoderTextConfig {
    let arch = file.string("general.architecture") ?? "(none)"
    guard arch == "llama" else {
      throw .badConfig("\(file.path): general.architecture '\(arch)' is not llama")
    }
    func required(_ key: String) throws(EngineError) -> Int {
      guard let v = file.int("llama." + key), v > 0 else {
        throw .badConfig("\(file.path): GGUF key 'llama.\(key)' is missing or not a positive integer")
      }
      return v
    }
    let d = try required("embedding_length"), heads = try required("attention.head_count")
    let kvHeads = file.int("llama.attention.head_count_kv") ?? heads
    let headDim = file.int("llama.attention.key_length") ?? d / heads
    let ropeDim = file.int("llama.rope.dimension_count") ?? headDim
    guard let vocab = file.stringArray("tokenizer.ggml.tokens")?.count, vocab > 0 else {
      throw .badConfig("\(file.path): GGUF key 'tokenizer.ggml.tokens' is missing or empty")
    }
    guard kvHeads > 0, heads % kvHeads == 0 else {
      throw .badConfig("\(file.path): llama.attention.head_count \(heads) is not a multiple of head_count_kv \(kvHeads)")
    }
    guard headDim > 0, headDim % 2 == 0, ropeDim == headDim else {
      throw .badConfig("\(file.path): head dim \(headDim) with rope.dimension_count \(ropeDim): RoPE over whole, even heads is supported only")
    }
    let ff = try required("feed_forward_length"), blocks = try required("block_count")
    // As for config.json (BlueLMVLConfig.maxDimension): products of these sizes must fit an Int.
    for (key, value) in [("embedding_length", d), ("feed_forward_length", ff), ("attention.head_count", heads),
                         ("attention.head_count_kv", kvHeads), ("attention.key_length", headDim)]
    where value > BlueLMVLConfig.maxDimension {
      throw .badConfig("\(file.path): llama.\(key) \(value) is larger than \(BlueLMVLConfig.maxDimension)")
    }
    // Each block is 9 tensors (attn_norm, attn_q/k/v/output, ffn_norm, ffn_gate/up/down): a count
    // beyond what the file holds is refused before the blocks' tensor names are listed.
    guard blocks <= file.tensors.count / 9 else {
      throw .badConfig("\(file.path): llama.block_count \(blocks) needs \(blocks) x 9 tensors; the file holds \(file.tensors.count)")
    }
    return DecoderTextConfig(
      modelType: "llama", hiddenSize: d, intermediateSize: ff,
      numHiddenLayers: blocks, numAttentionHeads: heads, numKeyValueHeads: kvHeads,
      headDim: headDim, rmsNormEps: file.float("llama.attention.layer_norm_rms_epsilon") ?? 1e-5,
      ropeTheta: file.float("llama.rope.freq_base") ?? 10000, vocabSize: vocab,
      maxPositionEmbeddings: file.int("llama.context_length") ?? 2048,
      tieWordEmbeddings: file.tensor("output.weight") == nil)
  }
}

// MARK: - Tensors under the decoder's names

/// A GGUF `llama` file seen through the decoder's tensor names (the one name table of this
/// loader), with the rows of `attn_q` / `attn_k` put back in the order the decoder's RoPE expects.
///
/// llama.cpp's converter (`LlamaModel.permute` in convert_hf_to_gguf.py) reorders the rows of
/// each head of q_proj / k_proj from rotate-half pairs (i, i + hd/2) to adjacent pairs (2i, 2i+1)
/// for its interleaved RoPE: GGUF row h*hd + 2i + j holds Hugging Face row h*hd + j*hd/2 + i.
/// Rows are independent, so the inverse permutation moves whole rows of blocks and works on
/// quantized data as it is.
public struct GGUFLlamaWeights: WeightSource {
  public let file: GGUFFile
  /// decoder name -> GGUF name.
  private let names: [String: String]
  /// decoder name -> heads whose rows are un-permuted (q: head_count, k: head_count_kv).
  private let permutedHeads: [String: Int]
  public let tensorNames: [String]
  public var files: [WeightFileRecord] { file.files }

  public init(_ file: GGUFFile, config t: DecoderTextConfig) {
    typealias N = BlueLMVLTensorNames
    var names = [N.embedTokens: "token_embd.weight", N.finalNorm: "output_norm.weight",
                 N.lmHead: "output.weight"]
    var permuted: [String: Int] = [:]
    let layerTable: [(String, String)] = [
      (N.TextLayer.inputNorm, "attn_norm.weight"), (N.TextLayer.postNorm, "ffn_norm.weight"),
      (N.TextLayer.q + ".weight", "attn_q.weight"), (N.TextLayer.k + ".weight", "attn_k.weight"),
      (N.TextLayer.v + ".weight", "attn_v.weight"), (N.TextLayer.o + ".weight", "attn_output.weight"),
      (N.TextLayer.gate + ".weight", "ffn_gate.weight"), (N.TextLayer.up + ".weight", "ffn_up.weight"),
      (N.TextLayer.down + ".weight", "ffn_down.weight"),
    ]
    for i in 0..<t.numHiddenLayers {
      for (ours, theirs) in layerTable { names[N.textLayer(i) + ours] = "blk.\(i).\(theirs)" }
      permuted[N.textLayer(i) + N.TextLayer.q + ".weight"] = t.numAttentionHeads
      permuted[N.textLayer(i) + N.TextLayer.k + ".weight"] = t.numKeyValueHeads
    }
    let present = names.filter { file.tensor($0.value) != nil }
    self.file = file
    self.names = present
    permutedHeads = permuted
    tensorNames = present.keys.sorted()
  }

  public func info(_ name: String) -> TensorInfo? {
    guard let theirs = names[name], let t = file.info(theirs) else { return nil }
    return TensorInfo(name: name, dtype: t.dtype, shape: t.shape)
  }

  public func floats(_ name: String) throws(EngineError) -> [Float] {
    guard let theirs = names[name] else { throw .missingTensor(name) }
    let values = try file.floats(theirs)
    guard let heads = permutedHeads[name], let t = file.tensor(theirs) else { return values }
    let order = try Self.rotateHalfRowOrder(rows: t.rowCount, heads: heads, name: name)
    let k = t.rowLength
    var out = [Float](repeating: 0, count: values.count)  // (rows, k), rows reordered
    for (r, source) in order.enumerated() {
      out.replaceSubrange((r * k)..<((r + 1) * k), with: values[(source * k)..<((source + 1) * k)])
    }
    return out
  }

  public func matrix(_ name: String) throws(EngineError) -> QuantizedMatrix {
    guard let theirs = names[name] else { throw .missingTensor(name) }
    guard let heads = permutedHeads[name], let t = file.tensor(theirs) else { return try file.matrix(theirs) }
    let order = try Self.rotateHalfRowOrder(rows: t.rowCount, heads: heads, name: name)
    guard let rowBytes = t.type.rowBytes(t.rowLength) else {
      throw .malformedWeights(file: file.path, reason: "\(theirs): row of \(t.rowLength) is not whole \(t.type) blocks")
    }
    let bytes = try file.withRawBytes(theirs) { (src) throws(EngineError) -> [UInt8] in
      var out = [UInt8](repeating: 0, count: src.count)  // (rows, rowBytes), rows reordered
      for (r, source) in order.enumerated() {
        out.replaceSubrange((r * rowBytes)..<((r + 1) * rowBytes), with: src[(source * rowBytes)..<((source + 1) * rowBytes)])
      }
      return out
    }
    return try QuantizedMatrix(type: t.type, rows: t.rowCount, columns: t.rowLength, bytes: bytes)
  }

  /// For each row of the rotate-half layout, the GGUF row it comes from: row h*hd + j*hd/2 + i
  /// (j in 0...1, i < hd/2) <- GGUF row h*hd + 2i + j.
  static func rotateHalfRowOrder(rows: Int, heads: Int, name: String) throws(EngineError) -> [Int] {
    guard heads > 0, rows % heads == 0, (rows / heads) % 2 == 0 else {
      throw .invalidArgument("\(name): \(rows) rows do not split into \(heads) heads of even size")
    }
    let hd = rows / heads, half = hd / 2
    var order = [Int](repeating: 0, count: rows)
    for h in 0..<heads {
      for j in 0..<2 {
        for i in 0..<half { order[h * hd + j * half + i] = h * hd + 2 * i + j }
      }
    }
    return order
  }
}
