// MARK: - Action names

/// The kinds of action, with every spelling the grammars accept for each. UI-TARS prints
/// `left_single`, `left_double`, `right_single`, `select`, `press`; the canonical names
/// (`click`, `double_click`, ...) are what the serializers print.
enum ActionKind: String, CaseIterable, Sendable {
  case click, doubleClick = "double_click", rightClick = "right_click", drag, scroll, type, hotkey,
       wait, finished, callUser = "call_user"

  /// Looks a name up, ignoring case; nil for names no grammar knows.
  init?(spelling: String) {
    switch spelling.lowercased() {
    case "click", "left_single": self = .click
    case "double_click", "left_double": self = .doubleClick
    case "right_click", "right_single": self = .rightClick
    case "drag", "select": self = .drag
    case "scroll": self = .scroll
    case "type": self = .type
    case "hotkey", "press": self = .hotkey
    case "wait": self = .wait
    case "finished": self = .finished
    case "call_user": self = .callUser
    default: return nil
    }
  }
}

// MARK: - Numbers

/// Prints a coordinate or duration the shortest way that reads back to the same Double:
/// `500` rather than `500.0`, `0.25`, `1e-07`.
func formatNumber(_ value: Double) -> String {
  if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
  return "\(value)"
}
