import Foundation

// Reads the coordinate out of a grounding model's answer. Models print many spellings:
//   (x,y)   [x, y]   <point>x y</point>   <|box_start|>(x1,y1),(x2,y2)<|box_end|>
//   click(start_box='(x,y)')   click(start_box='<|box_start|>(x,y)<|box_end|>')
//   click(point='<point>x y</point>')   [x1, y1, x2, y2]   (x1,y1,x2,y2)
//   {"bbox_2d": [x1, y1, x2, y2]}   {"point_2d": [x, y]}   {"coordinate": [x, y]}   {"x": x, "y": y}
// with integers or decimals and any text around them. Reasoning is skipped first: only the text
// after `</think>`, inside `<answer>...</answer>`, and from a line starting `Action:` on is read
// (UI-TARS writes numbers in its Thought too). Then the first group of 2 numbers (a point) or 4
// (a box) wins; tags are looked at before bare brackets, and `"x": .., "y": ..` last. Model text
// never makes the parser throw or trap: numbers are read as doubles and checked for range.

extension GroundingAnswer {
  /// Parses a model answer. With `validRange`, a coordinate holding a value outside it yields
  /// `.noCoordinate(.outOfRange)`; negative values are always out of range.
  public static func parse(_ text: String, validRange: ClosedRange<Double>? = nil) -> GroundingAnswer {
    if text.unicodeScalars.allSatisfy({ $0.properties.isWhitespace }) { return .noCoordinate(.empty) }
    let chars = Array(answerPart(of: text).unicodeScalars)
    let groups = tagGroups(chars, open: "<point>", close: "</point>")
      + tagGroups(chars, open: "<|box_start|>", close: "<|box_end|>")
      + tagGroups(chars, open: "<bbox>", close: "</bbox>")
    for g in groups.sorted(by: { $0.start < $1.start }) {
      if let answer = answer(from: g.numbers) { return checked(answer, g.numbers, validRange) }
    }
    for g in bracketGroups(chars) {
      if let answer = answer(from: g) { return checked(answer, g, validRange) }
    }
    if let x = jsonNumber(chars, key: "x"), let y = jsonNumber(chars, key: "y") {
      return checked(.point(x: x.value, y: y.value), [x, y], validRange)
    }
    return .noCoordinate(.noCoordinateFound)
  }

  /// The part of `text` that holds the answer: after the last `</think>`, inside the first
  /// `<answer>...</answer>` (to the end when unclosed), from the first line starting `Action:`.
  static func answerPart(of text: String) -> Substring {
    var part = text[...]
    if let end = part.range(of: "</think>", options: .backwards) { part = part[end.upperBound...] }
    if let open = part.range(of: "<answer>") {
      part = part[open.upperBound...]
      if let close = part.range(of: "</answer>") { part = part[..<close.lowerBound] }
    }
    var lineStart = part.startIndex
    while lineStart < part.endIndex {
      let rest = part[lineStart...].drop { $0 == " " || $0 == "\t" }
      if rest.hasPrefix("Action:") { return rest.dropFirst("Action:".count) }
      guard let newline = part[lineStart...].firstIndex(where: \.isNewline) else { break }
      lineStart = part.index(after: newline)
    }
    return part
  }

  /// 2 numbers are a point, 4 a box; anything else is not a coordinate.
  private static func answer(from n: [ParsedNumber]) -> GroundingAnswer? {
    let v = n.map(\.value)
    switch v.count {
    case 2: return .point(x: v[0], y: v[1])
    case 4: return .box(x1: v[0], y1: v[1], x2: v[2], y2: v[3])
    default: return nil
    }
  }

  private static func checked(_ a: GroundingAnswer, _ n: [ParsedNumber], _ range: ClosedRange<Double>?) -> GroundingAnswer {
    for x in n {
      if !x.value.isFinite { return .noCoordinate(.notFinite(x.text)) }
      if x.value < 0 || (range.map { !$0.contains(x.value) } ?? false) {
        return .noCoordinate(.outOfRange(value: x.value, allowed: range ?? 0...Double.greatestFiniteMagnitude))
      }
    }
    return a
  }
}

// MARK: - Scanning

/// A number as written and its value (infinite when it overflows a double).
struct ParsedNumber: Equatable {
  let text: String
  let value: Double
}

/// The numbers between every `open` ... `close` tag pair, with where each pair starts.
private func tagGroups(_ s: [Unicode.Scalar], open: String, close: String) -> [(start: Int, numbers: [ParsedNumber])] {
  let o = Array(open.unicodeScalars), c = Array(close.unicodeScalars)
  var out: [(Int, [ParsedNumber])] = []
  var i = 0
  while let start = find(o, in: s, from: i) {
    let inner = start + o.count
    guard let end = find(c, in: s, from: inner) else { break }
    // Inside tags, brackets and commas are separators: (x1,y1),(x2,y2) reads as 4 numbers.
    if let n = numberList(s[inner..<end], separators: "()[], \t\n") { out.append((start, n)) }
    i = end + c.count
  }
  return out
}

/// The numbers of every bracketed group `( ... )` or `[ ... ]` holding only numbers, commas
/// and spaces, in order of their opening bracket; `(x1,y1),(x2,y2)` counts as one group of 4.
private func bracketGroups(_ s: [Unicode.Scalar]) -> [[ParsedNumber]] {
  // nextParen[i] / nextSquare[i]: the first `)` / `]` at or after i (linear time on any text).
  var nextParen = [Int](repeating: s.count, count: s.count + 1)
  var nextSquare = nextParen
  for i in stride(from: s.count - 1, through: 0, by: -1) {
    nextParen[i] = s[i] == ")" ? i : nextParen[i + 1]
    nextSquare[i] = s[i] == "]" ? i : nextSquare[i + 1]
  }
  func closing(_ open: Unicode.Scalar, after i: Int) -> Int? {
    let e = open == "(" ? nextParen[i + 1] : nextSquare[i + 1]
    return e < s.count ? e : nil
  }
  var out: [[ParsedNumber]] = []
  for (i, ch) in s.enumerated() where ch == "(" || ch == "[" {
    guard let end = closing(ch, after: i),
          let n = numberList(s[(i + 1)..<end], separators: ", \t\n") else { continue }
    // A point directly followed by `,(x2,y2)` is the first corner of a box.
    var rest = end + 1
    while rest < s.count, s[rest] == " " { rest += 1 }
    if n.count == 2, rest < s.count, s[rest] == "," {
      var j = rest + 1
      while j < s.count, s[j] == " " { j += 1 }
      if j < s.count, s[j] == ch, let end2 = closing(ch, after: j),
         let m = numberList(s[(j + 1)..<end2], separators: ", \t\n"), m.count == 2 {
        out.append(n + m)
        continue
      }
    }
    out.append(n)
  }
  return out
}

/// The numbers of `s` if it holds nothing but numbers and separators, else nil.
private func numberList(_ s: ArraySlice<Unicode.Scalar>, separators: String) -> [ParsedNumber]? {
  let sep = Set(separators.unicodeScalars)
  var out: [ParsedNumber] = []
  var i = s.startIndex
  while i < s.endIndex {
    if sep.contains(s[i]) { i += 1; continue }
    guard let (n, next) = number(s, at: i) else { return nil }
    out.append(n)
    i = next
  }
  return out.isEmpty ? nil : out
}

/// A decimal number `[+-]digits[.digits]` or `[+-].digits` starting at `i`, and the index after it.
private func number(_ s: ArraySlice<Unicode.Scalar>, at start: Int) -> (ParsedNumber, Int)? {
  var i = start
  if i < s.endIndex, s[i] == "-" || s[i] == "+" { i += 1 }
  var digits = 0
  while i < s.endIndex, ("0"..."9").contains(s[i]) { i += 1; digits += 1 }
  if i < s.endIndex, s[i] == "." {
    i += 1
    while i < s.endIndex, ("0"..."9").contains(s[i]) { i += 1; digits += 1 }
  }
  guard digits > 0 else { return nil }
  var text = ""
  text.unicodeScalars.append(contentsOf: s[start..<i])
  // Double(_:) gives +-inf for overflowing spellings; a trailing "." is not accepted by it.
  let value = Double(text.hasSuffix(".") ? String(text.dropLast()) : text) ?? .nan
  return (ParsedNumber(text: text, value: value), i)
}

/// The number after the JSON key `key` (`"x": 412`), if any.
private func jsonNumber(_ s: [Unicode.Scalar], key: String) -> ParsedNumber? {
  let needle = Array("\"\(key)\"".unicodeScalars)
  var from = 0
  while let at = find(needle, in: s, from: from) {
    var i = at + needle.count
    while i < s.count, s[i] == " " || s[i] == "\t" { i += 1 }
    if i < s.count, s[i] == ":" {
      i += 1
      while i < s.count, s[i].properties.isWhitespace { i += 1 }
      if let (n, _) = number(s[...], at: i) { return n }
    }
    from = at + 1
  }
  return nil
}

private func find(_ needle: [Unicode.Scalar], in s: [Unicode.Scalar], from: Int) -> Int? {
  guard needle.count <= s.count else { return nil }
  var i = from
  while i + needle.count <= s.count {
    if s[i] == needle[0], Array(s[i..<(i + needle.count)]) == needle { return i }
    i += 1
  }
  return nil
}
