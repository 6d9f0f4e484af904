import Foundation
import Testing
@testable import Engine

// MARK: - The binary16 KV cache against float16 conversion and attention in double
//
// The reference for rounding is the standard library's `Float16(Float)` (IEEE round to nearest
// even); attention is evaluated in double over the stored (rounded) keys and values.

@Suite("KV cache in binary16")
struct KVCacheTests {
  @Test("rows round to binary16 as Float16(x) does, saturating at 65504; widening (convertPlainFloats) gives them back")
  func rounding() {
    var values: [Float] = [0, -0, 1, -1, 1e-6, -3e-8, 1e-9, 0.1, 3.14159, 65504, 65519, 65520, -70000, 1e30, .infinity,
                           -.infinity, .nan, 2049, 2051, 1 / 3]
    values += (0..<37).map { Float(sin(Double($0) * 1.7) * 900) }  // a 16-lane body and a tail
    for n in [values.count, 16, 15, 1] {
      var x = Array(values.prefix(n))
      let original = x
      var half = [UInt16](repeating: 0xFFFF, count: n)
      x.withUnsafeMutableBufferPointer { xp in half.withUnsafeMutableBufferPointer { Vec.roundToHalf(xp.baseAddress!, n, into: $0.baseAddress!) } }
      for i in 0..<n {
        let v = original[i]
        let expected = v.isNaN ? v : Float(Float16(min(max(v, -65504), 65504)))
        let stored = Float(Float16(bitPattern: half[i]))
        #expect(stored.isNaN ? expected.isNaN : stored == expected && stored.sign == expected.sign,
                "\(v) stored as \(stored), expected \(expected)")
        #expect(x[i].isNaN ? stored.isNaN : x[i] == stored, "\(v): rounded in place to \(x[i]), stored \(stored)")
      }
      var back = [Float](repeating: 7, count: n)
      half.withUnsafeBufferPointer { hp in
        back.withUnsafeMutableBufferPointer { convertPlainFloats(.f16, from: hp.baseAddress!, count: n, into: $0.baseAddress!) }
      }
      #expect(zip(back, x).allSatisfy { $0.isNaN ? $1.isNaN : $0 == $1 })
    }
  }

  /// Grouped-query shapes: group 3 (SmolLM2), 1, 8 (two sets of 4 query heads), 4; head widths
  /// 16, 48 (a 48-column pass), 64, 80 (64 + 16) and 128 (two passes).
  static let shapes: [(heads: Int, kvHeads: Int, hd: Int)] = [(9, 3, 64), (4, 4, 16), (16, 2, 48), (8, 2, 80), (4, 1, 128)]

  @Test("attention over the binary16 cache equals attention in double over the stored rows: prefill, prefill after rows, decode",
        arguments: [1, 2])
  func attention(threads: Int) throws {
    for shape in Self.shapes {
      try check(shape, threads: threads)
    }
  }

  private func check(_ shape: (heads: Int, kvHeads: Int, hd: Int), threads: Int) throws {
    let (heads, kvHeads, hd) = shape
    let w = kvHeads * hd, capacity = 40
    var cache = KVCache(layerCount: 2, rowWidth: w, capacity: capacity, precision: .f16)
    var rng = SeededGenerator(seed: UInt64(heads * 1000 + hd))
    func random(_ n: Int, _ scale: Double) -> [Float] { (0..<n).map { _ in Float((rng.nextUnit() * 2 - 1) * scale) } }
    var storedK: [Float] = [], storedV: [Float] = []  // layer 1's rows as stored, (L, w)
    // Blocks of 5 and 6 rows (the second after cached rows: the widened path), then 1-row steps
    // at lengths 12 ... 21 (every remainder mod 4 of the score kernel's 4 keys).
    for n in [5, 6] + Array(repeating: 1, count: 10) {
      let start = cache.length
      let q = random(n * heads * hd, 1.5)
      var out: [Float] = []
      for layer in 0..<2 {
        var k = random(n * w, 2), v = random(n * w, 1)
        let k0 = k, v0 = v
        out = cache.appendAndAttend(layer: layer, queries: q, keys: &k, values: &v, rows: n, heads: heads,
                                    kvHeads: kvHeads, headDim: hd, threads: threads)
        #expect(zip(k, k0).allSatisfy { $0 == Float(Float16($1)) } && zip(v, v0).allSatisfy { $0 == Float(Float16($1)) },
                "the new rows were not rounded to what the cache stores")
        if layer == 1 { storedK += k; storedV += v }
      }
      cache.length += n
      let worst = Self.worstError(out, q: q, keys: storedK, values: storedV, rows: n, start: start,
                                  heads: heads, kvHeads: kvHeads, hd: hd)
      #expect(worst < 2e-5, "\(heads)/\(kvHeads) heads, hd \(hd), \(threads) thread(s), rows \(start)..<\(start + n): worst \(worst)")
    }
  }

  @Test("a decode step: the portable (widened) and AVX-512 kernels agree with double on every shape")
  func decodeKernels() throws {
    for (heads, kvHeads, hd) in Self.shapes {
      var rng = SeededGenerator(seed: UInt64(hd))
      for length in [1, 2, 3, 4, 5, 13, 300] {  // 300: more than one 256-row block of the widened kernel
        let headStride = length * hd
        let q = (0..<(heads * hd)).map { _ in Float(rng.nextUnit() * 3 - 1.5) }
        var keys = [Float](repeating: 0, count: length * kvHeads * hd), values = keys  // (L, w) for the reference
        var halfK = [UInt16](repeating: 0, count: kvHeads * headStride), halfV = halfK   // (Hkv, L, hd)
        for j in 0..<length {
          for kvh in 0..<kvHeads {
            for c in 0..<hd {
              let k = Float16(Float(rng.nextUnit() * 4 - 2)), v = Float16(Float(rng.nextUnit() * 2 - 1))
              keys[(j * kvHeads + kvh) * hd + c] = Float(k); values[(j * kvHeads + kvh) * hd + c] = Float(v)
              halfK[kvh * headStride + j * hd + c] = k.bitPattern; halfV[kvh * headStride + j * hd + c] = v.bitPattern
            }
          }
        }
        var kernels: [(String, Attention.HalfDecodeKernel)] = [("widened", Attention.attendOneWidened)]
        #if arch(x86_64)
        if CPUFeatures.avx512 && hd % 16 == 0 { kernels.append(("avx512", Attention.attendOne512)) }
        #endif
        for (name, kernel) in kernels {
          var out = [Float](repeating: .nan, count: heads * hd)
          kernel(q, halfK, halfV, length, headStride, heads, kvHeads, hd, 2, &out)
          let worst = Self.worstError(out, q: q, keys: keys, values: values, rows: 1, start: length - 1,
                                      heads: heads, kvHeads: kvHeads, hd: hd)
          #expect(worst < 2e-5, "\(name): \(heads)/\(kvHeads) heads, hd \(hd), length \(length): worst \(worst)")
        }
      }
    }
    if !CPUFeatures.avx512 { print("decodeKernels: AVX-512 kernel skipped, this CPU lacks AVX-512 (or GUI_AGENT_KERNELS=avx2)") }
  }

  @Test("an f32 cache stores rows exactly; an f16 cache takes half the bytes")
  func precisions() {
    let a = KVCache(layerCount: 3, rowWidth: 8, capacity: 10, precision: .f32)
    let b = KVCache(layerCount: 3, rowWidth: 8, capacity: 10)
    #expect(b.precision == .f16 && a.byteCount == 2 * 3 * 10 * 8 * 4 && b.byteCount * 2 == a.byteCount)
    var c = a
    var k: [Float] = (0..<8).map { Float($0) * 0.1 + 1e-4 }, v = k
    let k0 = k
    _ = c.appendAndAttend(layer: 0, queries: [Float](repeating: 1, count: 8), keys: &k, values: &v, rows: 1,
                          heads: 2, kvHeads: 2, headDim: 4, threads: 1)
    #expect(k == k0 && Array(c.keys[0].prefix(8)) == k0)
  }

  /// Largest |out - reference| of causal attention in double for query rows start ..< start + n
  /// (every `rowStep`-th of them). q (n, Hq * hd), keys and values (start + n, Hkv * hd).
  static func worstError(_ out: [Float], q: [Float], keys: [Float], values: [Float], rows n: Int, start: Int,
                         heads: Int, kvHeads: Int, hd: Int, rowStep: Int = 1) -> Double {
    var worst = 0.0
    let w = kvHeads * hd
    for i in stride(from: 0, to: n, by: rowStep) {
      for h in 0..<heads {
        let kvh = h / (heads / kvHeads), visible = start + i + 1
        var scores = (0..<visible).map { j -> Double in
          var dot = 0.0
          for c in 0..<hd { dot += Double(q[(i * heads + h) * hd + c]) * Double(keys[j * w + kvh * hd + c]) }
          return dot / Double(hd).squareRoot()
        }
        let m = scores.max() ?? 0
        scores = scores.map { Foundation.exp($0 - m) }
        let total = scores.reduce(0, +)
        for c in 0..<hd {
          var ref = 0.0
          for j in 0..<visible { ref += scores[j] / total * Double(values[j * w + kvh * hd + c]) }
          let got = Double(out[(i * heads + h) * hd + c])
          worst = got.isFinite ? max(worst, abs(got - ref)) : .infinity
        }
      }
    }
    return worst
  }
}
