/// Keysym names and values, as in X11's `keysymdef.h`, plus the short aliases people type.
public enum Keysyms {
  // MARK: - Tables

  /// Canonical X keysym names (case-sensitive, as `keysymdef.h` spells them).
  static let named: [String: UInt32] = {
    var t: [String: UInt32] = [
      "space": 0x20, "exclam": 0x21, "quotedbl": 0x22, "numbersign": 0x23, "dollar": 0x24,
      "percent": 0x25, "ampersand": 0x26, "apostrophe": 0x27, "parenleft": 0x28, "parenright": 0x29,
      "asterisk": 0x2a, "plus": 0x2b, "comma": 0x2c, "minus": 0x2d, "period": 0x2e, "slash": 0x2f,
      "colon": 0x3a, "semicolon": 0x3b, "less": 0x3c, "equal": 0x3d, "greater": 0x3e, "question": 0x3f,
      "at": 0x40, "bracketleft": 0x5b, "backslash": 0x5c, "bracketright": 0x5d, "asciicircum": 0x5e,
      "underscore": 0x5f, "grave": 0x60, "braceleft": 0x7b, "bar": 0x7c, "braceright": 0x7d,
      "asciitilde": 0x7e,
      "BackSpace": 0xff08, "Tab": 0xff09, "Linefeed": 0xff0a, "Clear": 0xff0b, "Return": 0xff0d,
      "Pause": 0xff13, "Scroll_Lock": 0xff14, "Sys_Req": 0xff15, "Escape": 0xff1b, "Delete": 0xffff,
      "Home": 0xff50, "Left": 0xff51, "Up": 0xff52, "Right": 0xff53, "Down": 0xff54,
      "Prior": 0xff55, "Page_Up": 0xff55, "Next": 0xff56, "Page_Down": 0xff56, "End": 0xff57,
      "Begin": 0xff58, "Print": 0xff61, "Insert": 0xff63, "Menu": 0xff67, "Find": 0xff68,
      "Cancel": 0xff69, "Help": 0xff6a, "Break": 0xff6b, "Num_Lock": 0xff7f,
      "KP_Enter": 0xff8d, "KP_Multiply": 0xffaa, "KP_Add": 0xffab, "KP_Subtract": 0xffad,
      "KP_Decimal": 0xffae, "KP_Divide": 0xffaf,
      "Shift_L": 0xffe1, "Shift_R": 0xffe2, "Control_L": 0xffe3, "Control_R": 0xffe4,
      "Caps_Lock": 0xffe5, "Meta_L": 0xffe7, "Meta_R": 0xffe8, "Alt_L": 0xffe9, "Alt_R": 0xffea,
      "Super_L": 0xffeb, "Super_R": 0xffec, "Hyper_L": 0xffed, "Hyper_R": 0xffee,
      "ISO_Level3_Shift": 0xfe03,
      "XF86AudioMute": 0x1008ff12, "XF86AudioLowerVolume": 0x1008ff11, "XF86AudioRaiseVolume": 0x1008ff13,
    ]
    for c in UInt32(0x61)...0x7a {  // a-z and A-Z
      t[String(UnicodeScalar(UInt8(c)))] = c
      t[String(UnicodeScalar(UInt8(c - 0x20)))] = c - 0x20
    }
    for d in UInt32(0)...9 {
      t[String(d)] = 0x30 + d
      t["KP_\(d)"] = 0xffb0 + d
    }
    for f in UInt32(1)...24 { t["F\(f)"] = 0xffbe + f - 1 }  // F1 = 0xffbe ... F24 = 0xffd5
    return t
  }()

  /// Short names people use, lower-cased (matched ignoring case).
  static let aliases: [String: UInt32] = [
    "ctrl": 0xffe3, "control": 0xffe3, "lctrl": 0xffe3, "rctrl": 0xffe4,
    "shift": 0xffe1, "lshift": 0xffe1, "rshift": 0xffe2,
    "alt": 0xffe9, "lalt": 0xffe9, "ralt": 0xffea, "altgr": 0xfe03,
    "super": 0xffeb, "meta": 0xffeb, "win": 0xffeb, "windows": 0xffeb, "cmd": 0xffeb, "command": 0xffeb,
    "enter": 0xff0d, "return": 0xff0d, "esc": 0xff1b, "escape": 0xff1b,
    "backspace": 0xff08, "del": 0xffff, "delete": 0xffff, "ins": 0xff63, "insert": 0xff63,
    "pgup": 0xff55, "pageup": 0xff55, "pgdn": 0xff56, "pagedown": 0xff56,
    "up": 0xff52, "down": 0xff54, "left": 0xff51, "right": 0xff53,
    "capslock": 0xffe5, "printscreen": 0xff61, "prtsc": 0xff61, "menu": 0xff67,
  ]

  /// The lower-cased canonical names, for case-insensitive lookup (`return`, `f4`, `page_up`).
  private static let folded: [String: UInt32] = {
    var t: [String: UInt32] = [:]
    for (k, v) in named where k.count > 1 { t[k.lowercased()] = v }
    return t
  }()

  /// Modifier keysyms: a combination presses these first and releases them last.
  static let modifiers: Set<UInt32> = [0xffe1, 0xffe2, 0xffe3, 0xffe4, 0xffe7, 0xffe8, 0xffe9, 0xffea,
                                       0xffeb, 0xffec, 0xffed, 0xffee, 0xfe03]

  // MARK: - Lookup

  /// The keysym for a key name: a single character (`a`, `A`, `é`, `€`), an X keysym name
  /// (`Return`, `F4`, `Page_Up`, `Prior`), an alias (`ctrl`, `esc`, `pgdn`, `super`; any case),
  /// a hexadecimal keysym (`0xff0d`) or a code point (`U+20AC`).
  ///
  /// - Throws: `ScreenCaptureError.unknownKey` naming the key.
  public static func keysym(named key: String) throws(ScreenCaptureError) -> UInt32 {
    let scalars = key.unicodeScalars
    if scalars.count == 1, let s = scalars.first { return keysym(for: s) }
    if let k = named[key] ?? aliases[key.lowercased()] ?? folded[key.lowercased()] { return k }
    let lower = key.lowercased()
    if lower.hasPrefix("0x"), let v = UInt32(lower.dropFirst(2), radix: 16) { return v }
    if lower.hasPrefix("u+"), let v = UInt32(lower.dropFirst(2), radix: 16), let s = Unicode.Scalar(v) {
      return keysym(for: s)
    }
    throw .unknownKey(key)
  }

  /// The keysym that types `scalar`: Latin-1 keysyms equal their code point, control characters
  /// map to their keys, everything else is a Unicode keysym `0x01000000 + codepoint`
  /// (the convention of `keysymdef.h` and Xlib's `XStringToKeysym("U20AC")`).
  public static func keysym(for scalar: Unicode.Scalar) -> UInt32 {
    switch scalar.value {
    case 0x0a, 0x0d: 0xff0d  // Return
    case 0x09: 0xff09  // Tab
    case 0x08: 0xff08  // BackSpace
    case 0x1b: 0xff1b  // Escape
    case 0x7f: 0xffff  // Delete
    case 0x20...0x7e, 0xa0...0xff: scalar.value
    default: 0x0100_0000 + scalar.value
    }
  }
}
