import Foundation
import XCTest
@testable import Engine

/// Inputs the fuzz targets (fuzz/README.md) showed to trap or hang model loading, each now
/// refused with an error naming the value: a config.json or GGUF header that lies about sizes.
final class FuzzRegressionTests: XCTestCase {
  // MARK: - config.json (target `config`)

  /// The input the `config` target crashed on (fuzz/corpus/config/regression-image-size-grid-overflow.json):
  /// `vision_config.image_size` 421474836482 made the position-embedding shape (grid^2, width)
  /// overflow while the tiny checkpoint's vision tensors were checked.
  func testConfigImageSizeBeyondTheLimitIsRefused() throws {
    let crash = try Data(contentsOf: Self.repository.appendingPathComponent("fuzz/corpus/config/regression-image-size-grid-overflow.json"))
    XCTAssertEqual(try loadError(config: crash), .badConfig("'vision_config.image_size' 421474836482 is larger than 1048576"))
  }

  /// `text_config` heads and head_dim of 2^40: heads x head_dim overflowed in the decoder layer.
  func testConfigHeadsTimesHeadDimBeyondTheLimitIsRefused() throws {
    var config = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: Self.tiny.appendingPathComponent("config.json"))) as? [String: Any])
    var text = try XCTUnwrap(config["text_config"] as? [String: Any])
    for key in ["num_attention_heads", "num_key_value_heads", "head_dim"] { text[key] = 1 << 40 }
    config["text_config"] = text
    XCTAssertEqual(try loadError(config: try JSONSerialization.data(withJSONObject: config)),
                   .badConfig("'text_config.num_attention_heads' 1099511627776 is larger than 1048576"))
  }

  static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
  /// The tiny random checkpoint the fuzz target loads configs against.
  static let tiny = repository.appendingPathComponent("Tests/GroundingTests/Fixtures/tiny-bluelm")

  /// `config` loaded as a checkpoint's config.json is: its family on the tiny checkpoint's tensors.
  private func loadError(config: Data) throws -> EngineError? {
    let family = try XCTUnwrap(ModelRegistry.families["bluelm_vl"])
    let weights = try SafetensorsCheckpoint(directory: Self.tiny)
    do {
      _ = try family(config, weights, 1)
      XCTFail("the config loaded")
      return nil
    } catch {
      return error
    }
  }

  // MARK: - GGUF (target `gguf`)

  /// The fuzz seed `llama-tiny.gguf` (fuzz/make-corpus.py) loads as it is.
  func testTinyLlamaGGUFLoads() throws {
    let model = try ModelLoader.load(path: try write(tinyLlamaGGUF()), threads: 1)
    XCTAssertEqual(model.family, "llama")
  }

  /// The input the `gguf` target timed out on (fuzz/corpus/gguf/regression-block-count-timeout.gguf):
  /// the tiny seed with `llama.block_count` 620756993 in a file of 11 tensors; listing every
  /// block's tensor names ran for minutes. Now refused at once.
  func testGGUFBlockCountBeyondTheTensorsIsRefused() throws {
    let crash = try Data(contentsOf: Self.repository.appendingPathComponent("fuzz/corpus/gguf/regression-block-count-timeout.gguf"))
    let path = try write([UInt8](crash))
    let start = Date()
    XCTAssertThrowsError(try ModelLoader.load(path: path, threads: 1)) { error in
      XCTAssertEqual(error as? EngineError,
                     .badConfig("\(path): llama.block_count 620756993 needs 620756993 x 9 tensors; the file holds 11"))
    }
    XCTAssertLessThan(Date().timeIntervalSince(start), 1)
    // The same lie in a file built here.
    let built = try write(tinyLlamaGGUF(blockCount: 0x7FFF_FFFF))
    XCTAssertThrowsError(try ModelLoader.load(path: built, threads: 1)) { error in
      XCTAssertEqual(error as? EngineError,
                     .badConfig("\(built): llama.block_count 2147483647 needs 2147483647 x 9 tensors; the file holds 11"))
    }
  }

  /// The input the `gguf` target crashed on (fuzz/corpus/gguf/regression-row-bytes-overflow): a
  /// tensor whose first dimension times the type's bytes per element overflowed an Int while the
  /// header was read. Now an error that names the tensor.
  func testGGUFRowByteSizeOverflowIsAnError() throws {
    let crash = try Data(contentsOf: Self.repository.appendingPathComponent("fuzz/corpus/gguf/regression-row-bytes-overflow"))
    let path = try write([UInt8](crash))
    XCTAssertThrowsError(try GGUFFile(path: path)) { error in
      XCTAssertTrue("\(error)".contains("byte size overflows"), "\(error)")
    }
    XCTAssertNil(TensorDType.f32.rowBytes(Int.max / 2))
    XCTAssertEqual(TensorDType.f32.rowBytes(8), 32)
  }

  /// `llama.attention.head_count` 2^32 - 1 with `key_length` 2^32 - 2: their product overflowed
  /// (a trap) in the decoder layer.
  func testGGUFHeadsTimesKeyLengthBeyondTheLimitIsRefused() throws {
    let path = try write(tinyLlamaGGUF(headCount: 0xFFFF_FFFF, keyLength: 0xFFFF_FFFE))
    XCTAssertThrowsError(try ModelLoader.load(path: path, threads: 1)) { error in
      XCTAssertEqual(error as? EngineError,
                     .badConfig("\(path): llama.attention.head_count 4294967295 is larger than 1048576"))
    }
  }

  /// A GGUF shaped like the fuzz seed `llama-tiny.gguf` (fuzz/make-corpus.py): one llama block,
  /// width 8, 2 heads of 4, 1 kv head, FFN 8, 8 tokens, f32 tensors; with the header values given.
  private func tinyLlamaGGUF(blockCount: UInt32 = 1, headCount: UInt32 = 2, keyLength: UInt32? = nil) -> [UInt8] {
    let d = 8, heads = 2, kv = 1, hd = 4, ff = 8
    let tokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "a", "b", "ab", "\u{0120}", "\u{0120}a"]
    let tensors: [(String, [Int])] = [
      ("token_embd.weight", [d, tokens.count]), ("output_norm.weight", [d]), ("blk.0.attn_norm.weight", [d]),
      ("blk.0.attn_q.weight", [d, heads * hd]), ("blk.0.attn_k.weight", [d, kv * hd]),
      ("blk.0.attn_v.weight", [d, kv * hd]), ("blk.0.attn_output.weight", [heads * hd, d]),
      ("blk.0.ffn_norm.weight", [d]), ("blk.0.ffn_gate.weight", [d, ff]), ("blk.0.ffn_up.weight", [d, ff]),
      ("blk.0.ffn_down.weight", [ff, d]),
    ]
    var g = GGUFBytes()
    var kvs: [(inout GGUFBytes) -> Void] = [
      { $0.kvString("general.architecture", "llama") },
      { $0.kvU32("llama.context_length", 64) },
      { $0.kvU32("llama.embedding_length", UInt32(d)) },
      { $0.kvU32("llama.feed_forward_length", UInt32(ff)) },
      { $0.kvU32("llama.block_count", blockCount) },
      { $0.kvU32("llama.attention.head_count", headCount) },
      { $0.kvU32("llama.attention.head_count_kv", UInt32(kv)) },
      { $0.kvString("tokenizer.ggml.model", "gpt2") },
      { $0.kvString("tokenizer.ggml.pre", "smollm") },
      { $0.kvStrings("tokenizer.ggml.tokens", tokens) },
      { $0.kvStrings("tokenizer.ggml.merges", ["a b", "\u{0120} a"]) },
      { $0.kvU32("tokenizer.ggml.eos_token_id", 2) },
    ]
    if let keyLength { kvs.append { $0.kvU32("llama.attention.key_length", keyLength) } }
    g.header(tensors: UInt64(tensors.count), kvs: UInt64(kvs.count))
    for kv in kvs { kv(&g) }
    var offset = 0
    for (name, ne) in tensors {
      g.tensor(name, dims: ne.map(UInt64.init), type: 0, offset: UInt64(offset))
      offset += (ne.reduce(4, *) + 31) / 32 * 32
    }
    g.pad(to: 32)
    for (i, (_, ne)) in tensors.enumerated() {
      for j in 0..<ne.reduce(1, *) {
        let value = Float((j * 37 + i * 11) % 17 - 8) / 16
        g.bytes += withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) }
      }
      g.pad(to: 32)
    }
    return g.bytes
  }

  private func write(_ bytes: [UInt8]) throws -> String {
    let scratch = try WeightScratchDirectory()
    addTeardownBlock { scratch.cleanup() }
    return try scratch.write("model.gguf", bytes).path
  }
}
