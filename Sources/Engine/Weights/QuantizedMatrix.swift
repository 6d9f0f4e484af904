import Dispatch
import Foundation

// Matrix-vector products with the weight kept in its stored GGML type (`quantizedRowDot` per row),
// so a Q4 weight stays ~4.5 bits per element in memory. Reference for the values: `dequantize`
// followed by a float dot.

// MARK: - Storage

/// Bytes owned by a matrix built from an array (a mapped file owns its own bytes).
/// `@unchecked Sendable`: written once in `init`, read-only afterwards.
private final class OwnedBytes: @unchecked Sendable {
  let pointer: UnsafeMutableRawPointer
  init(_ bytes: [UInt8]) {
    pointer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
    bytes.withUnsafeBytes { src in
      if let s = src.baseAddress { pointer.copyMemory(from: s, byteCount: src.count) }
    }
  }
  deinit { pointer.deallocate() }
}

// MARK: - Matrix

/// A row-major matrix `W (rows, columns)` stored in GGML blocks (or f32/f16/bf16).
///
/// `@unchecked Sendable`: `base` points into storage kept alive and never written by `owner`.
public struct QuantizedMatrix: @unchecked Sendable {
  public let type: TensorDType
  public let rows: Int
  public let columns: Int
  /// Bytes per row (`columns / blockSize * blockBytes`).
  public let rowBytes: Int
  private let owner: AnyObject
  private let base: UnsafeRawPointer

  init(mapped: MappedFile, range: Range<Int>, type: TensorDType, rows: Int, columns: Int) {
    self.type = type; self.rows = rows; self.columns = columns
    rowBytes = type.rowBytes(columns) ?? 0  // the GGUF header checked divisibility
    owner = mapped
    base = mapped.base + range.lowerBound
  }

  /// A matrix from stored bytes (`rows * rowBytes` of them), copied.
  /// - Throws: `invalidArgument` when `columns` is not a multiple of the block size or the byte
  ///   count does not match.
  public init(type: TensorDType, rows: Int, columns: Int, bytes: [UInt8]) throws(EngineError) {
    guard rows >= 0, let rb = type.rowBytes(columns) else {
      throw .invalidArgument("QuantizedMatrix: \(columns) columns is not a multiple of the \(type) block size \(type.blockSize)")
    }
    guard bytes.count == rows * rb else {
      throw .invalidArgument("QuantizedMatrix: \(bytes.count) bytes given, \(rows) rows of \(type) x \(columns) need \(rows * rb)")
    }
    self.type = type; self.rows = rows; self.columns = columns
    rowBytes = rb
    let storage = OwnedBytes(bytes)
    owner = storage
    base = UnsafeRawPointer(storage.pointer)
  }

  /// An f32 matrix from `rows * columns` floats, copied.
  /// - Throws: `invalidArgument` when the count does not match.
  public init(floats: [Float], rows: Int, columns: Int) throws(EngineError) {
    guard rows >= 0, columns >= 0, floats.count == rows * columns else {
      throw .invalidArgument("QuantizedMatrix: \(floats.count) floats given for (\(rows), \(columns))")
    }
    try self.init(type: .f32, rows: rows, columns: columns, bytes: floats.withUnsafeBytes { [UInt8]($0) })
  }

  /// The stored bytes of row `r`.
  @inline(__always)
  func rowPointer(_ r: Int) -> UnsafeRawPointer { base + r * rowBytes }

  /// The whole matrix as float32, row-major (rows, columns).
  public func dequantized() -> [Float] {
    let n = rows * columns
    return withExtendedLifetime(owner) {
      [Float](unsafeUninitializedCapacity: n) { buf, count in
        if let dst = buf.baseAddress { dequantize(type, from: base, count: n, into: dst) }
        count = n
      }
    }
  }

  /// `W[r, :] · x`, with `x.count == columns`.
  /// - Throws: `invalidArgument` for a row outside `0..<rows` or a mismatched `x`.
  public func dot(row r: Int, _ x: UnsafeBufferPointer<Float>) throws(EngineError) -> Float {
    guard r >= 0, r < rows else { throw .invalidArgument("QuantizedMatrix.dot: row \(r) is outside 0..<\(rows)") }
    guard let xp = x.baseAddress, x.count == columns else {
      throw .invalidArgument("QuantizedMatrix.dot: x has \(x.count) elements, W has \(columns) columns")
    }
    return withExtendedLifetime(owner) { quantizedRowDot(type, rowPointer(r), xp, count: columns) }
  }

  /// `y = W x`: W (rows, columns) @ x (columns,) -> y (rows,); rows are split across threads.
  /// - Throws: `invalidArgument` when `x.count != columns`.
  public func multiply(_ x: [Float]) throws(EngineError) -> [Float] {
    var y = [Float](repeating: 0, count: rows)
    try x.withUnsafeBufferPointer { (xb) throws(EngineError) in
      try y.withUnsafeMutableBufferPointer { (yb) throws(EngineError) in try multiply(xb, into: yb) }
    }
    return y
  }

  /// `y = W x` into caller storage: x (columns,) -> y (rows,).
  /// - Throws: `invalidArgument` when `x.count != columns` or `y.count != rows`.
  public func multiply(_ x: UnsafeBufferPointer<Float>, into y: UnsafeMutableBufferPointer<Float>) throws(EngineError) {
    guard x.count == columns, y.count == rows else {
      throw .invalidArgument("QuantizedMatrix.multiply: W is (\(rows), \(columns)), x has \(x.count) elements, y \(y.count)")
    }
    guard let xp = x.baseAddress, let yp = y.baseAddress, rows > 0 else { return }
    // Small products are not worth a thread hop; large ones get a few chunks per core.
    let chunks = rows * rowBytes < (1 << 18) ? 1 : min(rows, 4 * ProcessInfo.processInfo.activeProcessorCount)
    let per = (rows + chunks - 1) / chunks
    let io = RowPointers(x: xp, y: yp)
    let run: @Sendable (Int) -> Void = { c in
      let lo = c * per, hi = min(rows, lo + per)
      for r in lo..<max(lo, hi) { io.y[r] = quantizedRowDot(type, rowPointer(r), io.x, count: columns) }
    }
    withExtendedLifetime(owner) {
      if chunks == 1 { run(0) } else { DispatchQueue.concurrentPerform(iterations: chunks, execute: run) }
    }
  }
}

/// x and y of a matrix-vector product, shared by the worker threads.
/// `@unchecked Sendable`: workers only read `x` and each writes a disjoint range of `y`.
private struct RowPointers: @unchecked Sendable {
  let x: UnsafePointer<Float>
  let y: UnsafeMutablePointer<Float>
}
