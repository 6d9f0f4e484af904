import Foundation

// MARK: - Pointer head: coordinate-free grounding (GUI-Actor's layout)
//
// Ports `PointerHead` of training/model.py, which follows microsoft/GUI-Actor
// (`src/gui_actor/modeling.py`, VisionHead_MultiPatch): keys = the tiles' image-token input
// embeddings through one nn.MultiheadAttention self-attention (8 heads, no positions), residual
// + LayerNorm(eps 1e-5), projection_enc (Linear -> exact GELU -> Linear); query = the decoder's
// final normed hidden state at <|pointer_pad|> through projection_dec; logits = q . k / sqrt(d),
// softmax over the tile tokens.

/// The ids of the three pointer tokens a grounding prompt ends with.
public struct PointerTokenIds: Sendable, Equatable {
  public var start: Int
  public var pad: Int
  public var end: Int
  /// The tokens' text, as GUI-Actor's tokenizers and ours spell them.
  public static let startText = "<|pointer_start|>", padText = "<|pointer_pad|>", endText = "<|pointer_end|>"
  public init(start: Int, pad: Int, end: Int) { self.start = start; self.pad = pad; self.end = end }
  /// start, pad, end: what follows the assistant prefix.
  public var sequence: [Int] { [start, pad, end] }
}

/// The head's answer for one prompt: scores over the key tokens, and where the time went.
public struct PointerScores: Sendable {
  /// (N,) q . k / sqrt(d) for the N key tokens, in the order they were given.
  public var logits: [Float]
  /// (N,) softmax of `logits`.
  public var scores: [Float]
  /// Seconds of the decoder prefill (to the final hidden state) and of the head itself.
  public var prefillSeconds: Double
  public var headSeconds: Double
}

/// A model that can point: one prefill, then the pointer head over its image tokens.
public protocol PointingModel: VisionLanguageModel {
  /// The pointer tokens' ids; nil when the checkpoint has no pointer head.
  var pointerTokenIds: PointerTokenIds? { get }
  /// Runs `tokens` (which hold exactly one `<|pointer_pad|>`) through the decoder in one
  /// prefill, with `imageEmbeddings` (m, D) at the `imagePadId` positions, and scores the image
  /// embedding rows `keyRows` (the tiles' tokens) against the hidden state at the pointer pad.
  func pointerScores(tokens: [Int], imageEmbeddings: [Float], imageGrids: [ImageGrid], imagePadId: Int,
                     keyRows: Range<Int>) throws(EngineError) -> PointerScores
}

extension PointingModel {
  /// `pointerScores` for models whose positions do not depend on the images' grids.
  public func pointerScores(tokens: [Int], imageEmbeddings: [Float], imagePadId: Int,
                            keyRows: Range<Int>) throws(EngineError) -> PointerScores {
    try pointerScores(tokens: tokens, imageEmbeddings: imageEmbeddings, imageGrids: [], imagePadId: imagePadId, keyRows: keyRows)
  }
}

/// The weights of `multi_patch_pointer_head.*`.
struct PointerHead: Sendable {
  /// GUI-Actor's head count (not stored in the checkpoint).
  static let heads = 8
  let width: Int
  let q: Linear, k: Linear, v: Linear  // (d, d) each: the rows of in_proj_weight, q/k/v in that order
  let out: Linear                      // (d, d)
  let norm: LayerNorm
  let projectionEnc: GELUMLP           // .0 -> exact GELU -> .2
  let projectionDec: GELUMLP

  /// The head, when the checkpoint has one: nil when config.json names no pointer ids and no
  /// `multi_patch_pointer_head.*` tensor is present.
  /// - Throws: `missingPointerHeadTensors` (ids named, tensors missing), `badConfig` (tensors
  ///   present, ids not named; or a width not divisible by 8), `badTensorShape`.
  static func load(_ source: any WeightSource, config: BlueLMVLConfig) throws(EngineError) -> PointerHead? {
    try load(source, width: config.textConfig.hiddenSize, ids: config.pointerTokenIds)
  }

  /// The head of a decoder `d` wide, present when `ids` are named (GUI-Actor's Qwen-VL
  /// checkpoints hold it under the same names, at the top level).
  static func load(_ source: any WeightSource, width d: Int, ids: PointerTokenIds?) throws(EngineError) -> PointerHead? {
    typealias N = BlueLMVLTensorNames
    let expected = N.pointerHeadTensors(width: d)
    let missing = expected.map(\.name).filter { source.info($0) == nil }
    let strays = source.tensorNames.filter { $0.hasPrefix(N.pointerHead + ".") }
    guard ids != nil else {
      guard strays.isEmpty else {
        throw .badConfig("the checkpoint holds pointer head tensors ('\(strays[0])'\(strays.count > 1 ? " and \(strays.count - 1) more" : "")) but names no pointer_start_token_id, pointer_pad_token_id, pointer_end_token_id")
      }
      return nil
    }
    guard missing.isEmpty else { throw .missingPointerHeadTensors(missing) }
    guard d % heads == 0 else {
      throw .badConfig("the pointer head's width text_config.hidden_size \(d) is not a multiple of its \(heads) heads")
    }
    return try PointerHead(source, width: d)
  }

  private init(_ source: any WeightSource, width d: Int) throws(EngineError) {
    typealias N = BlueLMVLTensorNames
    width = d
    let inProj = try source.tensor(N.pointerInProjWeight, shape: [3 * d, d]).data  // (3d, d)
    let inBias = try source.tensor(N.pointerInProjBias, shape: [3 * d]).data      // (3d,)
    func slice(_ i: Int) throws(EngineError) -> Linear {
      Linear(weight: try Tensor(shape: [d, d], data: Array(inProj[(i * d * d)..<((i + 1) * d * d)])),
             bias: Array(inBias[(i * d)..<((i + 1) * d)]))
    }
    q = try slice(0); k = try slice(1); v = try slice(2)
    out = try Linear(source, N.pointerOutProj, in: d, out: d, bias: true)
    norm = try LayerNorm(source, N.pointerNorm, dim: d, eps: 1e-5)
    func projection(_ prefix: String) throws(EngineError) -> GELUMLP {
      GELUMLP(fc1: try Linear(source, prefix + ".0", in: d, out: d, bias: true),
              fc2: try Linear(source, prefix + ".2", in: d, out: d, bias: true), activation: .erf)
    }
    projectionEnc = try projection(N.pointerProjectionEnc)
    projectionDec = try projection(N.pointerProjectionDec)
  }

  /// image tokens x (n, d) -> keys (n, d): projection_enc(LayerNorm(x + MHA(x, x, x))).
  func keys(_ x: [Float], rows n: Int, threads: Int) -> [Float] {
    let d = width
    let qs = q(x, rows: n, threads: threads)  // (n, d)
    let ks = k(x, rows: n, threads: threads)  // (n, d)
    let vs = v(x, rows: n, threads: threads)  // (n, d)
    var attended = [Float](repeating: 0, count: n * d)  // (n, d), heads interleaved per row
    qs.withUnsafeBufferPointer { qp in ks.withUnsafeBufferPointer { kp in
      vs.withUnsafeBufferPointer { vp in attended.withUnsafeMutableBufferPointer { op in
        guard let qb = qp.baseAddress, let kb = kp.baseAddress, let vb = vp.baseAddress, let ob = op.baseAddress else { return }
        // Full (non-causal) attention of every token over all n; softmax scale 1/sqrt(d/8) as torch's MHA.
        Attention.attend(q: qb, keys: kb, values: vb, rows: n, start: 0, heads: Self.heads, kvHeads: Self.heads,
                         headDim: d / Self.heads, causal: false, threads: threads, out: ob)
      } }
    } }
    var h = out(attended, rows: n, threads: threads)  // (n, d)
    addInPlace(&h, x)                                  // residual
    return projectionEnc(norm(h, rows: n, threads: threads), rows: n, threads: threads)
  }

  /// The scores of image token rows `rows` (n, d) for the normed hidden state at the pointer pad.
  func scores(imageRows rows: [Float], count n: Int, hidden: [Float], threads: Int) -> (logits: [Float], scores: [Float]) {
    let keys = keys(rows, rows: n, threads: threads)
    let logits = logits(keys: keys, rows: n, hidden: hidden, threads: threads)
    var scores = logits
    scores.withUnsafeMutableBufferPointer { sp in
      guard let sb = sp.baseAddress else { return }
      Vec.softmax(sb, n)
    }
    return (logits, scores)
  }

  /// The one `<|pointer_pad|>` row of `tokens`, and `keyRows` checked against `imageRows`.
  static func padRow(_ tokens: [Int], ids: PointerTokenIds, keyRows: Range<Int>, imageRows: Int) throws(EngineError) -> Int {
    let pads = tokens.indices.filter { tokens[$0] == ids.pad }
    guard pads.count == 1, let padRow = pads.first else {
      throw .invalidArgument("the prompt holds \(pads.count) \(PointerTokenIds.padText) tokens (id \(ids.pad)); the pointer head needs exactly one")
    }
    guard !keyRows.isEmpty, keyRows.lowerBound >= 0, keyRows.upperBound <= imageRows else {
      throw .invalidArgument("pointer key rows \(keyRows) do not lie within the \(imageRows) image embeddings")
    }
    return padRow
  }

  /// keys (n, d) and the decoder's normed hidden state (d,) -> logits (n,) = k . q / sqrt(d),
  /// q = projection_dec(hidden).
  func logits(keys: [Float], rows n: Int, hidden: [Float], threads: Int) -> [Float] {
    let query = projectionDec(hidden, rows: 1, threads: threads)  // (d,)
    var logits = [Float](repeating: 0, count: n)
    let scale = Float(width).squareRoot()
    keys.withUnsafeBufferPointer { kp in query.withUnsafeBufferPointer { qp in
      logits.withUnsafeMutableBufferPointer { lp in
        guard let kb = kp.baseAddress, let qb = qp.baseAddress, let lb = lp.baseAddress else { return }
        // keys (n, d) @ query (d,) -> (n,)
        BLAS.gemv(kb, rows: n, columns: width, qb, beta: 0, lb)
        for i in 0..<n { lb[i] /= scale }
      }
    } }
    return logits
  }
}

// MARK: - The model's pointing pass

extension BlueLMVLModel: PointingModel {
  public var pointerTokenIds: PointerTokenIds? { pointerHead == nil ? nil : config.pointerTokenIds }

  public func pointerScores(tokens: [Int], imageEmbeddings: [Float], imageGrids: [ImageGrid], imagePadId: Int,
                            keyRows: Range<Int>) throws(EngineError) -> PointerScores {
    guard let head = pointerHead, let ids = config.pointerTokenIds else {
      throw .invalidArgument("this checkpoint has no pointer head (multi_patch_pointer_head.*)")
    }
    let d = hiddenSize
    guard imageEmbeddings.count % d == 0 else {
      throw .invalidArgument("\(imageEmbeddings.count) image embedding values are not rows of width \(d)")
    }
    let padRow = try PointerHead.padRow(tokens, ids: ids, keyRows: keyRows, imageRows: imageEmbeddings.count / d)
    let clock = ContinuousClock()
    let t0 = clock.now
    let x = try inputEmbeddings(tokens: tokens, imageEmbeddings: imageEmbeddings, imagePadId: imagePadId)
    var cache = makeCache(capacity: tokens.count, precision: .f32)  // prefill only: nothing to gain from f16
    let hidden = language.normedHidden(x, rows: tokens.count, row: padRow, cache: &cache, threads: threads)  // (d,)
    let t1 = clock.now
    let tiles = Array(imageEmbeddings[(keyRows.lowerBound * d)..<(keyRows.upperBound * d)])  // (n, d)
    let (logits, scores) = head.scores(imageRows: tiles, count: keyRows.count, hidden: hidden, threads: threads)
    let t2 = clock.now
    return PointerScores(logits: logits, scores: scores, prefillSeconds: (t1 - t0).seconds,
                         headSeconds: (t2 - t1).seconds)
  }
}
