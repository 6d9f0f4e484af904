import Dispatch
import Synchronization
import Testing
@testable import Engine

// MARK: - Row-parallel loops on the worker pool

@Suite("Parallel.ranges and the worker pool")
struct ParallelTests {
  /// Runs `Parallel.ranges` and counts how often each index was visited.
  private func visits(_ count: Int, threads: Int, minimumPerRange: Int = 1) -> [Int] {
    let seen = UnsafeMutablePointer<Int>.allocate(capacity: max(1, count))
    defer { seen.deallocate() }
    seen.initialize(repeating: 0, count: max(1, count))
    let base = SendablePointer(p: seen)
    Parallel.ranges(count, threads: threads, minimumPerRange: minimumPerRange) { r in
      for i in r { base.p[i] += 1 }  // ranges are disjoint: no two threads touch one index
    }
    return Array(UnsafeBufferPointer(start: seen, count: count))
  }

  @Test("every index is visited exactly once, for any thread count and size")
  func coverage() {
    for threads in [1, 2, 3, 8, 64, 65] {
      for count in [0, 1, 2, 7, 64, 1000] {
        let v = visits(count, threads: threads)
        #expect(v.allSatisfy { $0 == 1 }, "threads \(threads), count \(count)")
      }
    }
    #expect(visits(100, threads: 4, minimumPerRange: 64).allSatisfy { $0 == 1 })
  }

  @Test("callers on many threads at once, and a call from inside a job, all complete and cover once")
  func concurrentAndNested() {
    let failures = Atomic<Int>(0)
    DispatchQueue.concurrentPerform(iterations: 8) { caller in
      for round in 0..<200 {
        let count = 50 + (caller * 7 + round) % 90
        if !visits(count, threads: 2 + caller % 3).allSatisfy({ $0 == 1 }) { failures.add(1, ordering: .relaxed) }
      }
    }
    #expect(failures.load(ordering: .relaxed) == 0)
    // Nested: the inner call finds the pool taken by the outer job and runs on its own.
    let inner = Atomic<Int>(0)
    Parallel.ranges(4, threads: 2) { outer in
      for _ in outer {
        Parallel.ranges(10, threads: 2) { r in inner.add(r.count, ordering: .relaxed) }
      }
    }
    #expect(inner.load(ordering: .relaxed) == 40)
  }
}

private struct SendablePointer: @unchecked Sendable {
  let p: UnsafeMutablePointer<Int>
}
