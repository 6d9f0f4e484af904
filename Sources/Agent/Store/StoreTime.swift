import Foundation

/// The store's time format: ISO-8601 in UTC with milliseconds, `2026-11-25T15:07:21.123Z`.
/// Fixed width, so that text order is time order (`MAX(ended)` in SQL works).
enum StoreTime {
  private static let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)

  static func string(_ date: Date) -> String { style.format(date) }

  static func date(_ text: String, _ what: @autoclosure () -> String) throws -> Date {
    guard let d = try? style.parse(text) else {
      throw AgentError.store(step: "reading \(what())", message: "time '\(text)' is not ISO-8601")
    }
    return d
  }
}
