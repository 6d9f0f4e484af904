#if arch(x86_64)
// MARK: - C = A B^T in float32 with 512-bit fused multiply-adds
//
// The product every Linear layer takes over a batch of rows: A (m, k) the activations, B (n, k) the
// weight as stored (out, in). Blocked as BLIS and OpenBLAS block it: kc values of k at a time, B
// copied in panels of 32 columns laid out along k (kc x 32: a step of k is two aligned 512-bit
// loads) and A in slivers of 12 rows laid out along k (kc x 12). The register tile is 12 rows by
// 32 columns: 24 accumulators of 16 lanes, each step of k two loads of B, 12 broadcasts of A and 24
// FMAs, so the two 512-bit FMA units are the bound. Rows and columns past the edges are zeros in
// the copies and are not stored.

private typealias V = SIMD16<Float>

private let mr = 12, nr = 32
private let kc = 256   // k per block: a B panel (32 KB) stays in L1 while A's slivers pass
private let mc = 96    // A rows per pass over a B block: 96 KB of slivers, in L2
private let nc = 512   // B columns per block: 512 KB of panels, in L2

extension AVX512 {
  /// C (m, n) = A (m, k) B^T + (accumulate ? C : 0), B stored (n, k); leading dimensions lda, ldb
  /// (in floats, at least k) and ldc (at least n). Single-threaded: callers split n.
  @inline(never)
  public static func gemmTransposedB(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                                     b: UnsafePointer<Float>, ldb: Int, accumulate: Bool,
                                     c: UnsafeMutablePointer<Float>, ldc: Int) {
    guard m > 0, n > 0 else { return }
    if k <= 0 {
      if !accumulate { for r in 0..<m { (c + r * ldc).update(repeating: 0, count: n) } }
      return
    }
    // A is copied once per block of k (all m rows: every B panel reuses it), B once per block
    // of nc columns; so each operand is copied once per product.
    let aRows = (m + mr - 1) / mr * mr, bFloats = nc * kc, aFloats = aRows * kc
    let raw = UnsafeMutableRawPointer.allocate(byteCount: (bFloats + aFloats) * 4, alignment: 64)
    defer { raw.deallocate() }
    let bp = raw.bindMemory(to: Float.self, capacity: bFloats + aFloats), ap = bp + bFloats
    var p0 = 0
    while p0 < k {
      let depth = min(kc, k - p0), add = accumulate || p0 > 0
      packA(a + p0, lda: lda, rows: m, depth: depth, into: ap)
      var j0 = 0
      while j0 < n {
        let cols = min(nc, n - j0)
        packB(b + j0 * ldb + p0, ldb: ldb, cols: cols, depth: depth, into: bp)
        var i0 = 0
        while i0 < m {  // mc rows of A (in L2) against the block's panels
          let rows = min(mc, m - i0)
          var jr = 0
          while jr < cols {
            var ir = 0
            while ir < rows {
              micro(depth, ap + (i0 + ir) * depth, bp + jr * depth, c + (i0 + ir) * ldc + j0 + jr, ldc: ldc,
                    rows: min(mr, rows - ir), cols: min(nr, cols - jr), add: add)
              ir += mr
            }
            jr += nr
          }
          i0 += rows
        }
        j0 += cols
      }
      p0 += depth
    }
  }
}

/// B's `cols` rows (from b, stride ldb), `depth` values each, as panels of 32 laid out along k:
/// panel p holds dst[p * 32 * depth + t * 32 + j] = B[32p + j][t], zero past `cols`.
@inline(__always)
private func packB(_ b: UnsafePointer<Float>, ldb: Int, cols: Int, depth: Int, into dst: UnsafeMutablePointer<Float>) {
  var j0 = 0
  while j0 < cols {
    let panel = dst + j0 * depth, width = min(nr, cols - j0)
    for j in 0..<nr {
      if j < width {
        let row = b + (j0 + j) * ldb
        for t in 0..<depth { panel[t &* nr &+ j] = row[t] }
      } else {
        for t in 0..<depth { panel[t &* nr &+ j] = 0 }
      }
    }
    j0 += nr
  }
}

/// A's `rows` rows (stride lda), `depth` values each, as slivers of 12 laid out along k:
/// dst[s * 12 * depth + t * 12 + i] = A[12s + i][t], zero past `rows`.
@inline(__always)
private func packA(_ a: UnsafePointer<Float>, lda: Int, rows: Int, depth: Int, into dst: UnsafeMutablePointer<Float>) {
  var i0 = 0
  while i0 < rows {
    let sliver = dst + i0 * depth, height = min(mr, rows - i0)
    for i in 0..<mr {
      if i < height {
        let row = a + (i0 + i) * lda
        for t in 0..<depth { sliver[t &* mr &+ i] = row[t] }
      } else {
        for t in 0..<depth { sliver[t &* mr &+ i] = 0 }
      }
    }
    i0 += mr
  }
}

/// C[0..<rows, 0..<cols] (stride ldc) = (add ? C : 0) + sliver (depth x 12) x panel (depth x 32).
@inline(__always)
private func micro(_ depth: Int, _ ap: UnsafePointer<Float>, _ bp: UnsafePointer<Float>,
                   _ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, add: Bool) {
  var c0 = V(), d0 = V(), c1 = V(), d1 = V(), c2 = V(), d2 = V(), c3 = V(), d3 = V()
  var c4 = V(), d4 = V(), c5 = V(), d5 = V(), c6 = V(), d6 = V(), c7 = V(), d7 = V()
  var c8 = V(), d8 = V(), c9 = V(), d9 = V(), c10 = V(), d10 = V(), c11 = V(), d11 = V()
  var pa = ap, pb = bp
  for _ in 0..<depth {
    let lo = UnsafeRawPointer(pb).load(as: V.self), hi = UnsafeRawPointer(pb + 16).load(as: V.self)
    var x = V(repeating: pa[0]); c0.addProduct(x, lo); d0.addProduct(x, hi)
    x = V(repeating: pa[1]); c1.addProduct(x, lo); d1.addProduct(x, hi)
    x = V(repeating: pa[2]); c2.addProduct(x, lo); d2.addProduct(x, hi)
    x = V(repeating: pa[3]); c3.addProduct(x, lo); d3.addProduct(x, hi)
    x = V(repeating: pa[4]); c4.addProduct(x, lo); d4.addProduct(x, hi)
    x = V(repeating: pa[5]); c5.addProduct(x, lo); d5.addProduct(x, hi)
    x = V(repeating: pa[6]); c6.addProduct(x, lo); d6.addProduct(x, hi)
    x = V(repeating: pa[7]); c7.addProduct(x, lo); d7.addProduct(x, hi)
    x = V(repeating: pa[8]); c8.addProduct(x, lo); d8.addProduct(x, hi)
    x = V(repeating: pa[9]); c9.addProduct(x, lo); d9.addProduct(x, hi)
    x = V(repeating: pa[10]); c10.addProduct(x, lo); d10.addProduct(x, hi)
    x = V(repeating: pa[11]); c11.addProduct(x, lo); d11.addProduct(x, hi)
    pa += mr
    pb += nr
  }
  @inline(__always) func store(_ r: Int, _ lo: V, _ hi: V) {
    guard r < rows else { return }
    let out = c + r * ldc
    if cols == nr {
      var l = lo, h = hi
      if add {
        l += UnsafeRawPointer(out).loadUnaligned(as: V.self)
        h += UnsafeRawPointer(out + 16).loadUnaligned(as: V.self)
      }
      UnsafeMutableRawPointer(out).storeBytes(of: l, as: V.self)
      UnsafeMutableRawPointer(out + 16).storeBytes(of: h, as: V.self)
    } else {
      for j in 0..<cols {
        let v = j < 16 ? lo[j] : hi[j - 16]
        out[j] = add ? out[j] + v : v
      }
    }
  }
  store(0, c0, d0); store(1, c1, d1); store(2, c2, d2); store(3, c3, d3)
  store(4, c4, d4); store(5, c5, d5); store(6, c6, d6); store(7, c7, d7)
  store(8, c8, d8); store(9, c9, d9); store(10, c10, d10); store(11, c11, d11)
}
#endif
