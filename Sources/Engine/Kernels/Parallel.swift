import Dispatch

// MARK: - Row-parallel loops

enum Parallel {
  /// Runs `body` over `0..<count` split in at most `threads` contiguous ranges, concurrently
  /// when `threads > 1` and there is more than one range. Callers write disjoint rows only,
  /// which is why the closure (holding raw pointers) may cross threads.
  static func ranges(_ count: Int, threads: Int, minimumPerRange: Int = 1,
                     _ body: (Range<Int>) -> Void) {
    let parts = max(1, min(threads, count / max(1, minimumPerRange)))
    if parts == 1 { body(0..<count); return }
    withoutActuallyEscaping(body) { escapable in
      let shared = DisjointWork(body: escapable)
      DispatchQueue.concurrentPerform(iterations: parts) { p in
        shared.body((p * count / parts)..<((p + 1) * count / parts))
      }
    }
  }
}

/// The loop body of `Parallel.ranges`; sound to share because each call touches its own rows.
private struct DisjointWork: @unchecked Sendable {
  let body: (Range<Int>) -> Void
}
