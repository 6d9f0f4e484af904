import Foundation
import Engine

/// The parsed command line of one leaf command.
struct ParsedArguments: Sendable {
  private(set) var flags: Set<String> = []
  private(set) var values: [String: [String]] = [:]
  private(set) var positionals: [String] = []
  /// The command path, e.g. "gui-agent act click", for messages.
  let commandPath: String

  init(commandPath: String) { self.commandPath = commandPath }

  /// Parses `args` against `command`'s options; positionals are checked against its spec.
  static func parse(_ args: [String], for command: Command, path: String) throws(UsageError) -> ParsedArguments {
    var parsed = ParsedArguments(commandPath: path)
    let specs = command.options + Command.commonOptions
    var i = 0
    var onlyPositionals = false
    while i < args.count {
      let arg = args[i]
      i += 1
      if onlyPositionals || arg == "-" || !arg.hasPrefix("-") || isNegativeNumber(arg) {
        parsed.positionals.append(arg)
        continue
      }
      if arg == "--" { onlyPositionals = true; continue }
      var name: String
      var inlineValue: String? = nil
      if arg.hasPrefix("--") {
        name = String(arg.dropFirst(2))
        if let eq = name.firstIndex(of: "=") {
          inlineValue = String(name[name.index(after: eq)...])
          name = String(name[..<eq])
        }
      } else {
        guard arg.count == 2, let c = arg.last,
              let spec = specs.first(where: { $0.short == c })
        else { throw UsageError("unknown option '\(arg)'") }
        name = spec.name
      }
      guard let spec = specs.first(where: { $0.name == name }) else {
        throw UsageError("unknown option '--\(name)'")
      }
      if spec.valueName == nil {
        if inlineValue != nil { throw UsageError("option '--\(name)' takes no value") }
        parsed.flags.insert(name)
        continue
      }
      let value: String
      if let v = inlineValue {
        value = v
      } else {
        guard i < args.count else { throw UsageError("option '--\(name)' needs a value (\(spec.valueName ?? "VALUE"))") }
        value = args[i]
        i += 1
      }
      if !spec.repeatable, parsed.values[name] != nil {
        throw UsageError("option '--\(name)' given more than once")
      }
      parsed.values[name, default: []].append(value)
    }
    if parsed.flags.contains("help") { return parsed }
    let required = command.positionals.filter { !$0.optional }.count
    let variadic = command.positionals.contains { $0.variadic }
    if parsed.positionals.count < required {
      let missing = command.positionals[parsed.positionals.count].name
      throw UsageError("missing argument \(missing)")
    }
    if !variadic, parsed.positionals.count > command.positionals.count {
      throw UsageError("unexpected argument '\(parsed.positionals[command.positionals.count])'")
    }
    return parsed
  }

  private static func isNegativeNumber(_ s: String) -> Bool {
    s.count > 1 && s.hasPrefix("-") && Double(s) != nil
  }

  // MARK: - Typed access

  func flag(_ name: String) -> Bool { flags.contains(name) }
  var json: Bool { flag("json") }

  func string(_ name: String) -> String? { values[name]?.last }
  func strings(_ name: String) -> [String] { values[name] ?? [] }

  func int(_ name: String, range: ClosedRange<Int>? = nil) throws(UsageError) -> Int? {
    guard let s = string(name) else { return nil }
    guard let v = Int(s) else { throw UsageError("--\(name): '\(s)' is not an integer") }
    if let r = range, !r.contains(v) { throw UsageError("--\(name): \(v) is outside \(r.lowerBound)...\(r.upperBound)") }
    return v
  }

  func double(_ name: String, range: ClosedRange<Double>? = nil) throws(UsageError) -> Double? {
    guard let s = string(name) else { return nil }
    guard let v = Double(s), v.isFinite else { throw UsageError("--\(name): '\(s)' is not a number") }
    if let r = range, !r.contains(v) { throw UsageError("--\(name): \(v) is outside \(r.lowerBound)...\(r.upperBound)") }
    return v
  }

  /// Parses "a,b,c,..." into exactly `count` integers.
  func intList(_ name: String, count: Int) throws(UsageError) -> [Int]? {
    guard let s = string(name) else { return nil }
    let parts = s.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard parts.count == count, parts.allSatisfy({ $0 != nil }) else {
      throw UsageError("--\(name): expected \(count) comma-separated integers, got '\(s)'")
    }
    return parts.compactMap { $0 }
  }

  /// Parses "a,b,c,..." into one or more integers, each in `range`.
  func intList(_ name: String, range: ClosedRange<Int>) throws(UsageError) -> [Int]? {
    guard let s = string(name) else { return nil }
    let parts = s.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard parts.allSatisfy({ $0.map(range.contains) ?? false }) else {
      throw UsageError("--\(name): '\(s)' is not a comma-separated list of integers in \(range.lowerBound)...\(range.upperBound)")
    }
    return parts.compactMap { $0 }
  }

  /// `--kv-cache f16|f32` (default f16).
  func kvCachePrecision() throws(UsageError) -> KVCache.Precision {
    guard let s = string("kv-cache") else { return .f16 }
    guard let p = KVCache.Precision(rawValue: s) else {
      throw UsageError("--kv-cache: '\(s)' is not one of \(KVCache.Precision.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return p
  }

  func positional(_ index: Int) -> String? { index < positionals.count ? positionals[index] : nil }
}
