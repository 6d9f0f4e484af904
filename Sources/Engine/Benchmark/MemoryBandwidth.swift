import Dispatch

// MARK: - Read bandwidth, the bound of a decode step

/// Measures how fast this machine reads memory with a given number of threads: the ceiling of a
/// decode step, which reads every weight once per token. A buffer far larger than the caches is
/// summed in SIMD lanes, each thread its own contiguous part (as the products split rows).
public enum MemoryBandwidth {
  /// Bytes per second read, the best of `rounds` passes over a `megabytes` buffer.
  public static func measure(threads: Int, megabytes: Int = 512, rounds: Int = 5) -> Double {
    let count = max(1, megabytes) << 18  // floats
    let threads = max(1, threads)
    let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
    defer { buffer.deallocate() }
    buffer.initialize(repeating: 1, count: count)  // touched: no page faults in the timed passes
    let base = UnsafePointer(buffer)
    var best = Double.infinity
    var sink: Float = 0
    let sums = UnsafeMutablePointer<Float>.allocate(capacity: threads)  // one per thread's part
    defer { sums.deallocate() }
    sums.initialize(repeating: 0, count: threads)
    for _ in 0..<max(1, rounds) {
      let start = DispatchTime.now().uptimeNanoseconds
      Parallel.ranges(threads, threads: threads) { parts in
        for t in parts {
          let lo = t * count / threads, hi = (t + 1) * count / threads
          var a0 = SIMD16<Float>(), a1 = SIMD16<Float>()
          var i = lo
          while i + 32 <= hi {
            a0 += UnsafeRawPointer(base + i).loadUnaligned(as: SIMD16<Float>.self)
            a1 += UnsafeRawPointer(base + i + 16).loadUnaligned(as: SIMD16<Float>.self)
            i += 32
          }
          sums[t] = (a0 + a1).sum()
        }
      }
      best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
      for t in 0..<threads { sink += sums[t] }
    }
    // A sum that is never read could let the loads be dropped; this one is (it is count * rounds).
    return sink > 0 ? Double(4 * count) / best : 0
  }
}
