import Foundation
#if canImport(Glibc)
import Glibc
#endif

// MARK: - Memory-mapped file

/// A whole file mapped read-only into memory; unmapped when the object goes away.
///
/// `@unchecked Sendable`: the mapping is `PROT_READ`, `MAP_PRIVATE` and every stored property is
/// a `let` set in `init`, so the object is immutable and its bytes can be read from any thread.
final class MappedFile: @unchecked Sendable {
  /// The path as given, for error messages.
  let path: String
  /// The mapped bytes (count == file size). Valid for the object's lifetime.
  let bytes: UnsafeRawBufferPointer
  /// Start of the mapping (`bytes.baseAddress`, never nil: empty files are rejected).
  let base: UnsafeRawPointer

  init(path: String) throws(EngineError) {
    self.path = path
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      throw .malformedWeights(file: path, reason: "cannot open: \(String(cString: strerror(errno)))")
    }
    defer { close(fd) }
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
    guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
      throw .malformedWeights(file: path, reason: "cannot mmap \(size) bytes: \(String(cString: strerror(errno)))")
    }
    self.base = UnsafeRawPointer(base)
    bytes = UnsafeRawBufferPointer(start: self.base, count: size)
  }

  deinit {
    munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
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
