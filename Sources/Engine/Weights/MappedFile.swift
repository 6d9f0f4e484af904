import Foundation
#if canImport(Glibc)
import Glibc
#endif

// MARK: - Memory-mapped file

/// A whole file's bytes in memory: read into memory of its own when it is at most
/// `copyLimit` bytes, else mapped read-only; released when the object goes away.
///
/// A mapped file that another process truncates in place (`cp` over it, a download writing
/// into it) would raise SIGBUS at the next read of a page that is gone. Files up to `copyLimit`
/// (every embedded and test model) are therefore copied and immune; for larger ones the
/// descriptor stays open and `changedOnDisk()` compares the file with what was mapped, which
/// the models call before each image and prompt. A file replaced by rename never harms the
/// mapping: it keeps the old file's bytes.
///
/// `@unchecked Sendable`: the bytes are never written after `init` and every stored property is
/// a `let`, so the object is immutable and its bytes can be read from any thread.
final class MappedFile: @unchecked Sendable {
  /// Files up to this size are read into memory instead of mapped (64 MiB).
  static let copyLimit = 512 << 20

  /// The path as given, for error messages.
  let path: String
  /// The mapped bytes (count == file size). Valid for the object's lifetime.
  let bytes: UnsafeRawBufferPointer
  /// Start of the mapping (`bytes.baseAddress`, never nil: empty files are rejected).
  let base: UnsafeRawPointer
  /// Whether `bytes` is a mapping of the file (else a copy of it).
  let isMapped: Bool
  /// The open file of a mapping (-1 for a copy), and its size and modification time at load.
  private let fd: Int32
  private let loadedMTime: timespec

  init(path: String, copyLimit: Int = MappedFile.copyLimit) throws(EngineError) {
    self.path = path
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      throw .malformedWeights(file: path, reason: "cannot open: \(String(cString: strerror(errno)))")
    }
    var keepOpen = false
    defer { if !keepOpen { close(fd) } }
    var st = stat()
    guard fstat(fd, &st) == 0 else {
      throw .malformedWeights(file: path, reason: "cannot stat: \(String(cString: strerror(errno)))")
    }
    guard (st.st_mode & S_IFMT) == S_IFREG else {
      throw .malformedWeights(file: path, reason: "not a regular file")
    }
    let size = Int(st.st_size)
    guard size > 0 else {
      throw .malformedWeights(file: path, reason: "file is empty")
    }
    loadedMTime = st.st_mtim
    if size <= copyLimit {
      let copy = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
      var done = 0
      while done < size {
        let n = pread(fd, copy + done, size - done, off_t(done))
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else {
          copy.deallocate()
          let why = n == 0 ? "the file ended after \(done) of its \(size) bytes (truncated while reading)"
            : "cannot read: \(String(cString: strerror(errno)))"
          throw .malformedWeights(file: path, reason: why)
        }
        done += n
      }
      base = UnsafeRawPointer(copy)
      isMapped = false
      self.fd = -1
    } else {
      guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
        throw .malformedWeights(file: path, reason: "cannot mmap \(size) bytes: \(String(cString: strerror(errno)))")
      }
      base = UnsafeRawPointer(mapped)
      isMapped = true
      self.fd = fd
      keepOpen = true
    }
    bytes = UnsafeRawBufferPointer(start: base, count: size)
  }

  deinit {
    if isMapped {
      munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
      close(fd)
    } else {
      UnsafeMutableRawPointer(mutating: base).deallocate()
    }
  }

  /// For a mapping: what changed in the file since it was mapped (its size, or its contents by
  /// the modification time), nil when nothing did. A copy never changes: nil.
  func changedOnDisk() -> String? {
    guard isMapped else { return nil }
    var st = stat()
    guard fstat(fd, &st) == 0 else { return "cannot stat it: \(String(cString: strerror(errno)))" }
    if Int(st.st_size) != bytes.count {
      return "its size changed from \(bytes.count) to \(st.st_size) bytes since it was loaded"
    }
    if st.st_mtim.tv_sec != loadedMTime.tv_sec || st.st_mtim.tv_nsec != loadedMTime.tv_nsec {
      return "it was written to since it was loaded"
    }
    return nil
  }

  /// The SHA-256 of the bytes in use, as lowercase hex.
  func sha256() -> String {
    withExtendedLifetime(self) { SHA256.hex(bytes) }
  }

  var count: Int { bytes.count }

  /// Lends the bytes in `range` (checked by the caller's header validation) to `body`, keeping
  /// the mapping alive meanwhile.
  func withBytes<R>(_ range: Range<Int>, _ body: (UnsafeRawBufferPointer) throws(EngineError) -> R) throws(EngineError) -> R {
    try withExtendedLifetime(self) { () throws(EngineError) -> R in
      try body(UnsafeRawBufferPointer(rebasing: bytes[range]))
    }
  }

  /// Reads a little-endian integer at `offset`; the caller has checked the bounds.
  @inline(__always)
  func load<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
    T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
  }
}
