import Foundation
import Testing
@testable import Engine

// GGUFWriter: files it writes read back through GGUFFile with the same metadata (every value
// type, arrays included) and tensors, and the byte-level facts of the format.

@Suite struct GGUFWriterTests {
  static let metadata: [(String, GGUFValue)] = [
    ("general.architecture", .string("test")),
    ("u8", .uint8(200)), ("i8", .int8(-100)), ("u16", .uint16(60000)), ("i16", .int16(-30000)),
    ("u32", .uint32(4_000_000_000)), ("i32", .int32(-2_000_000_000)), ("u64", .uint64(1 << 40)),
    ("i64", .int64(-(1 << 40))), ("f32", .float32(0.1)), ("f64", .float64(-2.5e-300)), ("yes", .bool(true)),
    ("no", .bool(false)), ("text", .string("Grüße \u{1F600}\n")),
    ("strings", .array(.string, [.string("a b"), .string(""), .string("Ġx")])),
    ("ints", .array(.int32, [.int32(2), .int32(3), .int32(-1), .int32(0)])),
    ("floats", .array(.float32, [.float32(0.5), .float32(-0.25)])),
    ("bools", .array(.bool, [.bool(false), .bool(true), .bool(false)])),
    ("nested", .array(.array, [.array(.uint8, [.uint8(1)]), .array(.uint8, [])])),
  ]

  /// Writes a file with three tensors of different types; returns its path and the values.
  private func writeSample(_ dir: WeightScratchDirectory, alignment: Int = 32) throws -> (String, [String: [Float]]) {
    let path = dir.url.appendingPathComponent("sample.gguf").path
    let a = (0..<6).map { Float($0) - 2.5 }            // f32 [2, 3]
    let b = gaussianValues(2 * 64, seed: 3)            // q8_0 [2, 64]
    let c = gaussianValues(256, seed: 4)               // f16 [4, 8, 8]
    let specs = [GGUFTensorSpec(name: "a", type: .f32, shape: [2, 3]),
                 GGUFTensorSpec(name: "b.weight", type: .q8_0, shape: [2, 64]),
                 GGUFTensorSpec(name: "c", type: .f16, shape: [4, 8, 8])]
    let w = try GGUFWriter(path: path, metadata: Self.metadata, tensors: specs, alignment: alignment)
    try w.append(try Quantizer.quantize(.f32, a, tensor: "a"))
    let bq = try Quantizer.quantize(.q8_0, b, tensor: "b")
    try w.append(Array(bq[0..<10]))  // pieces of any size
    try w.append(Array(bq[10...]))
    try w.append(try Quantizer.quantize(.f16, c, tensor: "c"))
    try w.finish()
    #expect(FileManager.default.fileExists(atPath: path + ".tmp"))
    #expect(!FileManager.default.fileExists(atPath: path))
    try w.commit()
    return (path, ["a": a, "b.weight": dequantized(.q8_0, bq, count: b.count),
                   "c": c.map { Float(Float16($0)) }])
  }

  @Test func readsBackWithTheSameMetadataAndTensors() throws {
    let dir = try WeightScratchDirectory()
    defer { dir.cleanup() }
    let (path, values) = try writeSample(dir)
    #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
    let f = try GGUFFile(path: path)
    #expect(f.version == 3)
    #expect(f.metadataKeys == Self.metadata.map(\.0))
    for (k, v) in Self.metadata {
      if case let .float32(x) = v {
        #expect(f.metadata[k].flatMap { if case let .float32(y) = $0 { y.bitPattern } else { nil } } == x.bitPattern, "\(k)")
      } else {
        #expect(f.metadata[k] == v, "\(k)")
      }
    }
    #expect(f.tensors.map(\.name) == ["a", "b.weight", "c"])
    #expect(f.info("a")?.shape == [2, 3] && f.info("b.weight")?.shape == [2, 64] && f.info("c")?.shape == [4, 8, 8])
    #expect(f.tensor("b.weight")?.dims == [64, 2])
    #expect(f.info("b.weight")?.dtype == .q8_0 && f.info("c")?.dtype == .f16)
    for (name, expected) in values {
      #expect(try f.floats(name).map(\.bitPattern) == expected.map(\.bitPattern), "\(name)")
    }
  }

  @Test func byteLevelFormat() throws {
    let dir = try WeightScratchDirectory()
    defer { dir.cleanup() }
    let (path, _) = try writeSample(dir)
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    #expect(Array(bytes[0..<4]) == Array("GGUF".utf8))
    #expect(bytes[4..<8].elementsEqual([3, 0, 0, 0]))
    #expect(bytes[8..<16].elementsEqual([3, 0, 0, 0, 0, 0, 0, 0]))  // tensor count
    let f = try GGUFFile(path: path)
    #expect(f.alignment == 32 && f.metadata["general.alignment"] == nil)
    let starts = f.tensors.map(\.byteRange.lowerBound)
    #expect(starts.allSatisfy { $0 % 32 == 0 }, "\(starts)")
    // Each tensor is padded to 32, the last one too.
    let last = try #require(f.tensors.last)
    #expect(bytes.count == GGUFWriter.padded(last.byteRange.upperBound, 32))
    #expect(f.tensor("b.weight")?.byteRange.count == 2 * 2 * 34)
  }

  @Test func otherAlignmentIsRecorded() throws {
    let dir = try WeightScratchDirectory()
    defer { dir.cleanup() }
    let (path, _) = try writeSample(dir, alignment: 64)
    let f = try GGUFFile(path: path)
    #expect(f.alignment == 64 && f.metadata["general.alignment"] == .uint32(64))
    #expect(f.tensors.allSatisfy { $0.byteRange.lowerBound % 64 == 0 })
  }

  @Test func misuseIsRefusedAndLeavesNoFile() throws {
    let dir = try WeightScratchDirectory()
    defer { dir.cleanup() }
    let path = dir.url.appendingPathComponent("out.gguf").path
    let specs = [GGUFTensorSpec(name: "t", type: .f32, shape: [4])]
    do {
      let w = try GGUFWriter(path: path, metadata: [("k", .string("v"))], tensors: specs)
      #expect(weightErrorMessage { try w.append([UInt8](repeating: 0, count: 20)) }?.contains("'t' is 16 bytes") == true)
      #expect(weightErrorMessage { try w.finish() }?.contains("'t' was not written") == true)
    }  // dropped unfinished: the .tmp goes
    #expect(!FileManager.default.fileExists(atPath: path) && !FileManager.default.fileExists(atPath: path + ".tmp"))
    #expect(weightErrorMessage { _ = try GGUFWriter(path: path, metadata: [("k", .bool(true)), ("k", .bool(false))], tensors: []) }?
      .contains("'k' given twice") == true)
    #expect(weightErrorMessage { _ = try GGUFWriter(path: path, metadata: [("k", .array(.int32, [.int32(1), .uint8(2)]))], tensors: []) }?
      .contains("element 1") == true)
    #expect(weightErrorMessage { _ = try GGUFWriter(path: path, metadata: [], tensors: [GGUFTensorSpec(name: "q", type: .q4_K, shape: [2, 64])]) }?
      .contains("not a multiple of the q4_K block size 256") == true)
    let unwritable = dir.url.appendingPathComponent("no/such/dir/x.gguf").path
    let message = weightErrorMessage { _ = try GGUFWriter(path: unwritable, metadata: [], tensors: []) }
    #expect(message?.contains(unwritable + ".tmp") == true, "\(message ?? "no error")")
  }
}
