import Foundation
import Grounding
import Imaging
import Testing

/// Parses of real windows (Tk, GTK through zenity, xterm) on an Xvfb of the test's own, checked
/// against the programs' own text and geometry: each string is read, and its box lies inside the
/// widget or window that shows it.
@Suite(.serialized) struct LiveScreenParsingTests {
  /// Widgets' boxes from Tk include their padding; OCR boxes hug the glyphs. A little slack for
  /// glyph edges the bicubic upscale spreads.
  static let tolerance = 3

  /// A Tk window of labels and buttons; the script prints each widget's text and root geometry.
  static let tkScript = #"""
import json, tkinter as tk
root = tk.Tk()
root.title("Parse test")
root.geometry("+40+30")
for kind, text in [("label", "Account settings"), ("button", "Save changes"), ("button", "Cancel"),
                   ("label", "Recent documents"), ("button", "Open file")]:
    (tk.Label if kind == "label" else tk.Button)(root, text=text).pack(padx=24, pady=8, anchor="w")
def report():
    if not root.winfo_viewable():
        root.after(50, report)
        return
    for w in root.winfo_children():
        print(json.dumps({"text": w.cget("text"), "x": w.winfo_rootx(), "y": w.winfo_rooty(),
                          "width": w.winfo_width(), "height": w.winfo_height()}))
    print("ready", flush=True)
root.after(100, report)
root.mainloop()
"""#

  struct Widget: Decodable {
    var text: String, x: Int, y: Int, width: Int, height: Int
    var rect: PixelRect { PixelRect(x: x, y: y, width: width, height: height) }
  }

  @Test func tkWidgetsAreReadInsideTheirGeometry() throws {
    let app = try ScreenApp(["python3", "-c", Self.tkScript])
    defer { app.stop() }
    let widgets = try app.lines(until: "ready").map { try JSONDecoder().decode(Widget.self, from: Data($0.utf8)) }
    #expect(widgets.count == 5)
    let parser = try TesseractParser()
    // Tk has drawn once it is viewable and idle, but give the server a moment to show it all.
    var lines: [TextLine] = []
    for _ in 0..<10 {
      let screen = try app.capture()
      lines = try parser.readLines(screen, area: PixelRect(x: 0, y: 0, width: screen.width, height: screen.height))
      if widgets.allSatisfy({ w in lines.contains { $0.text == w.text } }) { break }
      Thread.sleep(forTimeInterval: 0.3)
    }
    for widget in widgets {
      let line = lines.first { $0.text == widget.text }
      #expect(line != nil, "'\(widget.text)' not read; read: \(lines.map(\.text))")
      guard let line else { continue }
      #expect(widget.rect.contains(line.box, tolerance: Self.tolerance), "'\(widget.text)' at \(line.box), widget \(widget.rect)")
      // The words, too: each inside the widget, in order, spelling the line.
      #expect(line.words.map(\.text).joined(separator: " ") == widget.text)
      for word in line.words { #expect(widget.rect.contains(word.box, tolerance: Self.tolerance), "word \(word.text) at \(word.box)") }
    }
  }

  @Test func zenityQuestionIsReadInsideItsWindow() throws {
    let app = try ScreenApp(["zenity", "--question", "--title", "Confirm deletion", "--text", "Delete the selected files?"])
    defer { app.stop() }
    let window = try app.windowRect(named: "Confirm deletion")
    // GTK draws after mapping; wait until the question is on the screen.
    var parse = ScreenParse(area: window, elements: [], milliseconds: 0)
    let parser = try TesseractParser()
    for _ in 0..<20 {
      let screen = try app.capture()
      parse = try parser.parse(screen, area: PixelRect(x: 0, y: 0, width: screen.width, height: screen.height))
      if parse.elements.closest(to: "Delete the selected files?", text: \.text) != nil { break }
      Thread.sleep(forTimeInterval: 0.5)
    }
    let texts = parse.elements.map(\.text)
    for expected in ["Delete the selected files?", "Yes", "No"] {
      let element = parse.elements.closest(to: expected) { $0.text }
      #expect(element != nil, "'\(expected)' not read; read: \(texts)")
      if let element { #expect(window.contains(element.box, tolerance: 0), "'\(expected)' at \(element.box), window \(window)") }
    }
    #expect(parse.elements.allSatisfy { $0.kind == .text && !$0.text.trimmingCharacters(in: .whitespaces).isEmpty })
  }

  /// xterm's bitmap font (6x13 "fixed") falls apart into fragments under sparse segmentation;
  /// a terminal is one block of text, read as such from its window's pixels.
  @Test func xtermLinesAreReadInsideItsWindow() throws {
    let shown = ["alpha bravo charlie delta", "The quick brown fox jumps 12345", "make install PREFIX=/usr/local"]
    // A prompt last, so that the cursor stands after it as in a shell.
    let command = "printf '" + shown.joined(separator: "\\n") + "\\n$ '; exec sleep 60"
    let app = try ScreenApp(["xterm", "-T", "parse-xterm", "-geometry", "48x6+60+50", "-e", "sh", "-c", command])
    defer { app.stop() }
    let window = try app.windowRect(named: "parse-xterm")
    let parser = try TesseractParser(options: .init(pageSegmentation: .block))
    var lines: [TextLine] = []
    for _ in 0..<20 {
      let pixels = try app.capture().cropped(to: window)
      lines = try parser.readLines(pixels, area: window)
      if shown.allSatisfy({ s in lines.closest(to: s, text: \.text) != nil }) { break }
      Thread.sleep(forTimeInterval: 0.5)
    }
    for expected in shown {
      let line = lines.closest(to: expected) { $0.text }
      #expect(line != nil, "'\(expected)' not read; read: \(lines.map(\.text))")
      if let line { #expect(window.contains(line.box, tolerance: 0), "'\(expected)' at \(line.box), window \(window)") }
    }
    // Reading order: top to bottom as printed.
    let rows = shown.compactMap { s in lines.closest(to: s, text: \.text)?.box.y }
    #expect(rows == rows.sorted() && rows.count == shown.count)
  }
}
