import Testing
@testable import ScreenCapture

/// Pure tests: keysym names (values from X11's keysymdef.h) and pixel unpacking of server formats.
@Suite struct KeysymTests {
  @Test(arguments: [
    ("a", 0x61), ("A", 0x41), ("5", 0x35), ("Return", 0xff0d), ("return", 0xff0d), ("enter", 0xff0d),
    ("Escape", 0xff1b), ("esc", 0xff1b), ("Tab", 0xff09), ("BackSpace", 0xff08), ("Delete", 0xffff),
    ("Home", 0xff50), ("End", 0xff57), ("Page_Up", 0xff55), ("Prior", 0xff55), ("Page_Down", 0xff56),
    ("Next", 0xff56), ("Left", 0xff51), ("Up", 0xff52), ("Right", 0xff53), ("Down", 0xff54),
    ("space", 0x20), ("F1", 0xffbe), ("F4", 0xffc1), ("f12", 0xffc9), ("F24", 0xffd5),
    ("ctrl", 0xffe3), ("control", 0xffe3), ("Control_L", 0xffe3), ("shift", 0xffe1), ("Shift_L", 0xffe1),
    ("alt", 0xffe9), ("Alt_L", 0xffe9), ("super", 0xffeb), ("meta", 0xffeb), ("win", 0xffeb),
    ("Super_L", 0xffeb), ("comma", 0x2c), ("period", 0x2e), ("slash", 0x2f), ("minus", 0x2d),
    ("bracketleft", 0x5b), ("asciitilde", 0x7e), ("ü", 0xfc), ("€", 0x0100_20ac), ("U+20AC", 0x0100_20ac),
    ("0xff0d", 0xff0d),
  ] as [(String, UInt32)])
  func keyNames(name: String, keysym: UInt32) throws {
    #expect(try Keysyms.keysym(named: name) == keysym)
  }

  @Test func unknownKeyNamesAreErrorsNamingTheKey() {
    #expect(throws: ScreenCaptureError.unknownKey("Retrun")) { try Keysyms.keysym(named: "Retrun") }
    #expect(throws: ScreenCaptureError.unknownKey("F25")) { try Keysyms.keysym(named: "F25") }
    #expect(ScreenCaptureError.unknownKey("Retrun").localizedDescription.contains("Retrun"))
  }

  @Test func textCharactersMapToKeysyms() {
    #expect(Keysyms.keysym(for: "\n") == 0xff0d)
    #expect(Keysyms.keysym(for: "\t") == 0xff09)
    #expect(Keysyms.keysym(for: "é") == 0xe9)
    #expect(Keysyms.keysym(for: "ß") == 0xdf)
    #expect(Keysyms.keysym(for: "Ω") == 0x0100_03a9)
  }

  @Test func combinationsSplitOnPlus() {
    #expect(X11Display.splitCombination("ctrl+shift+s") == ["ctrl", "shift", "s"])
    #expect(X11Display.splitCombination("ctrl++") == ["ctrl", "+"])
    #expect(X11Display.splitCombination("+") == ["+"])
    #expect(X11Display.splitCombination("alt + F4") == ["alt", "F4"])
  }

  @Test func keymapLookupFollowsXlibCaseRule() {
    // keycodes 8, 9, 10: [a, A], [b, NoSymbol], [] with 2 keysyms per keycode.
    let m = KeyboardMapping(minKeycode: 8, perKeycode: 2, syms: [0x61, 0x41, 0x62, 0, 0, 0], modifierKeycodes: [])
    #expect(m.locate(0x61).map { [$0.keycode, $0.shifted ? 1 : 0] } == [8, 0])
    #expect(m.locate(0x41).map { [$0.keycode, $0.shifted ? 1 : 0] } == [8, 1])
    #expect(m.locate(0x42).map { [$0.keycode, $0.shifted ? 1 : 0] } == [9, 1])
    #expect(m.locate(0xfc) == nil)
    #expect(m.spareKeycodes() == [10])
  }
}

@Suite struct PixelFormatTests {
  /// Two pixels, (10, 20, 30) and (200, 150, 100), in each layout; rows padded to 32 bits.
  @Test func unpacksEachLayout() throws {
    let want: [UInt8] = [10, 20, 30, 200, 150, 100]
    // depth 24 at 32 bpp, LSB first: B G R X (Xvfb, Xorg on x86).
    let bgrx = try PixelFormat(depth: 24, bitsPerPixel: 32, scanlinePad: 32, msbFirst: false,
                               redMask: 0xff0000, greenMask: 0xff00, blueMask: 0xff)
    let img1 = try [UInt8]([30, 20, 10, 0, 100, 150, 200, 0]).withUnsafeBytes { try bgrx.rgbImage(from: $0, width: 2, height: 1) }
    #expect(img1.pixels == want)
    // The same masks MSB first: X R G B.
    var xrgb = bgrx
    xrgb.msbFirst = true
    let img2 = try [UInt8]([0, 10, 20, 30, 0, 200, 150, 100]).withUnsafeBytes { try xrgb.rgbImage(from: $0, width: 2, height: 1) }
    #expect(img2.pixels == want)
    // depth 32 (ARGB visual): the alpha byte is ignored.
    let argb = try PixelFormat(depth: 32, bitsPerPixel: 32, scanlinePad: 32, msbFirst: false,
                               redMask: 0xff0000, greenMask: 0xff00, blueMask: 0xff)
    let img3 = try [UInt8]([30, 20, 10, 255, 100, 150, 200, 128]).withUnsafeBytes { try argb.rgbImage(from: $0, width: 2, height: 1) }
    #expect(img3.pixels == want)
    // 24 bpp packed, rows padded: 6 bytes of pixels + 2 of pad per row, two rows.
    let packed = try PixelFormat(depth: 24, bitsPerPixel: 24, scanlinePad: 32, msbFirst: false,
                                 redMask: 0xff0000, greenMask: 0xff00, blueMask: 0xff)
    #expect(packed.bytesPerRow(width: 2) == 8)
    let img4 = try [UInt8]([30, 20, 10, 100, 150, 200, 9, 9, 100, 150, 200, 30, 20, 10, 9, 9]).withUnsafeBytes {
      try packed.rgbImage(from: $0, width: 2, height: 2)
    }
    #expect(img4.pixels == want + [200, 150, 100, 10, 20, 30])
    // RGB565 LSB first: masked path, channels scaled to 8 bits. 0xF800 -> red 255, 0x07E0 -> green 255.
    let rgb565 = try PixelFormat(depth: 16, bitsPerPixel: 16, scanlinePad: 32, msbFirst: false,
                                 redMask: 0xf800, greenMask: 0x07e0, blueMask: 0x001f)
    let img5 = try [UInt8]([0x00, 0xf8, 0xe0, 0x07]).withUnsafeBytes { try rgb565.rgbImage(from: $0, width: 2, height: 1) }
    #expect(img5.pixels == [255, 0, 0, 0, 255, 0])
    // Half-intensity blue (16 of 31) -> round(16 * 255 / 31) = 132.
    let img6 = try [UInt8]([0x10, 0x00, 0x00, 0x00]).withUnsafeBytes { try rgb565.rgbImage(from: $0, width: 2, height: 1) }
    #expect(img6.pixels == [0, 0, 132, 0, 0, 0])
  }

  @Test func rejectsFormatsItCannotDecode() {
    #expect(throws: ScreenCaptureError.self) {
      try PixelFormat(depth: 8, bitsPerPixel: 8, scanlinePad: 32, msbFirst: false, redMask: 0, greenMask: 0, blueMask: 0)
    }
    #expect(throws: ScreenCaptureError.self) {
      let f = try PixelFormat(depth: 24, bitsPerPixel: 32, scanlinePad: 32, msbFirst: false,
                              redMask: 0xff0000, greenMask: 0xff00, blueMask: 0xff)
      _ = try [UInt8](repeating: 0, count: 7).withUnsafeBytes { try f.rgbImage(from: $0, width: 2, height: 1) }
    }
  }
}
