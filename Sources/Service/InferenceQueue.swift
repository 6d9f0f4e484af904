import Foundation

/// Model work, one job at a time on a thread of its own, behind a bounded line of waiting jobs.
///
/// One runner because a forward pass already uses every core: two at once would only slow both.
/// `capacity` bounds the jobs waiting behind the running one; a job that finds the line full is
/// refused at once (the route answers 503 with Retry-After) rather than queued without bound.
public final class InferenceQueue: @unchecked Sendable {
  public let capacity: Int
  private let condition = NSCondition()
  private var jobs: [@Sendable () -> Void] = []
  private var running = false
  private var closed = false
  private var thread: Thread?
  /// Seconds the last jobs took, for the Retry-After estimate.
  private var recentSeconds: Double = 1

  public init(capacity: Int) {
    self.capacity = max(0, capacity)
    let t = Thread { [weak self] in self?.loop() }
    t.name = "gui-agent inference"
    t.stackSize = 8 << 20
    thread = t
    t.start()
  }

  /// Jobs waiting (not counting the running one) and whether one runs.
  public var state: (waiting: Int, running: Bool) { condition.withLock { (jobs.count, running) } }

  /// Whether `close()` ran: new jobs are refused, the ones in line still run.
  public var isClosed: Bool { condition.withLock { closed } }

  /// Seconds a refused client should wait: the line's length times the recent job time, at least 1.
  public var retryAfterSeconds: Int {
    condition.withLock { max(1, Int((Double(jobs.count + 1) * recentSeconds).rounded(.up))) }
  }

  /// Runs `work` on the inference thread and waits for its result. Throws `QueueRefusal.full`
  /// when `capacity` jobs already wait (unless `admitAlways`: an agent episode's model calls,
  /// since an episode in progress is not refused), `.closed` after `close()`.
  public func run<T: Sendable>(admitAlways: Bool = false, _ work: @escaping @Sendable () throws -> T) throws -> T {
    let done = DispatchSemaphore(value: 0)
    let slot = ResultSlot<T>()
    try submit(always: admitAlways) {
      slot.result = Result { try work() }
      done.signal()
    }
    done.wait()
    guard let result = slot.result else { throw QueueRefusal.closed }
    return try result.get()
  }

  /// Puts `job` in line without waiting for it (a streamed answer sends while it runs).
  public func submit(always: Bool = false, _ job: @escaping @Sendable () -> Void) throws(QueueRefusal) {
    condition.lock()
    let full = running ? jobs.count >= capacity : jobs.count > capacity
    let refusal: QueueRefusal? = closed ? .closed : (full && !always) ? .full : nil
    if refusal == nil {
      jobs.append(job)
      condition.signal()
    }
    condition.unlock()
    if let refusal { throw refusal }
  }

  /// Refuses new jobs; the thread finishes those queued, then ends. `drain()` waits for that.
  public func close() {
    condition.withLock {
      closed = true
      condition.broadcast()
    }
  }

  /// Waits until no job runs or waits (bounded by `timeout` seconds). Returns whether it drained.
  @discardableResult
  public func drain(timeout: Double) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    condition.lock()
    defer { condition.unlock() }
    while running || !jobs.isEmpty {
      if !condition.wait(until: deadline) { return false }
    }
    return true
  }

  private func loop() {
    while true {
      condition.lock()
      while jobs.isEmpty && !closed { condition.wait() }
      if jobs.isEmpty && closed { condition.unlock(); return }
      let job = jobs.removeFirst()
      running = true
      condition.unlock()
      let start = Date()
      job()
      let seconds = Date().timeIntervalSince(start)
      condition.lock()
      running = false
      recentSeconds = 0.7 * recentSeconds + 0.3 * seconds
      condition.broadcast()
      condition.unlock()
    }
  }
}

/// Why a job was not taken.
public enum QueueRefusal: Error, Sendable {
  case full
  case closed
}

private final class ResultSlot<T>: @unchecked Sendable {
  var result: Result<T, any Error>?
}
