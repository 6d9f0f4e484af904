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
  /// C (m, n) = alpha A (m, k) op(B) + (accumulate ? C : 0): B stored (n, k) and used as B^T
  /// where `transposeB` (a Linear's weight, attention's keys), else stored (k, n) (attention's
  /// values); row-major with leading dimensions lda, ldb and ldc. Single-threaded: callers split n.
  @inline(never)
  public static func gemm(m: Int, n: Int, k: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                          b: UnsafePointer<Float>, ldb: Int, transposeB: Bool = true, accumulate: Bool,
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
    blockedLoops(m: m, n: n, k: k, blocking: Blocking(mr: mr, nr: nr, kc: kc, mc: mc, nc: nc)) { p0, depth in
      pack(a + p0, ld: lda, step: 1, lines: m, width: mr, depth: depth, into: ap)
    } packB: { p0, depth, j0, cols in
      if transposeB {
        pack(b + j0 * ldb + p0, ld: ldb, step: 1, lines: cols, width: nr, depth: depth, into: bp)
      } else {
        pack(b + p0 * ldb + j0, ld: 1, step: ldb, lines: cols, width: nr, depth: depth, into: bp)
      }
    } tile: { p0, depth, i, j0, jr, rows, cols in
      micro(depth, ap + i * depth, bp + jr * depth, c + i * ldc + j0 + jr, ldc: ldc, rows: rows, cols: cols,
            alpha: alpha, add: accumulate || p0 > 0)
    }
  }
}

// MARK: - A copied once for many products

// A prefill product of n rows by a stored weight runs block after block of W's rows (each
// widened into a float scratch), every block a product of its own; each would copy all of A again
// (in a profile of a Qwen2.5-VL f16 benchmark, `gemm`'s own time outside the micro-kernel, mostly
// those copies, fell from 12 % to 5 % of the samples). These copy A once, in the layout `gemm`
// copies it to block by block: per block of k (kc deep), the slivers of all rows.

extension AVX512 {
  /// Rows per sliver: ranges given to `packFloatA` start at a multiple of it.
  public static let floatSliverRows = mr

  /// Floats that `packFloatA` writes for an (m, k) A.
  public static func floatPackedCount(m: Int, k: Int) -> Int { (m + mr - 1) / mr * mr * max(0, k) }

  /// Rows `rows` of A (m, k, leading dimension lda) copied into `packed`
  /// (`floatPackedCount(m:k:)` floats), block of k after block of k.
  @inline(never)
  public static func packFloatA(_ a: UnsafePointer<Float>, lda: Int, m: Int, k: Int, rows: Range<Int>,
                           into packed: UnsafeMutablePointer<Float>) {
    let aRows = (m + mr - 1) / mr * mr
    var p0 = 0
    while p0 < k {
      let depth = min(kc, k - p0)
      pack(a + rows.lowerBound * lda + p0, ld: lda, step: 1, lines: rows.count, width: mr, depth: depth,
           into: packed + aRows * p0 + rows.lowerBound * depth)
      p0 += depth
    }
  }

  /// `gemm` with A already copied by `packFloatA` (all m rows), B stored (n, k) and used as B^T.
  @inline(never)
  public static func gemm(packedA: UnsafePointer<Float>, m: Int, n: Int, k: Int, b: UnsafePointer<Float>, ldb: Int,
                          accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int) {
    guard m > 0, n > 0, k > 0 else { return }
    let aRows = (m + mr - 1) / mr * mr
    let raw = UnsafeMutableRawPointer.allocate(byteCount: nc * kc * 4, alignment: 64)
    defer { raw.deallocate() }
    let bp = raw.bindMemory(to: Float.self, capacity: nc * kc)
    blockedLoops(m: m, n: n, k: k, blocking: Blocking(mr: mr, nr: nr, kc: kc, mc: mc, nc: nc)) { _, _ in
    } packB: { p0, depth, j0, cols in
      pack(b + j0 * ldb + p0, ld: ldb, step: 1, lines: cols, width: nr, depth: depth, into: bp)
    } tile: { p0, depth, i, j0, jr, rows, cols in
      micro(depth, packedA + aRows * p0 + i * depth, bp + jr * depth, c + i * ldc + j0 + jr, ldc: ldc,
            rows: rows, cols: cols, alpha: 1, add: accumulate || p0 > 0)
    }
  }
}

/// A kernel's register tile (mr x nr) and blocks: kc values of k, mc rows of A per pass over a
/// block of nc columns of B.
struct Blocking { let mr: Int, nr: Int, kc: Int, mc: Int, nc: Int }

/// The loops both kernels share, as BLIS orders them: per block of k, A copied whole (`packA`:
/// every B panel reuses it); per block of nc columns, B copied (`packB`); then mc rows of A (in
/// L2) against the block's panels, one register tile at a time (`tile`: block start and depth,
/// the tile's first row, the B block's first column, the panel's column within the block, and
/// the tile's rows and columns inside the edges).
@inline(__always)
func blockedLoops(m: Int, n: Int, k: Int, blocking z: Blocking, packA: (Int, Int) -> Void,
                  packB: (Int, Int, Int, Int) -> Void, tile: (Int, Int, Int, Int, Int, Int, Int) -> Void) {
  var p0 = 0
  while p0 < k {
    let depth = min(z.kc, k - p0)
    packA(p0, depth)
    var j0 = 0
    while j0 < n {
      let cols = min(z.nc, n - j0)
      packB(p0, depth, j0, cols)
      var i0 = 0
      while i0 < m {
        let rows = min(z.mc, m - i0)
        var jr = 0
        while jr < cols {
          var ir = 0
          while ir < rows {
            tile(p0, depth, i0 + ir, j0, jr, min(z.mr, rows - ir), min(z.nr, cols - jr))
            ir += z.mr
          }
          jr += z.nr
        }
        i0 += rows
      }
      j0 += cols
    }
    p0 += depth
  }
}

/// `lines` lines of a matrix, `depth` values each (value t of line i at src[i * ld + t * step]),
/// in groups of `width` laid out along k: group g holds dst[g * width * depth + t * width + i] =
/// line(width g + i)[t], zeros past `lines`. B's panels (width 32) and A's slivers (width 12).
@inline(__always)
private func pack(_ src: UnsafePointer<Float>, ld: Int, step: Int, lines: Int, width: Int, depth: Int,
                  into dst: UnsafeMutablePointer<Float>) {
  var i0 = 0
  while i0 < lines {
    let group = dst + i0 * depth, used = min(width, lines - i0)
    if step == 1 {  // lines contiguous along k: one line at a time
      for i in 0..<width {
        if i < used {
          let line = src + (i0 + i) * ld
          for t in 0..<depth { group[t &* width &+ i] = line[t] }
        } else {
          for t in 0..<depth { group[t &* width &+ i] = 0 }
        }
      }
    } else {  // lines side by side (ld 1): one value of k at a time, contiguous on both sides
      for t in 0..<depth {
        let from = src + t * step + i0, to = group + t * width
        for i in 0..<width { to[i] = i < used ? from[i] : 0 }
      }
    }
    i0 += width
  }
}

/// C[0..<rows, 0..<cols] (stride ldc) = (add ? C : 0) + sliver (depth x 12) x panel (depth x 32).
@inline(__always)
private func micro(_ depth: Int, _ ap: UnsafePointer<Float>, _ bp: UnsafePointer<Float>,
                   _ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, alpha: Float, add: Bool) {
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
    if r < rows { storeRow(c + r * ldc, lo * alpha, hi * alpha, cols: cols, add: add) }
  }
  store(0, c0, d0); store(1, c1, d1); store(2, c2, d2); store(3, c3, d3)
  store(4, c4, d4); store(5, c5, d5); store(6, c6, d6); store(7, c7, d7)
  store(8, c8, d8); store(9, c9, d9); store(10, c10, d10); store(11, c11, d11)
}

/// One row of a 32-column register tile (lo: columns 0..<16, hi: 16..<32) written to `out`, its
/// first `cols` columns only, added to what is there when `add`.
@inline(__always)
func storeRow(_ out: UnsafeMutablePointer<Float>, _ lo: SIMD16<Float>, _ hi: SIMD16<Float>, cols: Int, add: Bool) {
  if cols == 32 {
    var l = lo, h = hi
    if add {
      l += UnsafeRawPointer(out).loadUnaligned(as: SIMD16<Float>.self)
      h += UnsafeRawPointer(out + 16).loadUnaligned(as: SIMD16<Float>.self)
    }
    UnsafeMutableRawPointer(out).storeBytes(of: l, as: SIMD16<Float>.self)
    UnsafeMutableRawPointer(out + 16).storeBytes(of: h, as: SIMD16<Float>.self)
  } else {
    for j in 0..<cols {
      let v = j < 16 ? lo[j] : hi[j - 16]
      out[j] = add ? out[j] + v : v
    }
  }
}
#endif
