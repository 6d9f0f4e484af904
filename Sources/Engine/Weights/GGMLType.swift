// GGML tensor types as GGUF stores them: type ids and block geometry.
// Facts from ggml (ggml/include/ggml.h `enum ggml_type`, ggml/src/ggml-common.h block structs);
// the same table is `GGML_QUANT_SIZES` in the gguf Python package.

// MARK: - Block geometry

extension TensorDType {
  /// Elements per block (1 for plain floats, 32 for the legacy quants, 256 for K-quants).
  public var blockSize: Int {
    switch self {
    case .f32, .f16, .bf16: 1
    case .q8_0, .q4_0, .q4_1, .q5_0, .q5_1: 32
    case .q4_K, .q5_K, .q6_K, .q8_K: 256
    }
  }

  /// Bytes per block.
  public var blockBytes: Int {
    switch self {
    case .f32: 4
    case .f16, .bf16: 2
    case .q8_0: 2 + 32            // f16 d, i8 qs[32]
    case .q4_0: 2 + 16            // f16 d, u8 qs[16]
    case .q4_1: 2 + 2 + 16        // f16 d, f16 m, u8 qs[16]
    case .q5_0: 2 + 4 + 16        // f16 d, u8 qh[4], u8 qs[16]
    case .q5_1: 2 + 2 + 4 + 16    // f16 d, f16 m, u8 qh[4], u8 qs[16]
    case .q4_K: 2 + 2 + 12 + 128  // f16 d, f16 dmin, u8 scales[12], u8 qs[128]
    case .q5_K: 2 + 2 + 12 + 32 + 128  // ... u8 qh[32], u8 qs[128]
    case .q6_K: 128 + 64 + 16 + 2      // u8 ql[128], u8 qh[64], i8 scales[16], f16 d
    case .q8_K: 4 + 256 + 32           // f32 d, i8 qs[256], i16 bsums[16]
    }
  }

  /// Whether the type is stored in quantized blocks (not a plain float).
  public var isQuantized: Bool { blockSize > 1 }

  /// Bytes of a row of `count` elements, nil unless `count` is a multiple of `blockSize` and
  /// the byte count fits an Int (a file's header may claim any length).
  public func rowBytes(_ count: Int) -> Int? {
    guard count >= 0, count % blockSize == 0 else { return nil }
    let (bytes, overflow) = (count / blockSize).multipliedReportingOverflow(by: blockBytes)
    return overflow ? nil : bytes
  }

  /// The `ggml_type` id.
  public var ggmlTypeID: UInt32 {
    switch self {
    case .f32: 0
    case .f16: 1
    case .q4_0: 2
    case .q4_1: 3
    case .q5_0: 6
    case .q5_1: 7
    case .q8_0: 8
    case .q4_K: 12
    case .q5_K: 13
    case .q6_K: 14
    case .q8_K: 15
    case .bf16: 30
    }
  }

  /// The type with `ggml_type` id `id`, nil for ids this engine does not read.
  public init?(ggmlTypeID id: UInt32) {
    guard let t = TensorDType.allCases.first(where: { $0.ggmlTypeID == id }) else { return nil }
    self = t
  }

  /// ggml's name of a type id (also for types this engine does not read), for error messages.
  static func ggmlTypeName(_ id: UInt32) -> String? {
    let names: [UInt32: String] = [
      0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1",
      10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS",
      17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS",
      24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M", 30: "BF16", 34: "TQ1_0",
      35: "TQ2_0", 39: "MXFP4",
    ]
    return names[id]
  }
}
