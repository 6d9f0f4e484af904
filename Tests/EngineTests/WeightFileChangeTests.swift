import Foundation
import Testing
@testable import Engine

// Weight files changed under a loaded model: small files are copied at load and keep working,
// mappings report the change instead of dying with SIGBUS; and the SHA-256 that names the
// weights in an episode, checked against FIPS 180-4's vectors and coreutils' sha256sum.
@Suite struct WeightFileChangeTests {
  private static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/weights/safetensors/single.safetensors")
  private static let embedded = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../Models/bluelm-vl-nano/model.safetensors").standardized

  private func sha256(_ bytes: [UInt8]) -> String {
    var s = SHA256()
    s.update(bytes)
    return SHA256.hexString(s.finish())
  }

  /// A copy of the fixture in a folder of its own.
  private func scratchCopy() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("weights-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let url = dir.appendingPathComponent("w.safetensors")
    try FileManager.default.copyItem(at: Self.fixture, to: url)
    return url
  }

  @Test func sha256KnownAnswers() {
    #expect(sha256([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(sha256(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(sha256(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    // One million 'a', fed in uneven pieces: the block buffering across updates.
    var s = SHA256()
    let piece = [UInt8](repeating: 0x61, count: 1_000)
    var fed = 0
    var size = 1
    while fed < 1_000_000 {
      let n = min(size, 1_000_000 - fed, piece.count)
      s.update(Array(piece[0..<n]))
      fed += n
      size = size % 997 + 13
    }
    #expect(SHA256.hexString(s.finish()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }

  /// The embedded model's digest as the engine records it equals coreutils' sha256sum.
  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/sha256sum")))
  func digestAgreesWithSha256sum() throws {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    p.arguments = [Self.embedded.path]
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    let reference = try #require(text.split(separator: " ").first.map(String.init))
    #expect(reference.count == 64)
    let model = try ModelLoader.load(path: Self.embedded.deletingLastPathComponent().path)
    #expect(model.weightsDigest() == reference)
    #expect(model.weightsDigest() == reference)  // the kept value
  }

  /// Truncated in place after loading (what `cp` over it does): a copied file reads on,
  /// with the bytes it had at load.
  @Test func copiedFileSurvivesTruncation() throws {
    let url = try scratchCopy()
    defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
    let file = try SafetensorsFile(url: url)
    let name = try #require(file.tensorNames.first)
    let before = try file.floats(name)
    #expect(truncate(url.path, 8) == 0)
    #expect(try file.floats(name) == before)
    #expect(file.files.first?.changedOnDisk() == nil)
    try file.checkUnchanged()
    // A new load sees the damage and names it.
    #expect(throws: EngineError.self) { try SafetensorsFile(url: url) }
  }

  /// A mapped file truncated in place: the check names the file and the size change, before
  /// any read could fault.
  @Test func mappedFileReportsTruncation() throws {
    let url = try scratchCopy()
    defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
    let file = try SafetensorsFile(path: url.path, copyLimit: 0)
    let size = try #require(try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int)
    try file.checkUnchanged()
    #expect(truncate(url.path, 8) == 0)
    let error = try #require(throws: EngineError.self) { try file.checkUnchanged() }
    let message = error.localizedDescription
    #expect(message.contains(url.path))
    #expect(message.contains("size changed from \(size) to 8 bytes"))
    #expect(message.contains("load the model again"))
  }

  /// A mapped file rewritten at the same size: named by its modification time.
  @Test func mappedFileReportsRewrite() throws {
    let url = try scratchCopy()
    defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
    let file = try SafetensorsFile(path: url.path, copyLimit: 0)
    let original = try Data(contentsOf: url)
    usleep(20_000)  // a later modification time, whatever the file system's resolution
    let handle = try FileHandle(forWritingTo: url)
    try handle.write(contentsOf: original)
    try handle.close()
    let error = try #require(throws: EngineError.self) { try file.checkUnchanged() }
    #expect(error.localizedDescription.contains("written to since it was loaded"))
  }

  /// Replaced by rename (how downloads and package managers install): the mapping keeps the
  /// old file's bytes and nothing is reported; the digest is still the loaded file's.
  @Test func mappedFileReplacedByRenameKeepsItsBytes() throws {
    let url = try scratchCopy()
    defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
    let file = try SafetensorsFile(path: url.path, copyLimit: 0)
    let name = try #require(file.tensorNames.first)
    let before = try file.floats(name)
    let digest = try #require(file.files.first).sha256()
    let other = url.deletingLastPathComponent().appendingPathComponent("new")
    try Data(repeating: 7, count: 100).write(to: other)
    #expect(rename(other.path, url.path) == 0)
    try file.checkUnchanged()
    #expect(try file.floats(name) == before)
    #expect(try #require(file.files.first).sha256() == digest)
    #expect(digest == sha256(Array(try Data(contentsOf: Self.fixture))))
  }
}
