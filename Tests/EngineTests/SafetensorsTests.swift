import Foundation
import Testing
@testable import Engine

// Fixtures: scripts/fixtures/make_weight_fixtures.py (the `safetensors` package writes the files,
// torch's `.float()` gives the expected values, compared bitwise).

// MARK: - Reading files written by the safetensors package

@Suite struct SafetensorsReadTests {
  let dir = "safetensors"

  @Test func singleFileMatchesTorchBitwise() throws {
    let file = try SafetensorsFile(url: WeightFixtures.url("single", "safetensors", dir))
    #expect(file.metadata == ["format": "pt", "note": "fixture"])
    #expect(file.tensorNames == ["a.weight_f32", "b.weight_f16", "c.weight_bf16", "d.special_f16",
                                 "e.special_bf16", "f.scalar", "g.ids_i64", "h.empty"])
    let floatNames = file.tensorNames.filter { $0 != "g.ids_i64" }
    for name in floatNames {
      let expected = try WeightFixtures.expectedFloats(name, dir)
      let got = try file.floats(name)
      #expect(WeightFixtures.bits(got) == WeightFixtures.bits(expected), "tensor \(name)")
    }
    #expect(file.info("a.weight_f32") == TensorInfo(name: "a.weight_f32", dtype: .f32, shape: [3, 5]))
    #expect(file.info("b.weight_f16")?.dtype == .f16)
    #expect(file.info("c.weight_bf16")?.dtype == .bf16)
    #expect(file.info("f.scalar")?.shape == [])
    #expect(file.info("h.empty")?.shape == [0, 4])
  }

  @Test func integerTensorIsListedButNotReadAsFloats() throws {
    let file = try SafetensorsFile(url: WeightFixtures.url("single", "safetensors", dir))
    #expect(file.info("g.ids_i64") == nil)
    #expect(file.tensor("g.ids_i64")?.dtype == .I64)
    let message = weightErrorMessage { _ = try file.floats("g.ids_i64") }
    #expect(message?.contains("I64") == true)
    #expect(message?.contains("g.ids_i64") == true)
    let ids: [Int64] = try file.withRawBytes("g.ids_i64") { raw in
      (0..<6).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
    }
    #expect(ids == [0, 1, 2, 3, 4, 5])
  }

  @Test func rawBytesAreTheStoredF32() throws {
    let file = try SafetensorsFile(url: WeightFixtures.url("single", "safetensors", dir))
    let expected = try WeightFixtures.expectedFloats("a.weight_f32", dir)
    let raw: [Float] = try file.withRawBytes("a.weight_f32") { raw in
      (0..<raw.count / 4).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) }
    }
    #expect(WeightFixtures.bits(raw) == WeightFixtures.bits(expected))
  }

  @Test func missingTensorThrowsMissingTensor() throws {
    let file = try SafetensorsFile(url: WeightFixtures.url("single", "safetensors", dir))
    #expect(throws: EngineError.missingTensor("nope")) { try file.floats("nope") }
  }

  @Test func shardedCheckpointMatchesTorch() throws {
    let index = try WeightFixtures.url("model.safetensors.index", "json", "\(dir)/sharded")
    let ckpt = try SafetensorsCheckpoint(directory: index.deletingLastPathComponent())
    #expect(ckpt.shards.count == 2)
    #expect(ckpt.tensorNames == ["lm_head.weight", "model.embed.weight", "model.layers.0.w", "model.layers.1.w"])
    for name in ckpt.tensorNames {
      let expected = try WeightFixtures.expectedFloats(name, "\(dir)/sharded")
      #expect(WeightFixtures.bits(try ckpt.floats(name)) == WeightFixtures.bits(expected), "tensor \(name)")
    }
    #expect(ckpt.info("model.embed.weight") == TensorInfo(name: "model.embed.weight", dtype: .bf16, shape: [4, 3]))
    #expect(ckpt.info("model.layers.1.w")?.dtype == .f16)
    #expect(ckpt.shard(for: "lm_head.weight")?.path.hasSuffix("model-00002-of-00002.safetensors") == true)
  }

  @Test func floatMatricesMultiplyInPlace() throws {
    let file = try SafetensorsFile(url: WeightFixtures.url("single", "safetensors", dir))
    let x: [Float] = [0.5, -1, 2, 0.25, -0.75]
    for name in ["a.weight_f32", "b.weight_f16", "c.weight_bf16"] {
      let w = try WeightFixtures.expectedFloats(name, dir)  // (3, 5)
      let m = try file.matrix(name)
      #expect(m.rows == 3 && m.columns == 5)
      let y = try m.multiply(x)
      for r in 0..<3 {
        let ref = (0..<5).reduce(0.0) { $0 + Double(w[r * 5 + $1]) * Double(x[$1]) }
        let scale = (0..<5).reduce(0.0) { $0 + abs(Double(w[r * 5 + $1]) * Double(x[$1])) }
        #expect(abs(Double(y[r]) - ref) <= 1e-6 * scale, "\(name) row \(r)")
      }
    }
    #expect(weightErrorMessage { _ = try file.matrix("g.ids_i64") }?.contains("I64") == true)
  }

  @Test func openWeightsPicksTheReader() throws {
    let single = try WeightFixtures.url("single", "safetensors", dir)
    #expect(try openWeights(at: single) is SafetensorsFile)
    #expect(try openWeights(at: single.deletingLastPathComponent().appendingPathComponent("sharded")) is SafetensorsCheckpoint)
    #expect(try openWeights(at: WeightFixtures.url("types", "gguf", "gguf")) is GGUFFile)
    let bad = weightErrorMessage { _ = try openWeights(at: WeightFixtures.url("a.weight_f32", "f32", dir)) }
    #expect(bad?.contains("unknown weights format '.f32'") == true)
  }

  @Test func singleFileDirectoryIsACheckpoint() throws {
    let scratch = try WeightScratchDirectory()
    defer { scratch.cleanup() }
    let src = try Data(contentsOf: WeightFixtures.url("single", "safetensors", dir))
    _ = try scratch.write("model.safetensors", [UInt8](src))
    let ckpt = try SafetensorsCheckpoint(directory: scratch.url)
    #expect(ckpt.tensorNames.count == 8)
    #expect(try ckpt.floats("f.scalar") == [2.5])
  }
}

// MARK: - Handcrafted broken files

/// A safetensors file from a header string and a data section.
private func safetensorsBytes(_ header: String, data: [UInt8] = []) -> [UInt8] {
  let h = Array(header.utf8)
  return withUnsafeBytes(of: UInt64(h.count).littleEndian) { Array($0) } + h + data
}

@Suite struct SafetensorsCorruptTests {
  private func expectError(_ bytes: [UInt8], _ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation) throws {
    try expectOpenError(bytes, fileName: "bad.safetensors", fragments, open: { _ = try SafetensorsFile(url: $0) },
                        sourceLocation: sourceLocation)
  }

  private let eightFloats = [UInt8](repeating: 0, count: 32)

  @Test func validHandcraftedFileOpens() throws {
    let scratch = try WeightScratchDirectory()
    defer { scratch.cleanup() }
    let url = try scratch.write("ok.safetensors",
                                safetensorsBytes(#"{"w":{"dtype":"F32","shape":[2,4],"data_offsets":[0,32]}}"#, data: eightFloats))
    #expect(try SafetensorsFile(url: url).floats("w") == [Float](repeating: 0, count: 8))
  }

  @Test func truncatedFile() throws {
    try expectError([1, 0, 0], "too short", "truncated")
    let good = safetensorsBytes(#"{"w":{"dtype":"F32","shape":[2,4],"data_offsets":[0,32]}}"#, data: eightFloats)
    try expectError(Array(good.dropLast(4)), "'w'", "past the data section")
  }

  @Test func headerLengthLargerThanFile() throws {
    var b = safetensorsBytes(#"{}"#)
    b.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64(1000).littleEndian) { Array($0) })
    try expectError(b, "header length 1000", "larger than")
    b.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64.max.littleEndian) { Array($0) })
    try expectError(b, "header length \(UInt64.max)", "limit")
  }

  @Test func headerNotJSON() throws {
    try expectError(safetensorsBytes(#"{"w": {"dtype": "F32", "#), "not valid JSON")
    try expectError(safetensorsBytes(#"[1, 2]"#), "expected an object")
    try expectError(safetensorsBytes(#"{"w":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}} x"#), "not valid JSON")
  }

  @Test func unknownDType() throws {
    try expectError(safetensorsBytes(#"{"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,1]}}"#, data: [0]),
                    "'w'", "unknown dtype 'Q4'")
  }

  @Test func shapeOffsetMismatch() throws {
    try expectError(safetensorsBytes(#"{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,32]}}"#, data: eightFloats),
                    "'w'", "hold 32 bytes", "needs 24")
    try expectError(safetensorsBytes(#"{"w":{"dtype":"F32","shape":[2,-4],"data_offsets":[0,32]}}"#, data: eightFloats),
                    "'w'", "invalid dimension")
    try expectError(safetensorsBytes(#"{"w":{"dtype":"F32","shape":[2,4.0],"data_offsets":[0,32]}}"#, data: eightFloats),
                    "'w'", "invalid dimension")
    try expectError(safetensorsBytes(#"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,32]}}"#,
                                     data: eightFloats), "'w'", "overflows")
  }

  @Test func outOfRangeOffsets() throws {
    try expectError(safetensorsBytes(#"{"w":{"dtype":"F32","shape":[8],"data_offsets":[8,40]}}"#, data: eightFloats),
                    "'w'", "end 40", "past the data section of 32 bytes")
    try expectError(safetensorsBytes(#"{"w":{"dtype":"F32","shape":[8],"data_offsets":[-4,28]}}"#, data: eightFloats),
                    "'w'", "not a valid range")
    try expectError(safetensorsBytes(#"{"w":{"dtype":"F32","shape":[8],"data_offsets":[0]}}"#, data: eightFloats),
                    "'w'", "data_offsets must be")
  }

  @Test func overlappingTensors() throws {
    let header = #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[12,28]}}"#
    try expectError(safetensorsBytes(header, data: eightFloats), "'a' and 'b' overlap")
  }

  @Test func duplicateNames() throws {
    let header = #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"w":{"dtype":"F32","shape":[4],"data_offsets":[16,32]}}"#
    try expectError(safetensorsBytes(header, data: eightFloats), "duplicate tensor name 'w'")
  }

  @Test func badMetadataAndMissingFields() throws {
    try expectError(safetensorsBytes(#"{"__metadata__":{"k":1}}"#), "__metadata__ key 'k'", "expected a string")
    try expectError(safetensorsBytes(#"{"w":{"dtype":"F32","shape":[0]}}"#), "'w'", "data_offsets", "missing")
  }

  @Test func shardedIndexNamingAMissingShard() throws {
    let scratch = try WeightScratchDirectory()
    defer { scratch.cleanup() }
    _ = try scratch.write("model-1.safetensors",
                          safetensorsBytes(#"{"w":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}"#, data: eightFloats))
    _ = try scratch.write("model.safetensors.index.json",
                          Array(#"{"weight_map":{"w":"model-1.safetensors","v":"model-2.safetensors"}}"#.utf8))
    let missing = weightErrorMessage { _ = try SafetensorsCheckpoint(directory: scratch.url) }
    #expect(missing?.contains("model.safetensors.index.json") == true)
    #expect(missing?.contains("shard file 'model-2.safetensors', which is missing") == true, "\(missing ?? "")")

    _ = try scratch.write("model.safetensors.index.json",
                          Array(#"{"weight_map":{"w":"model-1.safetensors","v":"model-1.safetensors"}}"#.utf8))
    let lacking = weightErrorMessage { _ = try SafetensorsCheckpoint(directory: scratch.url) }
    #expect(lacking?.contains("tensor 'v' to shard 'model-1.safetensors', which lacks it") == true, "\(lacking ?? "")")

    _ = try scratch.write("model.safetensors.index.json", Array(#"{"weight_map":{"w":"../model-1.safetensors"}}"#.utf8))
    let escaping = weightErrorMessage { _ = try SafetensorsCheckpoint(directory: scratch.url) }
    #expect(escaping?.contains("not a plain file name") == true, "\(escaping ?? "")")

    _ = try scratch.write("model.safetensors.index.json",
                          Array(#"{"weight_map":{"w":"model-1.safetensors","w":"model-1.safetensors"}}"#.utf8))
    let dup = weightErrorMessage { _ = try SafetensorsCheckpoint(directory: scratch.url) }
    #expect(dup?.contains("duplicate tensor name 'w'") == true, "\(dup ?? "")")
  }

  @Test func corruptShardIsRejected() throws {
    let scratch = try WeightScratchDirectory()
    defer { scratch.cleanup() }
    _ = try scratch.write("model-1.safetensors", safetensorsBytes(#"{"w":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}"#))
    _ = try scratch.write("model.safetensors.index.json", Array(#"{"weight_map":{"w":"model-1.safetensors"}}"#.utf8))
    let message = weightErrorMessage { _ = try SafetensorsCheckpoint(directory: scratch.url) }
    #expect(message?.contains("model-1.safetensors") == true)
    #expect(message?.contains("past the data section") == true, "\(message ?? "")")
  }
}

// MARK: - The JSON reader behind the header checks

@Suite struct StrictJSONTests {
  @Test func parsesEscapesAndKeepsDuplicates() throws {
    let v = try StrictJSONParser.parse(Array(#"{"a\u00e9\ud83d\ude00":[1,-2.5e3,true,null],"a\u00e9\ud83d\ude00":"x\n"}"#.utf8))
    guard case let .object(m) = v else { Issue.record("not an object"); return }
    #expect(m.count == 2)
    #expect(m[0].key == "aé😀")
    #expect(m[0].value == .array([.number("1"), .number("-2.5e3"), .bool(true), .null]))
    #expect(StrictJSON.firstDuplicateKey(m) == "aé😀")
  }

  @Test func rejectsMalformedDocuments() {
    for bad in [#"{"a":}"#, #"{"a":1,}"#, #"[01]"#, #""\x""#, #""\ud800""#, "\"a\u{01}\"", "", #"{"a" 1}"#,
                String(repeating: "[", count: 100) + String(repeating: "]", count: 100)] {
      #expect(throws: StrictJSONError.self, "\(bad)") { try StrictJSONParser.parse(Array(bad.utf8)) }
    }
  }

  @Test func intValueIsStrict() {
    #expect(StrictJSON.number("42").intValue == 42)
    #expect(StrictJSON.number("4.0").intValue == nil)
    #expect(StrictJSON.number("1e2").intValue == nil)
    #expect(StrictJSON.number("99999999999999999999").intValue == nil)
    #expect(StrictJSON.bool(true).intValue == nil)
  }
}

// MARK: - Corruption sweep

@Suite struct SafetensorsCorruptionSweepTests {
  @Test func truncationsAndMutationsNeverTrap() throws {
    let original = try [UInt8](Data(contentsOf: WeightFixtures.url("single", "safetensors", "safetensors")))
    let (truncations, mutations) = try corruptionSweep(original, stride: 1, mutations: 1000, seed: 43) { url in
      let f = try SafetensorsFile(url: url)
      for name in f.tensorNames where f.info(name) != nil { _ = try f.floats(name) }
    }
    // Every proper prefix is rejected: the last tensor ends at the end of the file.
    #expect(truncations == original.count)
    #expect(mutations > 0)
  }
}
