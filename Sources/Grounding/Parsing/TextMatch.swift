import Foundation
import Imaging

// MARK: - Finding a label among OCR words

/// A run of consecutive OCR words on one line that spells a label.
public struct TextCandidate: Sendable, Equatable {
  /// The words as read, joined by spaces.
  public var text: String
  /// The union of the words' boxes, in screen pixels.
  public var box: PixelRect
  /// Character edits between the run and the label (case and surrounding punctuation ignored).
  public var distance: Int
  /// The words' mean OCR confidence (0...100).
  public var confidence: Double
  /// The label that matched (one of ``InstructionLabel/candidates(_:)``).
  public var label: String

  public var center: ScreenPoint { ScreenPoint(x: box.x + box.width / 2, y: box.y + box.height / 2) }
}

public enum TextMatch {
  static let punctuation = CharacterSet(charactersIn: ".,:;!?\"'()[]{}<>|‘’“”…")

  /// Lower case without surrounding punctuation (a token of punctuation only stays as it is).
  static func token(_ w: String) -> String {
    let s = w.lowercased().trimmingCharacters(in: punctuation)
    return s.isEmpty ? w.lowercased() : s
  }

  /// Edits allowed for a label of n characters: none for 1-3, then one per 5, at most 3.
  static func allowedEdits(_ n: Int) -> Int { n <= 3 ? 0 : min(3, max(1, n / 5)) }

  /// Levenshtein distance over characters.
  static func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var prev = Array(0...b.count), cur = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
      cur[0] = i
      for j in 1...b.count {
        cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
      }
      swap(&prev, &cur)
    }
    return prev[b.count]
  }

  /// The words of `parse` grouped into lines, each in left-to-right order, lines top to bottom.
  /// A word belongs to the text line whose box holds its centre; words outside every line (or a
  /// parse without lines) are grouped by overlapping vertical extent and small horizontal gaps.
  public static func lines(_ parse: ScreenParse) -> [[ScreenElement]] {
    let words = parse.elements.filter { $0.kind == .word }
    let textLines = parse.elements.filter { $0.kind == .text }
    var grouped = [[ScreenElement]](repeating: [], count: textLines.count)
    var loose: [ScreenElement] = []
    for w in words {
      let c = w.center
      if let i = textLines.firstIndex(where: { $0.box.contains(x: c.x, y: c.y) }) { grouped[i].append(w) } else { loose.append(w) }
    }
    var out = grouped.filter { !$0.isEmpty }
    // Loose words: sorted by top, joined to a line when they overlap it vertically by half their
    // height and lie within two heights of its last word.
    var rest: [[ScreenElement]] = []
    for w in loose.sorted(by: { ($0.box.y, $0.box.x) < ($1.box.y, $1.box.x) }) {
      if let i = rest.firstIndex(where: { line in
        line.contains { l in
          let overlap = min(l.box.y + l.box.height, w.box.y + w.box.height) - max(l.box.y, w.box.y)
          let gap = max(w.box.x - (l.box.x + l.box.width), l.box.x - (w.box.x + w.box.width))
          return 2 * overlap >= min(l.box.height, w.box.height) && gap <= 2 * max(l.box.height, w.box.height)
        }
      }) { rest[i].append(w) } else { rest.append([w]) }
    }
    out += rest
    return out.map { $0.sorted { $0.box.x < $1.box.x } }
      .sorted { ($0[0].box.y, $0[0].box.x) < ($1[0].box.y, $1[0].box.x) }
  }

  /// Every run of consecutive words on one line within the allowed edits of `label`, best
  /// first: fewer edits per character, then higher confidence, then reading order.
  public static func candidates(for label: String, in lines: [[ScreenElement]]) -> [TextCandidate] {
    let target = label.split(whereSeparator: \.isWhitespace).map { token(String($0)) }
    guard !target.isEmpty else { return [] }
    let spaced = target.joined(separator: " "), joined = target.joined()
    let allowed = allowedEdits(joined.count)
    var found: [(key: (Double, Double, Int, Int), candidate: TextCandidate)] = []
    for (li, line) in lines.enumerated() {
      let tokens = line.map { token($0.text) }
      for k in max(1, target.count - 1)...(target.count + 1) where k <= line.count {
        for i in 0...(line.count - k) {
          let run = tokens[i..<(i + k)]
          // Length alone rules most runs out before the quadratic distance.
          if abs(run.joined().count - joined.count) > allowed { continue }
          let d = min(editDistance(run.joined(separator: " "), spaced), editDistance(run.joined(), joined))
          guard d <= allowed else { continue }
          let words = line[i..<(i + k)]
          let conf = words.map(\.confidence).reduce(0, +) / Double(k)
          let box = words.dropFirst().reduce(words[words.startIndex].box) { union($0, $1.box) }
          let c = TextCandidate(text: words.map(\.text).joined(separator: " "), box: box, distance: d,
                                confidence: conf, label: label)
          found.append(((Double(d) / Double(max(1, joined.count)), -conf, li, i), c))
        }
      }
    }
    // Overlapping runs of the same words (k and k+1 around a hit) keep only their best.
    var out: [TextCandidate] = []
    for f in found.sorted(by: { $0.key < $1.key }) where !out.contains(where: { overlaps($0.box, f.candidate.box) }) {
      out.append(f.candidate)
    }
    return out
  }

  /// Candidates for the first of an instruction's labels (``InstructionLabel``) that any run matches.
  public static func candidates(forInstruction instruction: String, in parse: ScreenParse) -> [TextCandidate] {
    let l = lines(parse)
    for label in InstructionLabel.candidates(instruction) {
      let c = candidates(for: label, in: l)
      if !c.isEmpty { return c }
    }
    return []
  }

  static func union(_ a: PixelRect, _ b: PixelRect) -> PixelRect {
    let x0 = min(a.x, b.x), y0 = min(a.y, b.y)
    let x1 = max(a.x + a.width, b.x + b.width), y1 = max(a.y + a.height, b.y + b.height)
    return PixelRect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
  }

  static func overlaps(_ a: PixelRect, _ b: PixelRect) -> Bool {
    a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height
  }
}
