// The name a server gives a model (`ui-tars-1.5-7b`, `ByteDance-Seed/UI-TARS-1.5-7B`,
// `qwen2.5-vl:7b`) read as a known model, for planners that reach the model over HTTP and
// cannot read its folder.

extension KnownModels {
  /// The row `name` names: a row's id or display name exactly, else the row with the longest
  /// alias found at the start of a word in `name` (GUI fine-tunes before base models, as for
  /// folder names); nil when none matches.
  public static func recognise(servedName name: String) -> KnownModel? {
    if let exact = named(name) { return exact }
    for wantBase in [false, true] {
      let hits = all.filter { $0.isBase == wantBase }
        .compactMap { row in GroundingSetup.longestAlias(row, in: name).map { (row: row, length: $0) } }
      if let best = hits.max(by: { $0.length < $1.length }) { return best.row }
    }
    return nil
  }
}
