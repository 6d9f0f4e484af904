import Dispatch
import Foundation
import Synchronization

// MARK: - Row-parallel loops

enum Parallel {
  /// How many ranges `ranges` cuts `0..<count` into.
  static func parts(_ count: Int, threads: Int, minimumPerRange: Int = 1) -> Int {
    max(1, min(threads, count / max(1, minimumPerRange)))
  }

  /// Runs `body` over `0..<count` split in at most `threads` contiguous ranges, concurrently
  /// when `threads > 1` and there is more than one range. Callers write disjoint rows only,
  /// which is why the closure (holding raw pointers) may cross threads.
  ///
  /// The ranges run on `WorkerPool.shared` (threads that stay awake between calls, so a decode
  /// step's hundreds of small products do not each pay a thread wake-up); when the pool is taken
  /// (another caller, or a call from inside a pool job) they run through `concurrentPerform`.
  static func ranges(_ count: Int, threads: Int, minimumPerRange: Int = 1,
                     _ body: (Range<Int>) -> Void) {
    let parts = Self.parts(count, threads: threads, minimumPerRange: minimumPerRange)
    if parts == 1 { body(0..<count); return }
    withoutActuallyEscaping(body) { escapable in
      let shared = DisjointWork(body: escapable)
      let part: @Sendable (Int) -> Void = { p in shared.body((p * count / parts)..<((p + 1) * count / parts)) }
      if !WorkerPool.shared.run(parts: parts, part) {
        DispatchQueue.concurrentPerform(iterations: parts, execute: part)
      }
    }
  }
}

/// The loop body of `Parallel.ranges`; sound to share because each call touches its own rows.
private struct DisjointWork: @unchecked Sendable {
  let body: (Range<Int>) -> Void
}

// MARK: - A pool of spinning workers

/// Threads that run the parts of one job at a time beside the calling thread (which runs part 0),
/// as ggml's thread pool does: after a job a worker spins on the job counter for a while (a decode
/// step starts the next product within microseconds), then sleeps until a job needs it.
/// One caller at a time: `run` returns false, doing nothing, when the pool is taken.
final class WorkerPool: @unchecked Sendable {
  static let shared = WorkerPool()

  /// Parts per job at most (the low 8 bits of `ticket`).
  static let maxParts = 64
  /// Spins (atomic loads) before a worker sleeps: a few hundred microseconds.
  static let spinLimit = 200_000

  /// Job number << 8 | parts; a worker takes part `index + 1` of a job whose ticket it has not seen.
  private let ticket = Atomic<Int>(0)
  /// Parts of the current job not yet finished by workers.
  private let pending = Atomic<Int>(0)
  private let busy = Atomic<Bool>(false)
  /// The current job, written by the caller before `ticket` is released and read by workers after
  /// they acquire it; not touched again until every worker's part is done.
  private var job: ((Int) -> Void)?
  private var workers: [Worker] = []  // only the caller holding `busy` appends

  /// Runs `part(0..<parts)` and returns true, or returns false at once when the pool is taken.
  func run(parts: Int, _ part: @escaping (Int) -> Void) -> Bool {
    guard parts >= 2, parts <= Self.maxParts,
          busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
    defer { busy.store(false, ordering: .releasing) }
    while workers.count < parts - 1 { workers.append(Worker(pool: self, index: workers.count)) }
    job = part
    pending.store(parts - 1, ordering: .relaxed)
    let next = ((ticket.load(ordering: .relaxed) >> 8) + 1) << 8 | parts
    ticket.store(next, ordering: .sequentiallyConsistent)
    for w in workers.prefix(parts - 1) where w.sleeping.exchange(false, ordering: .sequentiallyConsistent) {
      w.wake.signal()
    }
    part(0)
    while pending.load(ordering: .acquiring) > 0 {}
    job = nil
    return true
  }

  /// A worker's loop: wait for a ticket not yet seen, run its part when the job has one for it.
  fileprivate func serve(_ w: Worker) {
    var seen = 0
    while true {
      var t = ticket.load(ordering: .acquiring), spins = 0
      while t == seen {
        spins += 1
        if spins >= Self.spinLimit {
          w.sleeping.store(true, ordering: .sequentiallyConsistent)
          if ticket.load(ordering: .sequentiallyConsistent) == seen {
            w.wake.wait()
          } else if !w.sleeping.exchange(false, ordering: .sequentiallyConsistent) {
            w.wake.wait()  // the caller saw us asleep and signals: take that signal
          }
          spins = 0
        }
        t = ticket.load(ordering: .acquiring)
      }
      seen = t
      if w.index + 1 < t & 0xFF {
        job?(w.index + 1)
        pending.subtract(1, ordering: .releasing)
      }
    }
  }
}

/// One pool thread's wake-up state.
private final class Worker: @unchecked Sendable {
  let index: Int
  let sleeping = Atomic<Bool>(false)
  let wake = DispatchSemaphore(value: 0)

  init(pool: WorkerPool, index: Int) {
    self.index = index
    let thread = Thread { [unowned self] in pool.serve(self) }
    thread.name = "gui-agent.worker.\(index)"
    thread.start()
  }
}
