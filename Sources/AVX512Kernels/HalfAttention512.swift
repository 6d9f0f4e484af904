#if arch(x86_64)
import Builtin

// MARK: - Decode attention over a binary16 KV cache
//
// A decode step's attention reads every cached key and value row of a head once for each query
// head of its group. These kernels take up to 4 query heads of one group together, so each row
// is loaded and widened (`vcvtph2ps`, 16 values) once and multiplied into all of them, and they
// compute straight from the cache's memory, so the loads overlap the arithmetic.
// - Scores: 4 keys x 4 queries in 16 accumulators; their 16 sums come out of one reduction tree
//   into the lanes of one register.
// - Weighted values: 64 columns x 4 queries in 16 accumulators over all rows.

extension AVX512 {
  /// scores[g * lds + j] = scale * sum_c q[g * ldq + c] * keys[j * hd + c] for g < queries,
  /// j < count. Keys are binary16 rows, contiguous; hd a multiple of 16; queries 1 ... 4.
  @inline(never)
  public static func halfScores(
    q: UnsafePointer<Float>, ldq: Int, queries: Int, keys: UnsafePointer<UInt16>, count: Int, headDim hd: Int,
    scale: Float, scores: UnsafeMutablePointer<Float>, lds: Int
  ) {
    // Missing queries read the last one again; their sums are not stored.
    let q0 = q, q1 = q + min(1, queries - 1) * ldq, q2 = q + min(2, queries - 1) * ldq, q3 = q + min(3, queries - 1) * ldq
    let index = HalfLanes.pairIndex
    var j = 0
    while j < count {
      // Missing keys (the last group of 4) read the last key again.
      let k0 = keys + j * hd, k1 = keys + min(j + 1, count - 1) * hd
      let k2 = keys + min(j + 2, count - 1) * hd, k3 = keys + min(j + 3, count - 1) * hd
      var a00 = HalfLanes.Floats(), a01 = HalfLanes.Floats(), a02 = HalfLanes.Floats(), a03 = HalfLanes.Floats()
      var a10 = HalfLanes.Floats(), a11 = HalfLanes.Floats(), a12 = HalfLanes.Floats(), a13 = HalfLanes.Floats()
      var a20 = HalfLanes.Floats(), a21 = HalfLanes.Floats(), a22 = HalfLanes.Floats(), a23 = HalfLanes.Floats()
      var a30 = HalfLanes.Floats(), a31 = HalfLanes.Floats(), a32 = HalfLanes.Floats(), a33 = HalfLanes.Floats()
      prefetchAhead(k0, lines: hd / 8, distance: cachePrefetchDistance)  // 4 rows of 2 hd bytes
      var c = 0
      while c < hd {
        let x0 = HalfLanes.load(k0 + c), x1 = HalfLanes.load(k1 + c)
        let x2 = HalfLanes.load(k2 + c), x3 = HalfLanes.load(k3 + c)
        var v = HalfLanes.floats(q0 + c)
        a00.addProduct(x0, v); a01.addProduct(x1, v); a02.addProduct(x2, v); a03.addProduct(x3, v)
        v = HalfLanes.floats(q1 + c)
        a10.addProduct(x0, v); a11.addProduct(x1, v); a12.addProduct(x2, v); a13.addProduct(x3, v)
        v = HalfLanes.floats(q2 + c)
        a20.addProduct(x0, v); a21.addProduct(x1, v); a22.addProduct(x2, v); a23.addProduct(x3, v)
        v = HalfLanes.floats(q3 + c)
        a30.addProduct(x0, v); a31.addProduct(x1, v); a32.addProduct(x2, v); a33.addProduct(x3, v)
        c += 16
      }
      // Lane 4g + r of the sums: query g, key j + r.
      let sums = scale * HalfLanes.reduce16(a00, a01, a02, a03, a10, a11, a12, a13,
                                            a20, a21, a22, a23, a30, a31, a32, a33, index)
      let keysHere = min(4, count - j)
      let lanes = (sums.lowHalf.lowHalf, sums.lowHalf.highHalf, sums.highHalf.lowHalf, sums.highHalf.highHalf)
      @inline(__always) func put(_ g: Int, _ v: SIMD4<Float>) {
        guard g < queries else { return }
        let s = scores + g * lds + j
        if keysHere == 4 {
          UnsafeMutableRawPointer(s).storeBytes(of: v, as: SIMD4<Float>.self)
        } else {
          for r in 0..<keysHere { s[r] = v[r] }
        }
      }
      put(0, lanes.0); put(1, lanes.1); put(2, lanes.2); put(3, lanes.3)
      j += 4
    }
  }

  /// out[g * ldo + c] = sum_j p[g * ldp + j] * values[j * hd + c] for g < queries, c < hd.
  /// Values are binary16 rows, contiguous; hd a multiple of 16; queries 1 ... 4.
  @inline(never)
  public static func halfWeightedRows(
    p: UnsafePointer<Float>, ldp: Int, queries: Int, values: UnsafePointer<UInt16>, count: Int, headDim hd: Int,
    out: UnsafeMutablePointer<Float>, ldo: Int
  ) {
    // Missing queries read the last one's probabilities again; their sums are not stored.
    let p0 = p, p1 = p + min(1, queries - 1) * ldp, p2 = p + min(2, queries - 1) * ldp, p3 = p + min(3, queries - 1) * ldp
    var c = 0
    while c < hd {
      // Up to 64 columns per pass over the rows.
      let width = min(64, hd - c)
      var a00 = HalfLanes.Floats(), a01 = HalfLanes.Floats(), a02 = HalfLanes.Floats(), a03 = HalfLanes.Floats()
      var a10 = HalfLanes.Floats(), a11 = HalfLanes.Floats(), a12 = HalfLanes.Floats(), a13 = HalfLanes.Floats()
      var a20 = HalfLanes.Floats(), a21 = HalfLanes.Floats(), a22 = HalfLanes.Floats(), a23 = HalfLanes.Floats()
      var a30 = HalfLanes.Floats(), a31 = HalfLanes.Floats(), a32 = HalfLanes.Floats(), a33 = HalfLanes.Floats()
      if width == 64 {
        for j in 0..<count {
          let row = values + j * hd + c
          prefetchAhead(row, lines: 2, distance: cachePrefetchDistance)
          let x0 = HalfLanes.load(row), x1 = HalfLanes.load(row + 16)
          let x2 = HalfLanes.load(row + 32), x3 = HalfLanes.load(row + 48)
          var w = HalfLanes.Floats(repeating: p0[j])
          a00.addProduct(x0, w); a01.addProduct(x1, w); a02.addProduct(x2, w); a03.addProduct(x3, w)
          w = HalfLanes.Floats(repeating: p1[j])
          a10.addProduct(x0, w); a11.addProduct(x1, w); a12.addProduct(x2, w); a13.addProduct(x3, w)
          w = HalfLanes.Floats(repeating: p2[j])
          a20.addProduct(x0, w); a21.addProduct(x1, w); a22.addProduct(x2, w); a23.addProduct(x3, w)
          w = HalfLanes.Floats(repeating: p3[j])
          a30.addProduct(x0, w); a31.addProduct(x1, w); a32.addProduct(x2, w); a33.addProduct(x3, w)
        }
      } else {  // 16, 32 or 48 columns: 16 at a time, the first accumulator of each query
        for j in 0..<count {
          let row = values + j * hd + c
          let w0 = HalfLanes.Floats(repeating: p0[j]), w1 = HalfLanes.Floats(repeating: p1[j])
          let w2 = HalfLanes.Floats(repeating: p2[j]), w3 = HalfLanes.Floats(repeating: p3[j])
          let x0 = HalfLanes.load(row)
          a00.addProduct(x0, w0); a10.addProduct(x0, w1); a20.addProduct(x0, w2); a30.addProduct(x0, w3)
          if width > 16 {
            let x1 = HalfLanes.load(row + 16)
            a01.addProduct(x1, w0); a11.addProduct(x1, w1); a21.addProduct(x1, w2); a31.addProduct(x1, w3)
          }
          if width > 32 {
            let x2 = HalfLanes.load(row + 32)
            a02.addProduct(x2, w0); a12.addProduct(x2, w1); a22.addProduct(x2, w2); a32.addProduct(x2, w3)
          }
        }
      }
      @inline(__always) func put(_ g: Int, _ b0: HalfLanes.Floats, _ b1: HalfLanes.Floats,
                                 _ b2: HalfLanes.Floats, _ b3: HalfLanes.Floats) {
        guard g < queries else { return }
        let o = out + g * ldo + c
        @inline(__always) func one(_ v: HalfLanes.Floats, _ k: Int) {
          guard 16 * k < width else { return }
          HalfLanes.store(v, o + 16 * k)
        }
        one(b0, 0); one(b1, 1); one(b2, 2); one(b3, 3)
      }
      put(0, a00, a01, a02, a03); put(1, a10, a11, a12, a13); put(2, a20, a21, a22, a23); put(3, a30, a31, a32, a33)
      c += width
    }
  }
}

/// 16-lane float vectors (one zmm) and binary16 loads.
enum HalfLanes {
  typealias Floats = SIMD16<Float>

  /// 16 binary16 values at p, widened (`vcvtph2ps` zmm).
  @inline(__always)
  static func load(_ p: UnsafePointer<UInt16>) -> Floats {
    let h = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float16>.self)
    var r = Floats()
    r._storage._value = Builtin.fpext_Vec16xFPIEEE16_Vec16xFPIEEE32(h._storage._value)
    return r
  }

  @inline(__always)
  static func floats(_ p: UnsafePointer<Float>) -> Floats { UnsafeRawPointer(p).loadUnaligned(as: Floats.self) }

  @inline(__always)
  static func store(_ v: Floats, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Floats.self)
  }

  /// Two-source permute indices (`vpermt2ps`: i < 16 names u's lane i, 16 + i v's lane i) that
  /// gather the even lanes, then the odd lanes, of u then v.
  typealias PairIndex = (SIMD16<Int32>, SIMD16<Int32>)

  /// `PairIndex`'s values, read from memory at run time. As constants, LLVM merges the four
  /// levels of permutes into one shuffle and lowers it to 128-bit lane moves: several times the
  /// instructions of 30 permutes.
  nonisolated(unsafe) static var pairIndex: PairIndex = (
    SIMD16<Int32>(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30),
    SIMD16<Int32>(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31))

  /// Adjacent lanes of u then of v summed: (u0+u1, ..., u14+u15, v0+v1, ..., v14+v15).
  @inline(__always)
  static func pair(_ u: Floats, _ v: Floats, _ index: PairIndex) -> Floats {
    let (even, odd) = index
    var e = Floats(), o = Floats()
    e._storage._value = Builtin.int_x86_avx512_vpermi2var_ps_512(u._storage._value, even._storage._value, v._storage._value)
    o._storage._value = Builtin.int_x86_avx512_vpermi2var_ps_512(u._storage._value, odd._storage._value, v._storage._value)
    return e + o
  }

  /// The lane sums of 16 vectors, in their order, as the 16 lanes of one: four levels of `pair`,
  /// each halving the lanes per vector.
  @inline(__always)
  static func reduce16(_ a: Floats, _ b: Floats, _ c: Floats, _ d: Floats, _ e: Floats, _ f: Floats,
                       _ g: Floats, _ h: Floats, _ i: Floats, _ j: Floats, _ k: Floats, _ l: Floats,
                       _ m: Floats, _ n: Floats, _ o: Floats, _ p: Floats, _ x: PairIndex) -> Floats {
    let l1 = (pair(a, b, x), pair(c, d, x), pair(e, f, x), pair(g, h, x),
              pair(i, j, x), pair(k, l, x), pair(m, n, x), pair(o, p, x))
    let l2 = (pair(l1.0, l1.1, x), pair(l1.2, l1.3, x), pair(l1.4, l1.5, x), pair(l1.6, l1.7, x))
    return pair(pair(l2.0, l2.1, x), pair(l2.2, l2.3, x), x)
  }
}
#endif
