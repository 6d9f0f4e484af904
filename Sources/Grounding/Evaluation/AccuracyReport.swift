import Foundation

/// Accuracy over a set of results: overall, by UI type (text, icon) and by source (v1/v2's
/// `data_source`, Pro's `platform`). Skipped samples are counted apart and scored in no group.
public struct AccuracyReport: Sendable, Equatable {
  /// Hits out of scored samples.
  public struct Tally: Sendable, Equatable {
    public var n = 0
    public var hits = 0
    public init(n: Int = 0, hits: Int = 0) { self.n = n; self.hits = hits }
    /// hits / n in [0, 1]; nil for an empty group.
    public var accuracy: Double? { n > 0 ? Double(hits) / Double(n) : nil }
    mutating func add(_ hit: Bool) { n += 1; hits += hit ? 1 : 0 }
  }

  /// The tallies of one source.
  public struct SourceTally: Sendable, Equatable {
    public var all = Tally(), text = Tally(), icon = Tally()
  }

  /// Scored samples (hits and misses, including answers without a point).
  public var n: Int { overall.n }
  public var skipped = 0
  /// Scored samples whose answer held no point (each is a miss).
  public var noCoordinate = 0
  public var overall = Tally(), text = Tally(), icon = Tally()
  public var bySource: [String: SourceTally] = [:]

  public init(records: [EvaluationRecord]) {
    for r in records {
      if r.skipped != nil { skipped += 1; continue }
      if r.x == nil || r.y == nil { noCoordinate += 1 }
      overall.add(r.hit)
      var s = bySource[r.source, default: SourceTally()]
      s.all.add(r.hit)
      switch r.uiType {
      case "text": text.add(r.hit); s.text.add(r.hit)
      case "icon": icon.add(r.hit); s.icon.add(r.hit)
      default: break
      }
      bySource[r.source] = s
    }
  }

  /// Sources in name order.
  public var sources: [String] { bySource.keys.sorted() }

  // MARK: - JSON

  /// `{n, skipped, no_coordinate, overall, text, icon, by_source: {source: {n, accuracy, text, icon}}}`,
  /// accuracies as fractions in [0, 1] (`null` for an empty group), ready for JSONSerialization.
  public func jsonObject() -> [String: Any] {
    func frac(_ t: Tally) -> Any { t.accuracy.map { $0 as Any } ?? NSNull() }
    var by: [String: Any] = [:]
    for (name, s) in bySource {
      by[name] = ["n": s.all.n, "hits": s.all.hits, "accuracy": frac(s.all), "text": frac(s.text), "icon": frac(s.icon),
                  "text_n": s.text.n, "icon_n": s.icon.n]
    }
    return [
      "n": n, "skipped": skipped, "no_coordinate": noCoordinate, "hits": overall.hits,
      "overall": frac(overall), "text": frac(text), "icon": frac(icon),
      "text_n": text.n, "icon_n": icon.n, "by_source": by,
    ]
  }
}
