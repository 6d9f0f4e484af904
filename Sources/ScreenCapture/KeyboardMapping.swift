import CXCB
import Foundation

/// A snapshot of the server's core keyboard mapping (GetKeyboardMapping) and modifier keycodes.
struct KeyboardMapping {
  let minKeycode: UInt8
  /// Keysyms per keycode (columns: group 1 unshifted, group 1 shifted, group 2 ...).
  let perKeycode: Int
  /// (keycodes, perKeycode) keysyms, row `keycode - minKeycode`.
  let syms: [UInt32]
  /// Keycodes that are bound to any modifier (GetModifierMapping); never borrowed.
  let modifierKeycodes: Set<UInt8>

  var keycodeCount: Int { perKeycode == 0 ? 0 : syms.count / perKeycode }

  func row(_ keycode: UInt8) -> ArraySlice<UInt32> {
    let i = Int(keycode) - Int(minKeycode)
    guard i >= 0, i < keycodeCount else { return [] }
    return syms[(i * perKeycode)..<((i + 1) * perKeycode)]
  }

  /// Where `keysym` sits: the keycode, and whether Shift selects it (group 1, level 2).
  /// Unshifted places win over shifted ones. Follows Xlib's rule that a group whose second
  /// keysym is NoSymbol holds the upper case of an alphabetic first keysym at level 2.
  func locate(_ keysym: UInt32) -> (keycode: UInt8, shifted: Bool)? {
    guard keysym != 0 else { return nil }
    var shifted: UInt8?
    for i in 0..<keycodeCount {
      let kc = UInt8(Int(minKeycode) + i)
      let r = row(kc)
      let level1 = r.first ?? 0
      let level2 = r.count > 1 ? r[r.startIndex + 1] : 0
      if level1 == keysym { return (kc, false) }
      if shifted == nil, level2 == keysym || (level2 == 0 && Self.upperCase(level1) == keysym) {
        shifted = kc
      }
    }
    return shifted.map { ($0, true) }
  }

  /// Keycodes with no keysym at all and no modifier role: free to carry a borrowed keysym.
  /// Highest first, away from the keys a keyboard really has.
  func spareKeycodes() -> [UInt8] {
    (0..<keycodeCount).reversed().compactMap { i in
      let kc = UInt8(Int(minKeycode) + i)
      return row(kc).allSatisfy({ $0 == 0 }) && !modifierKeycodes.contains(kc) ? kc : nil
    }
  }

  /// Upper case of a Latin-1 lowercase letter keysym (a-z, à-þ except ÷), else nil.
  static func upperCase(_ k: UInt32) -> UInt32? {
    (0x61...0x7a).contains(k) || ((0xe0...0xfe).contains(k) && k != 0xf7) ? k - 0x20 : nil
  }
}

extension X11Display {
  /// Fetches the live keyboard and modifier mappings (two pipelined round trips).
  func keyboardMapping() throws(ScreenCaptureError) -> KeyboardMapping {
    let count = UInt8(Int(maxKeycode) - Int(minKeycode) + 1)
    let mapCookie = xcb_get_keyboard_mapping(connection, minKeycode, count)
    let modCookie = xcb_get_modifier_mapping(connection)
    let (per, syms) = try withReply("GetKeyboardMapping", {
      xcb_get_keyboard_mapping_reply(connection, mapCookie, $0)
    }) { r in
      let n = Int(xcb_get_keyboard_mapping_keysyms_length(r))
      let syms = xcb_get_keyboard_mapping_keysyms(r).map { Array(UnsafeBufferPointer(start: $0, count: n)) } ?? []
      return (Int(r.pointee.keysyms_per_keycode), syms)
    }
    let mods = try withReply("GetModifierMapping", { xcb_get_modifier_mapping_reply(connection, modCookie, $0) }) { r in
      let n = Int(xcb_get_modifier_mapping_keycodes_length(r))
      return xcb_get_modifier_mapping_keycodes(r).map { Set(UnsafeBufferPointer(start: $0, count: n)) } ?? []
    }
    return KeyboardMapping(minKeycode: minKeycode, perKeycode: per, syms: syms, modifierKeycodes: mods.subtracting([0]))
  }

  /// Sets the keysyms of one keycode (ChangeKeyboardMapping) and waits until the server has it.
  func setKeysyms(_ keysyms: [UInt32], of keycode: UInt8) throws(ScreenCaptureError) {
    guard !keysyms.isEmpty else { return }
    let cookie = keysyms.withUnsafeBufferPointer {
      xcb_change_keyboard_mapping_checked(connection, 1, keycode, UInt8(keysyms.count), $0.baseAddress)
    }
    try check("ChangeKeyboardMapping(keycode \(keycode))", cookie)
  }
}
