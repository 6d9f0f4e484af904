// MARK: - Calls

/// One `name(key='value', ...)` call as UI-TARS prints it, values unescaped.
struct ActionCall: Equatable, Sendable {
  var name: String
  var arguments: [String: String]
}

/// Reads a sequence of calls separated by whitespace (UI-TARS puts a blank line between actions).
///
/// Quoted values take `'` or `"` and the escapes `\'`, `\"`, `\\`, `\n`, `\r`, `\t` (any other
/// backslash is kept as is). Models do not always escape a quote inside `content`, so, like the
/// reference parser's fallback, a quote closes the value only when the next non-space character
/// is `,` or `)`: `type(content='it's')` reads as `it's`.
struct CallLexer {
  private let chars: [Character]
  private var pos = 0

  init(_ text: Substring) { chars = Array(text) }

  /// All calls in the text, or the first thing that was wrong.
  static func calls(in text: Substring) -> Result<[ActionCall], ParseFailure> {
    var lexer = CallLexer(text)
    var calls: [ActionCall] = []
    do {
      while true {
        lexer.skipSpace()
        if lexer.atEnd { return .success(calls) }
        calls.append(try lexer.call())
      }
    } catch let failure as ParseFailure {
      return .failure(failure)
    } catch {
      return .failure(ParseFailure(.syntax, "\(error)"))
    }
  }

  // MARK: - Grammar

  private mutating func call() throws -> ActionCall {
    let name = identifier()
    guard !name.isEmpty else {
      throw ParseFailure(.syntax, "expected an action name at '\(excerpt())'")
    }
    skipSpace()
    guard peek == "(" else {
      if atEnd { throw ParseFailure(.unbalancedParenthesis, "action '\(name)' has no '(' argument list") }
      throw ParseFailure(.syntax, "expected '(' after '\(name)', found '\(excerpt())'")
    }
    pos += 1
    var arguments: [String: String] = [:]
    while true {
      skipSpace()
      guard let ch = peek else { throw unclosed(name) }
      if ch == ")" { pos += 1; return ActionCall(name: name, arguments: arguments) }
      let key = identifier()
      guard !key.isEmpty else {
        throw ParseFailure(.syntax, "expected an argument name in '\(name)(...)' at '\(excerpt())'")
      }
      skipSpace()
      guard peek == "=" else {
        if atEnd { throw unclosed(name) }
        throw ParseFailure(.syntax, "expected '=' after argument '\(key)' of '\(name)', found '\(excerpt())'")
      }
      pos += 1
      skipSpace()
      arguments[key] = try value(action: name, key: key)
      skipSpace()
      switch peek {
      case ",": pos += 1
      case ")": continue
      case nil: throw unclosed(name)
      default:
        throw ParseFailure(.syntax, "expected ',' or ')' after argument '\(key)' of '\(name)', found '\(excerpt())'")
      }
    }
  }

  private mutating func value(action: String, key: String) throws -> String {
    guard let quote = peek, quote == "'" || quote == "\"" else {
      // Unquoted: up to the next ',' or ')' outside brackets, so that `start_box=(7,8)` reads whole.
      let start = pos
      var depth = 0
      while let ch = peek {
        if ch == "(" || ch == "[" { depth += 1 }
        if ch == ")" || ch == "]" { if depth == 0 { break }; depth -= 1 }
        if ch == ",", depth == 0 { break }
        pos += 1
      }
      return String(chars[start..<pos]).trimmingSpaces()
    }
    pos += 1
    var out = ""
    while let ch = peek {
      pos += 1
      if ch == "\\" {
        guard let next = peek else { break }
        pos += 1
        switch next {
        case "n": out.append("\n")
        case "r": out.append("\r")
        case "t": out.append("\t")
        case "'", "\"", "\\": out.append(next)
        default: out.append("\\"); out.append(next)
        }
      } else if ch == quote, closesValue() {
        return out
      } else {
        out.append(ch)
      }
    }
    throw ParseFailure(.unbalancedQuote, "unbalanced quote in argument '\(key)' of '\(action)'")
  }

  /// Whether a quote just read ends the value: the next non-space character is `,` or `)`.
  private func closesValue() -> Bool {
    var i = pos
    while i < chars.count, chars[i].isWhitespace { i += 1 }
    return i == chars.count || chars[i] == "," || chars[i] == ")"
  }

  // MARK: - Characters

  private var atEnd: Bool { pos >= chars.count }
  private var peek: Character? { pos < chars.count ? chars[pos] : nil }

  private mutating func skipSpace() {
    while let ch = peek, ch.isWhitespace { pos += 1 }
  }

  private mutating func identifier() -> String {
    let start = pos
    while let ch = peek, ch == "_" || (ch.isASCII && (ch.isLetter || ch.isNumber)) { pos += 1 }
    return String(chars[start..<pos])
  }

  private func excerpt() -> String { String(chars[pos..<min(chars.count, pos + 30)]) }

  private func unclosed(_ name: String) -> ParseFailure {
    ParseFailure(.unbalancedParenthesis, "unbalanced parenthesis: '\(name)(' is never closed")
  }
}

extension String {
  func trimmingSpaces() -> String {
    var s = Substring(self)
    while let f = s.first, f.isWhitespace { s.removeFirst() }
    while let l = s.last, l.isWhitespace { s.removeLast() }
    return String(s)
  }
}
