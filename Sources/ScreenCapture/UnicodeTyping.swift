import CXCB
import Foundation

/// Resolves keysyms to keycodes for one input call, borrowing spare keycodes for keysyms the
/// keymap lacks, as xdotool does: the spare keycode is remapped to the keysym while it is typed,
/// and given back its empty mapping afterwards.
struct KeyAssignment {
  let mapping: KeyboardMapping
  /// The keycode of Shift_L (or Shift_R); nil on a keymap without Shift.
  let shiftKeycode: UInt8?
  private let spares: [UInt8]
  /// keysym -> borrowed keycode, in the order borrowed.
  private(set) var borrowed: [(keysym: UInt32, keycode: UInt8)] = []
  private var installed = 0

  init(mapping: KeyboardMapping) {
    self.mapping = mapping
    shiftKeycode = (mapping.locate(0xffe1) ?? mapping.locate(0xffe2)).flatMap { $0.shifted ? nil : $0.keycode }
    spares = mapping.spareKeycodes()
  }

  /// True when every spare keycode is in use: install, type and restore before borrowing more.
  var isFull: Bool { borrowed.count >= spares.count }

  /// True when typing `keysym` would take another spare keycode.
  func needsSpare(_ keysym: UInt32) -> Bool {
    if let at = mapping.locate(keysym), !at.shifted || shiftKeycode != nil { return false }
    return !borrowed.contains { $0.keysym == keysym }
  }

  /// The keycode for `keysym` and whether Shift is needed; borrows a spare when the keymap
  /// lacks it. `character` names it in the error when no spare is left.
  mutating func resolve(_ keysym: UInt32, character: String) throws(ScreenCaptureError) -> (UInt8, Bool) {
    if let at = mapping.locate(keysym), !at.shifted || shiftKeycode != nil { return (at.keycode, at.shifted) }
    if let b = borrowed.first(where: { $0.keysym == keysym }) { return (b.keycode, false) }
    guard !isFull else { throw .noSpareKeycode(character: character) }
    let kc = spares[borrowed.count]
    borrowed.append((keysym, kc))
    return (kc, false)
  }

  /// Maps every borrowed keycode to its keysym at both levels (so Shift and Caps Lock do not
  /// change it), and waits until the server has applied it.
  mutating func install(on display: X11Display) throws(ScreenCaptureError) {
    for b in borrowed[installed...] {
      try display.setKeysyms([b.keysym, b.keysym], of: b.keycode)
      installed += 1
    }
  }

  /// Gives the borrowed keycodes back their empty mapping; best effort (also runs after errors).
  mutating func restore(on display: X11Display) {
    let empty = [UInt32](repeating: 0, count: max(mapping.perKeycode, 1))
    for b in borrowed.prefix(installed) { try? display.setKeysyms(empty, of: b.keycode) }
    borrowed = []
    installed = 0
  }
}

extension X11Display {
  /// Types `text` as keystrokes, one per Unicode scalar (`\n` is Return, `\t` Tab).
  ///
  /// Characters on the current keymap are typed with their keycode (plus Shift when they sit at
  /// the shifted level); others are typed through borrowed spare keycodes, remapped for the time
  /// of typing and restored afterwards. When the text needs more distinct missing characters than
  /// there are spare keycodes, it is typed in batches. Each key is followed by `keyDelay`.
  ///
  /// `interruption` is asked between keys (no key is down then); when it gives a reason, the
  /// borrowed keycodes are given back and the call throws `interrupted` naming the reason and
  /// how many characters were typed.
  public func type(_ text: String, interruption: InputInterruption? = nil) throws(ScreenCaptureError) {
    try inputCall { () throws(ScreenCaptureError) in
      var keys = KeyAssignment(mapping: try keyboardMapping())
      var progress = TypingProgress(total: text.unicodeScalars.count, interruption: interruption)
      var batch: [(keycode: UInt8, shifted: Bool)] = []
      for scalar in text.unicodeScalars {
        let keysym = Keysyms.keysym(for: scalar)
        if keys.needsSpare(keysym), keys.isFull, !batch.isEmpty {
          try typeBatch(batch, &keys, &progress)
          batch = []
        }
        let (kc, shifted) = try keys.resolve(keysym, character: String(scalar))
        batch.append((kc, shifted))
      }
      try typeBatch(batch, &keys, &progress)
    }
  }

  /// Installs the borrowed keycodes, types `batch`, waits one key delay so that clients read
  /// the events under the borrowed mapping, and restores the mapping (also when interrupted).
  private func typeBatch(_ batch: [(keycode: UInt8, shifted: Bool)], _ keys: inout KeyAssignment,
                         _ progress: inout TypingProgress) throws(ScreenCaptureError) {
    guard !batch.isEmpty else { return }
    try keys.install(on: self)
    defer { keys.restore(on: self) }
    for k in batch {
      if let reason = progress.interruptionReason() {
        try? sync()
        pause(); pause()
        throw .interrupted(reason: reason, done: "\(progress.typed) of \(progress.total) characters typed")
      }
      tapKey(k.keycode, shift: k.shifted ? keys.shiftKeycode : nil)
      progress.typed += 1
    }
    try sync()
    pause(); pause()
  }
}

/// How far typing has come, and the check asked between keys.
private struct TypingProgress {
  let total: Int
  let interruption: InputInterruption?
  var typed = 0

  /// The check's reason to stop before the next key; never asked before the first key.
  func interruptionReason() -> String? {
    guard typed > 0 else { return nil }
    return interruption?(nil)
  }
}
