import Foundation

// MARK: - Streaming one tensor's data into a GGUFWriter
//
// A tensor is read from its mapped source file a chunk of whole rows at a time (about a million
// values), converted to float32, quantized on several threads (rows are independent) and
// appended; memory stays at one chunk whatever the tensor's size. The converter's two shape
// transforms are read in place: a part of the rows (Qwen2-VL's fused qkv split in three) is a
// contiguous range of the source; a Conv3d frame `W[:, :, t]` of a (O, C, T, P, P) weight is,
// for each (o, c), the P x P plane at ((o * C + c) * T + t) * P * P.

/// Where an exported tensor's values lie in its source tensor.
struct GGUFExportSource: Sendable {
  enum Layout: Sendable, Equatable {
    /// Output element e is source element `offset + e`.
    case contiguous(offset: Int)
    /// Output element e of plane p = e / plane is source element (p * frames + frame) * plane + e % plane.
    case frame(Int, frames: Int, plane: Int)
  }
  /// The source tensor's name in its file, its stored type and the layout.
  let name: String
  let dtype: TensorDType
  let layout: Layout
  /// Copy the stored bytes as they are (same type, contiguous): llama-quantize's treatment of
  /// tensors it does not quantize.
  var copyBytes = false
}

/// The first error thrown on any thread of a parallel loop.
private final class FirstError: @unchecked Sendable {
  private let lock = NSLock()
  private var stored: EngineError?
  func set(_ e: EngineError) { lock.lock(); if stored == nil { stored = e }; lock.unlock() }
  var error: EngineError? { lock.lock(); defer { lock.unlock() }; return stored }
}

enum GGUFExportStream {
  /// Values per chunk (rounded to whole rows, or whole frame planes).
  static let chunkValues = 1 << 20

  /// Appends the data of `spec` (the writer's next tensor) read from `raw`, the source tensor's
  /// stored bytes; `progress` gets the number of values done after each chunk.
  static func write(_ spec: GGUFTensorSpec, from source: GGUFExportSource, raw: UnsafeRawBufferPointer,
                    to writer: GGUFWriter, threads: Int, progress: (Int) -> Void) throws(EngineError) {
    guard let base = raw.baseAddress else { return }
    let count = spec.shape.reduce(1, *), columns = spec.shape.last ?? 1
    if source.copyBytes {
      guard case let .contiguous(offset) = source.layout, offset == 0, spec.type == source.dtype, spec.byteCount == raw.count else {
        throw .invalidArgument("tensor '\(spec.name)': cannot copy \(source.dtype) bytes of '\(source.name)' as \(spec.type)")
      }
      var done = 0
      while done < raw.count {
        let n = min(raw.count - done, 16 << 20)
        try writer.append(UnsafeRawBufferPointer(start: base + done, count: n))
        done += n
        progress(Int(Double(count) * Double(done) / Double(raw.count)))
      }
      return
    }
    guard let rowBytes = spec.type.rowBytes(columns) else {
      throw .invalidArgument("tensor '\(spec.name)': row length \(columns) does not divide into \(spec.type) blocks")
    }
    var unit = columns
    if case let .frame(_, _, plane) = source.layout { unit = plane }
    guard unit % columns == 0 || columns % unit == 0 else {
      throw .invalidArgument("tensor '\(spec.name)': frame plane \(unit) and row length \(columns) do not nest")
    }
    unit = max(unit, columns)
    let chunk = max(1, chunkValues / unit) * unit
    let capacity = min(chunk, count)
    let floats = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
    let bytes = UnsafeMutableRawPointer.allocate(byteCount: max(1, capacity / columns * rowBytes), alignment: 64)
    defer { floats.deallocate(); bytes.deallocate() }
    var start = 0
    while start < count {
      let n = min(chunk, count - start), rows = n / columns
      try fill(floats, source: source, base: base, byteCount: raw.count, range: start..<(start + n), tensor: spec.name)
      if let bad = (0..<n).first(where: { !floats[$0].isFinite }) {
        let e = start + bad
        throw .invalidArgument("tensor '\(spec.name)' (from '\(source.name)'): value \(floats[bad]) at element \(e) (row \(e / columns), column \(e % columns)) is not finite; a weight with NaN or infinity cannot be quantized")
      }
      let failure = FirstError()
      Parallel.ranges(rows, threads: threads, minimumPerRange: max(1, 4096 / columns)) { r in
        do throws(EngineError) {
          try Quantizer.quantize(spec.type, UnsafeBufferPointer(start: floats + r.lowerBound * columns, count: r.count * columns),
                                 into: UnsafeMutableRawBufferPointer(start: bytes + r.lowerBound * rowBytes, count: r.count * rowBytes),
                                 tensor: spec.name)
        } catch { failure.set(error) }
      }
      if let e = failure.error { throw e }
      try writer.append(UnsafeRawBufferPointer(start: bytes, count: rows * rowBytes))
      start += n
      progress(start)
    }
  }

  /// Source values of output elements `range` as float32 into `dst`.
  private static func fill(_ dst: UnsafeMutablePointer<Float>, source: GGUFExportSource, base: UnsafeRawPointer, byteCount: Int,
                           range: Range<Int>, tensor: String) throws(EngineError) {
    let t = source.dtype
    func convert(_ element: Int, _ count: Int, _ out: UnsafeMutablePointer<Float>) throws(EngineError) {
      guard element % t.blockSize == 0, count % t.blockSize == 0,
            (element + count) / t.blockSize * t.blockBytes <= byteCount else {
        throw .invalidArgument("tensor '\(tensor)': values \(element)..<\(element + count) of '\(source.name)' lie outside its \(byteCount) \(t) bytes")
      }
      dequantize(t, from: base + element / t.blockSize * t.blockBytes, count: count, into: out)
    }
    switch source.layout {
    case let .contiguous(offset):
      try convert(offset + range.lowerBound, range.count, dst)
    case let .frame(frame, frames, plane):
      var e = range.lowerBound
      while e < range.upperBound {
        try convert((e / plane * frames + frame) * plane, plane, dst + (e - range.lowerBound))
        e += plane
      }
    }
  }
}
