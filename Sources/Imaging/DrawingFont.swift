/// A 5x7 bitmap font of our own for short labels ("r0c1", "3", "OK: 0.92"): digits, upper- and
/// lower-case ASCII letters and common punctuation. Each glyph is 7 rows of 5 columns, `#` ink
/// and `.` blank, left column first. Characters without a glyph draw as a hollow box.
enum BitmapFont {
  static let glyphWidth = 5, glyphHeight = 7
  /// Pen advance per character and per line, in unscaled pixels (one blank column / row between).
  static let advance = 6, lineHeight = 8

  // MARK: - Glyph table

  static let source: [(Character, String)] = [
    ("0", ".###. #...# #..## #.#.# ##..# #...# .###."), ("1", "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###."),
    ("2", ".###. #...# ....# ...#. ..#.. .#... #####"), ("3", "##### ...#. ..#.. ...#. ....# #...# .###."),
    ("4", "...#. ..##. .#.#. #..#. ##### ...#. ...#."), ("5", "##### #.... ####. ....# ....# #...# .###."),
    ("6", "..##. .#... #.... ####. #...# #...# .###."), ("7", "##### ....# ...#. ..#.. .#... .#... .#..."),
    ("8", ".###. #...# #...# .###. #...# #...# .###."), ("9", ".###. #...# #...# .#### ....# ...#. .##.."),
    ("A", ".###. #...# #...# ##### #...# #...# #...#"), ("B", "####. #...# #...# ####. #...# #...# ####."),
    ("C", ".###. #...# #.... #.... #.... #...# .###."), ("D", "###.. #..#. #...# #...# #...# #..#. ###.."),
    ("E", "##### #.... #.... ####. #.... #.... #####"), ("F", "##### #.... #.... ####. #.... #.... #...."),
    ("G", ".###. #...# #.... #.### #...# #...# .####"), ("H", "#...# #...# #...# ##### #...# #...# #...#"),
    ("I", ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###."), ("J", "..### ...#. ...#. ...#. ...#. #..#. .##.."),
    ("K", "#...# #..#. #.#.. ##... #.#.. #..#. #...#"), ("L", "#.... #.... #.... #.... #.... #.... #####"),
    ("M", "#...# ##.## #.#.# #.#.# #...# #...# #...#"), ("N", "#...# #...# ##..# #.#.# #..## #...# #...#"),
    ("O", ".###. #...# #...# #...# #...# #...# .###."), ("P", "####. #...# #...# ####. #.... #.... #...."),
    ("Q", ".###. #...# #...# #...# #.#.# #..#. .##.#"), ("R", "####. #...# #...# ####. #.#.. #..#. #...#"),
    ("S", ".#### #.... #.... .###. ....# ....# ####."), ("T", "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#.."),
    ("U", "#...# #...# #...# #...# #...# #...# .###."), ("V", "#...# #...# #...# #...# #...# .#.#. ..#.."),
    ("W", "#...# #...# #...# #.#.# #.#.# #.#.# .#.#."), ("X", "#...# #...# .#.#. ..#.. .#.#. #...# #...#"),
    ("Y", "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#.."), ("Z", "##### ....# ...#. ..#.. .#... #.... #####"),
    ("a", "..... ..... .###. ....# .#### #...# .####"), ("b", "#.... #.... #.##. ##..# #...# #...# ####."),
    ("c", "..... ..... .###. #.... #.... #...# .###."), ("d", "....# ....# .##.# #..## #...# #...# .####"),
    ("e", "..... ..... .###. #...# ##### #.... .###."), ("f", "..##. .#..# .#... ###.. .#... .#... .#..."),
    ("g", "..... .#### #...# #...# .#### ....# .###."), ("h", "#.... #.... #.##. ##..# #...# #...# #...#"),
    ("i", "..#.. ..... .##.. ..#.. ..#.. ..#.. .###."), ("j", "...#. ..... ..##. ...#. ...#. #..#. .##.."),
    ("k", "#.... #.... #..#. #.#.. ##... #.#.. #..#."), ("l", ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###."),
    ("m", "..... ..... ##.#. #.#.# #.#.# #...# #...#"), ("n", "..... ..... #.##. ##..# #...# #...# #...#"),
    ("o", "..... ..... .###. #...# #...# #...# .###."), ("p", "..... ..... ####. #...# ####. #.... #...."),
    ("q", "..... ..... .##.# #..## .#### ....# ....#"), ("r", "..... ..... #.##. ##..# #.... #.... #...."),
    ("s", "..... ..... .###. #.... .###. ....# ####."), ("t", ".#... .#... ###.. .#... .#... .#..# ..##."),
    ("u", "..... ..... #...# #...# #...# #..## .##.#"), ("v", "..... ..... #...# #...# #...# .#.#. ..#.."),
    ("w", "..... ..... #...# #...# #.#.# #.#.# .#.#."), ("x", "..... ..... #...# .#.#. ..#.. .#.#. #...#"),
    ("y", "..... ..... #...# #...# .#### ....# .###."), ("z", "..... ..... ##### ...#. ..#.. .#... #####"),
    (" ", "..... ..... ..... ..... ..... ..... ....."), (".", "..... ..... ..... ..... ..... .##.. .##.."),
    (",", "..... ..... ..... ..... .##.. ..#.. .#..."), (":", "..... .##.. .##.. ..... .##.. .##.. ....."),
    ("-", "..... ..... ..... ##### ..... ..... ....."), ("+", "..... ..#.. ..#.. ##### ..#.. ..#.. ....."),
    ("=", "..... ..... ##### ..... ##### ..... ....."), ("/", "....# ....# ...#. ..#.. .#... #.... #...."),
    ("(", "...#. ..#.. .#... .#... .#... ..#.. ...#."), (")", ".#... ..#.. ...#. ...#. ...#. ..#.. .#..."),
    ("[", ".###. .#... .#... .#... .#... .#... .###."), ("]", ".###. ...#. ...#. ...#. ...#. ...#. .###."),
    ("<", "...#. ..#.. .#... #.... .#... ..#.. ...#."), (">", ".#... ..#.. ...#. ....# ...#. ..#.. .#..."),
    ("#", ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#."), ("%", "##... ##..# ...#. ..#.. .#... #..## ...##"),
    ("?", ".###. #...# ....# ...#. ..#.. ..... ..#.."), ("!", "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#.."),
    ("_", "..... ..... ..... ..... ..... ..... #####"), ("*", "..... ..#.. #.#.# .###. #.#.# ..#.. ....."),
    ("'", "..#.. ..#.. .#... ..... ..... ..... ....."), ("@", ".###. #...# #.### #.#.# #.### #.... .####"),
  ]

  /// Drawn for characters without a glyph.
  static let missing = rows("##### #...# #...# #...# #...# #...# #####")

  /// Character -> 7 row bitmasks; bit 4 is the left column.
  static let glyphs: [Character: [UInt8]] = Dictionary(source.map { ($0.0, rows($0.1)) }, uniquingKeysWith: { a, _ in a })

  /// "#..#. ..." -> row bitmasks; anything but `#` is blank.
  static func rows(_ picture: String) -> [UInt8] {
    picture.split(separator: " ").map { row in
      row.reduce(UInt8(0)) { ($0 << 1) | ($1 == "#" ? 1 : 0) }
    }
  }

  static func glyph(_ c: Character) -> [UInt8] { glyphs[c] ?? missing }
}

extension RGBImage {
  // MARK: - Text

  /// The size in pixels that ``drawText(_:x:y:color:scale:background:)`` covers with ink cells
  /// (without its background margin): lines split at "\n".
  public static func textSize(_ text: String, scale: Int = 1) -> (width: Int, height: Int) {
    let s = max(1, min(scale, 1024))
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    let longest = lines.map(\.count).max() ?? 0
    let w = longest == 0 ? 0 : (longest * BitmapFont.advance - 1) * s
    return (w, (lines.count * BitmapFont.lineHeight - 1) * s)
  }

  /// Draws `text` with its top-left glyph cell at (x, y), each font pixel a `scale`×`scale`
  /// square (scale is clamped to 1...1024). With `background`, the text box grown by `scale`
  /// pixels on every side is filled first, for legibility on busy screenshots.
  public mutating func drawText(_ text: String, x: Int, y: Int, color: RGB, scale: Int = 1, background: RGB? = nil) {
    let s = max(1, min(scale, 1024))
    if let background {
      let (w, h) = Self.textSize(text, scale: s)
      fillSpan(x0: saturatingAdd(x, -s), x1: saturatingAdd(x, w + s),
               y0: saturatingAdd(y, -s), y1: saturatingAdd(y, h + s), color: background)
    }
    var penX = x, penY = y
    for c in text {
      if c == "\n" {
        penX = x
        penY = saturatingAdd(penY, BitmapFont.lineHeight * s)
        continue
      }
      for (row, bits) in BitmapFont.glyph(c).enumerated() where bits != 0 {
        let top = saturatingAdd(penY, row * s)
        for col in 0..<BitmapFont.glyphWidth where bits & (0x10 >> UInt8(col)) != 0 {
          let left = saturatingAdd(penX, col * s)
          fillSpan(x0: left, x1: saturatingAdd(left, s), y0: top, y1: saturatingAdd(top, s), color: color)
        }
      }
      penX = saturatingAdd(penX, BitmapFont.advance * s)
    }
  }
}
