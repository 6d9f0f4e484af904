import Foundation
#if canImport(Glibc)
import Glibc
#endif

// A GGUF v3 writer (little-endian), the inverse of `GGUFHeader`: magic "GGUF", u32 version 3,
// u64 tensor count, u64 kv count, the kv pairs, the tensor infos (name, n_dims, ne[] fastest
// first, ggml type, offset from the data section), zero padding to the alignment, then each
// tensor's bytes padded to the alignment (the last one too, as gguf-py's GGUFWriter does).
//
// The header is known before any data (every tensor's type and shape are decided up front), so
// the file is written front to back in one pass: the caller streams each tensor's bytes in
// order with `append`, in pieces of any size. Everything goes to `PATH.tmp`; `finish` closes
// it and `commit` renames it to PATH, so a failure (or a writer dropped unfinished) leaves no
// partial PATH behind.

/// One tensor a `GGUFWriter` will hold.
public struct GGUFTensorSpec: Sendable, Equatable {
  public let name: String
  public let type: TensorDType
  /// PyTorch order (`[out, in]` for a Linear); the file stores it reversed.
  public let shape: [Int]
  public init(name: String, type: TensorDType, shape: [Int]) {
    self.name = name; self.type = type; self.shape = shape
  }
  /// Bytes of the stored tensor, nil when the row length is not a multiple of the block size.
  public var byteCount: Int? {
    guard let rowBytes = type.rowBytes(shape.last ?? 1) else { return nil }
    let (n, overflow) = rowBytes.multipliedReportingOverflow(by: shape.dropLast().reduce(1, *))
    return overflow ? nil : n
  }
}

/// Writes one GGUF file, tensor data streamed in order; see the comment above.
public final class GGUFWriter {
  public static let version: UInt32 = 3
  /// The final path and the one written meanwhile.
  public let path: String
  public let temporaryPath: String
  public let alignment: Int
  private let tensors: [GGUFTensorSpec]
  private let sizes: [Int]
  private var fd: Int32
  private var buffer: [UInt8] = []
  private static let bufferLimit = 4 << 20
  /// The tensor being written and how many of its bytes have come.
  private var current = 0
  private var written = 0
  private var finished = false
  private var committed = false
  /// Total bytes written to the file so far.
  public private(set) var fileBytes = 0

  /// Creates `path.tmp` and writes the header, metadata and tensor infos.
  /// - Parameters:
  ///   - metadata: key/value pairs in file order (keys must be unique); `general.alignment` is
  ///     added when `alignment` is not GGUF's default 32.
  ///   - tensors: every tensor, in the order their data will be appended.
  /// - Throws: `invalidArgument` for a duplicate key or tensor name, a bad shape, an array whose
  ///   elements differ from its type; `malformedWeights` naming the file when it cannot be written.
  public init(path: String, metadata: [(String, GGUFValue)], tensors: [GGUFTensorSpec],
              alignment: Int = 32) throws(EngineError) {
    guard alignment > 0, alignment & (alignment - 1) == 0, alignment <= 1 << 16 else {
      throw .invalidArgument("GGUF alignment \(alignment) is not a power of two up to 65536")
    }
    self.path = path
    temporaryPath = path + ".tmp"
    self.alignment = alignment
    self.tensors = tensors
    var kv = metadata
    if alignment != 32 { kv.append(("general.alignment", .uint32(UInt32(alignment)))) }
    var header = GGUFEncoder()
    var seen = Set<String>()
    for (key, _) in kv where !seen.insert(key).inserted { throw .invalidArgument("GGUF metadata key '\(key)' given twice") }
    header.u32(0x4655_4747)  // "GGUF" little-endian
    header.u32(Self.version)
    header.u64(UInt64(tensors.count))
    header.u64(UInt64(kv.count))
    for (key, value) in kv {
      header.string(key)
      try header.typedValue(value, key: key)
    }
    var sizes: [Int] = []
    var offset = 0
    var names = Set<String>()
    for t in tensors {
      guard names.insert(t.name).inserted else { throw .invalidArgument("GGUF tensor '\(t.name)' given twice") }
      guard (1...GGUFHeader.maxDims).contains(t.shape.count), t.shape.allSatisfy({ $0 > 0 }) else {
        throw .invalidArgument("GGUF tensor '\(t.name)': shape \(t.shape) must have 1 to \(GGUFHeader.maxDims) positive dims")
      }
      guard let bytes = t.byteCount else {
        throw .invalidArgument("GGUF tensor '\(t.name)': row length \(t.shape.last ?? 0) is not a multiple of the \(t.type) block size \(t.type.blockSize)")
      }
      header.string(t.name)
      header.u32(UInt32(t.shape.count))
      for d in t.shape.reversed() { header.u64(UInt64(d)) }
      header.u32(t.type.ggmlTypeID)
      header.u64(UInt64(offset))
      sizes.append(bytes)
      offset += Self.padded(bytes, alignment)
    }
    header.bytes += [UInt8](repeating: 0, count: Self.padded(header.bytes.count, alignment) - header.bytes.count)
    self.sizes = sizes
    fd = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
      throw .malformedWeights(file: temporaryPath, reason: "cannot create: \(String(cString: strerror(errno)))")
    }
    buffer.reserveCapacity(Self.bufferLimit)
    do { try put(header.bytes) } catch { discard(); throw error }
    skipEmptyTensors()
  }

  deinit { if !finished { discard() } }

  static func padded(_ n: Int, _ alignment: Int) -> Int { (n + alignment - 1) / alignment * alignment }

  /// The tensor whose bytes `append` expects next, nil when all are written.
  public var nextTensor: GGUFTensorSpec? { current < tensors.count ? tensors[current] : nil }

  /// Appends the next bytes of the current tensor (a piece may not run past its end).
  /// - Throws: `invalidArgument` when the bytes overrun the tensor; `malformedWeights` on a write error.
  public func append(_ bytes: UnsafeRawBufferPointer) throws(EngineError) {
    guard !finished, current < tensors.count else {
      throw .invalidArgument("\(path): \(bytes.count) bytes appended after the last tensor")
    }
    guard written + bytes.count <= sizes[current] else {
      throw .invalidArgument("\(path): tensor '\(tensors[current].name)' is \(sizes[current]) bytes, \(written + bytes.count) given")
    }
    try put(bytes)
    written += bytes.count
    if written == sizes[current] {
      try put([UInt8](repeating: 0, count: Self.padded(written, alignment) - written))
      current += 1
      written = 0
      skipEmptyTensors()
    }
  }

  public func append(_ bytes: [UInt8]) throws(EngineError) {
    var failure: EngineError?
    bytes.withUnsafeBytes { raw in
      do throws(EngineError) { try append(raw) } catch { failure = error }
    }
    if let failure { throw failure }
  }

  /// Checks every tensor was written, flushes and closes `PATH.tmp` (still under that name).
  public func finish() throws(EngineError) {
    guard current == tensors.count else {
      throw .invalidArgument("\(path): tensor '\(tensors[current].name)' was not written (\(written) of \(sizes[current]) bytes)")
    }
    try flush()
    if fsync(fd) != 0 || close(fd) != 0 {
      let reason = String(cString: strerror(errno))
      fd = -1
      throw .malformedWeights(file: temporaryPath, reason: "cannot write: \(reason)")
    }
    fd = -1
  }

  /// Renames the finished `PATH.tmp` to PATH; after this the writer no longer removes anything.
  public func commit() throws(EngineError) {
    guard fd < 0, current == tensors.count else { throw .invalidArgument("\(path): commit before finish") }
    guard rename(temporaryPath, path) == 0 else {
      throw .malformedWeights(file: path, reason: "cannot rename \(temporaryPath) into place: \(String(cString: strerror(errno)))")
    }
    finished = true
    committed = true
  }

  /// Undoes the writer whatever its state: removes `PATH.tmp`, or PATH once committed (a pair
  /// whose second file failed to commit takes its first one back).
  public func retract() {
    if committed { unlink(path) } else { discard() }
  }

  /// Closes and removes `PATH.tmp` (what a failed export calls; also done when dropped unfinished).
  public func discard() {
    if fd >= 0 { close(fd); fd = -1 }
    if !finished { unlink(temporaryPath) }
    finished = true
  }

  // MARK: - Output

  private func skipEmptyTensors() {
    while current < tensors.count, sizes[current] == 0 { current += 1 }
  }

  private func put(_ bytes: [UInt8]) throws(EngineError) {
    var failure: EngineError?
    bytes.withUnsafeBytes { raw in
      do throws(EngineError) { try put(raw) } catch { failure = error }
    }
    if let failure { throw failure }
  }

  private func put(_ bytes: UnsafeRawBufferPointer) throws(EngineError) {
    if buffer.count + bytes.count > Self.bufferLimit { try flush() }
    if bytes.count >= Self.bufferLimit {
      try writeAll(bytes)
    } else {
      buffer.append(contentsOf: bytes)
    }
    fileBytes += bytes.count
  }

  private func flush() throws(EngineError) {
    guard !buffer.isEmpty else { return }
    var failure: EngineError?
    buffer.withUnsafeBytes { raw in
      do throws(EngineError) { try writeAll(raw) } catch { failure = error }
    }
    buffer.removeAll(keepingCapacity: true)
    if let failure { throw failure }
  }

  private func writeAll(_ bytes: UnsafeRawBufferPointer) throws(EngineError) {
    guard var p = bytes.baseAddress else { return }
    var left = bytes.count
    while left > 0 {
      let n = write(fd, p, left)
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else {
        throw .malformedWeights(file: temporaryPath, reason: "cannot write: \(String(cString: strerror(errno)))")
      }
      p += n
      left -= n
    }
  }
}
