import Foundation
import Imaging

/// Times screen captures, for `gui-agent bench capture` and comparison with python-mss
/// (`scripts/bench/capture_mss.py`).
public enum CaptureBenchmark {
  /// Timings of one benchmark run. Each sample covers one `capture` call: the server round trip
  /// plus the conversion to `RGBImage` (mss's `grab` stops at BGRA bytes; its `--rgb` option adds
  /// the conversion, which makes the two comparable).
  public struct Timings: Sendable, Codable, Equatable {
    public var method: String
    public var width: Int, height: Int
    public var samplesMs: [Double]
    public var n: Int { samplesMs.count }
    public var meanMs: Double { samplesMs.reduce(0, +) / Double(max(samplesMs.count, 1)) }
    /// Median (mean of the two middle samples for an even count).
    public var p50Ms: Double {
      let s = samplesMs.sorted()
      guard !s.isEmpty else { return 0 }
      return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
    public var minMs: Double { samplesMs.min() ?? 0 }

    /// `{"method":..., "mean_ms":..., "p50_ms":..., "min_ms":..., "n":..., "width":..., "height":...}`,
    /// the keys the mss script prints.
    public var json: String {
      func f(_ v: Double) -> String { String(format: "%.4f", v) }
      return "{\"method\": \"\(method)\", \"mean_ms\": \(f(meanMs)), \"p50_ms\": \(f(p50Ms)), "
        + "\"min_ms\": \(f(minMs)), \"n\": \(n), \"width\": \(width), \"height\": \(height)}"
    }
  }

  /// Captures `region` (the whole screen when nil) `iterations` times with `method`, after one
  /// untimed warm-up capture (which creates the shared-memory segment).
  public static func run(display: String? = nil, method: CaptureMethod = .shm, iterations: Int = 100,
                         region: PixelRect? = nil) throws(ScreenCaptureError) -> Timings {
    guard iterations > 0 else { throw .invalidArgument("benchmark iterations \(iterations) must be positive") }
    let x = try X11Display(display: display)
    let target: CaptureTarget = region.map { .region($0) } ?? .screen
    let warm = try x.capture(target, method: method)
    var samples: [Double] = []
    samples.reserveCapacity(iterations)
    let clock = ContinuousClock()
    for _ in 0..<iterations {
      let t0 = clock.now
      _ = try x.capture(target, method: method)
      let d = clock.now - t0
      samples.append(Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) * 1e-15)
    }
    return Timings(method: method.rawValue, width: warm.width, height: warm.height, samplesMs: samples)
  }
}
