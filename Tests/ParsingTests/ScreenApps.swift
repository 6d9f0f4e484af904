import Foundation
import Imaging
import ScreenCapture
import TestSupport

/// A real X11 program on an Xvfb of the test's own, and what it says about its own layout.
final class ScreenApp {
  let server: PrivateXvfb
  let process = Process()
  private let output = Pipe()
  private var said = Data()

  /// Starts Xvfb (1280x800) and `arguments` on it; the program's standard output is kept.
  init(_ arguments: [String]) throws {
    server = try PrivateXvfb(arguments: ["-screen", "0", "1280x800x24"])
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment
    environment["DISPLAY"] = server.display
    environment["NO_AT_BRIDGE"] = "1"
    environment["GSETTINGS_BACKEND"] = "memory"
    process.environment = environment
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch {
      server.stop()
      throw error
    }
  }

  /// The program's standard output up to and including the line `marker`.
  func lines(until marker: String, timeout: Double = 30) throws -> [String] {
    // availableData blocks: a program that stays silent is killed at the deadline, which ends the read.
    let killer = DispatchWorkItem { [process] in if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
    defer { killer.cancel() }
    while true {
      let lines = String(decoding: said, as: UTF8.self).split(separator: "\n").map(String.init)
      if let end = lines.firstIndex(of: marker) { return Array(lines[..<end]) }
      guard process.isRunning else { break }
      let chunk = output.fileHandleForReading.availableData
      if chunk.isEmpty { break }
      said.append(chunk)
    }
    throw ScreenAppError("\(process.arguments ?? []) did not print '\(marker)' (said: \(String(decoding: said, as: UTF8.self)))")
  }

  /// The geometry of the first window named `name`, waiting for it to be mapped (xdotool, xwininfo).
  func windowRect(named name: String) throws -> PixelRect {
    let env = ["DISPLAY": server.display, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"]
    let search = try runProgram(URL(fileURLWithPath: "/usr/bin/env"),
                                ["timeout", "30", "xdotool", "search", "--sync", "--onlyvisible", "--name", name],
                                environment: env)
    guard let id = search.stdout.split(separator: "\n").first else { throw ScreenAppError("no window named \(name): \(search.stderr)") }
    let info = try runProgram(URL(fileURLWithPath: "/usr/bin/env"), ["xwininfo", "-id", String(id)], environment: env)
    func value(_ key: String) throws -> Int {
      guard let line = info.stdout.split(separator: "\n").first(where: { $0.contains(key) }),
            let v = Int(line.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "")
      else { throw ScreenAppError("xwininfo gave no '\(key)': \(info.stdout)") }
      return v
    }
    return PixelRect(x: try value("Absolute upper-left X"), y: try value("Absolute upper-left Y"),
                     width: try value("Width"), height: try value("Height"))
  }

  /// The whole screen as the X server has it now.
  func capture() throws -> RGBImage { try X11Display(display: server.display).capture(.screen) }

  /// SIGKILL, then a bounded wait: Foundation has been seen to miss the exit of a killed xterm,
  /// and `waitUntilExit()` would then never return.
  func stop() {
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    let deadline = Date().addingTimeInterval(5)
    while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    server.stop()
  }
}

struct ScreenAppError: Error, CustomStringConvertible {
  let description: String
  init(_ d: String) { description = d }
}

extension PixelRect {
  /// Whether `other` lies inside this rectangle grown by `tolerance` pixels on every side.
  func contains(_ other: PixelRect, tolerance: Int) -> Bool {
    other.x >= x - tolerance && other.y >= y - tolerance
      && other.x + other.width <= x + width + tolerance && other.y + other.height <= y + height + tolerance
  }
}

/// 1 minus the edit distance over the longer length: 1 for equal strings, 0 for nothing in
/// common. OCR misreads a letter here and there; a test asks for the text, not for every glyph.
func similarity(_ a: String, _ b: String) -> Double {
  let a = Array(a), b = Array(b)
  guard !a.isEmpty, !b.isEmpty else { return a.isEmpty && b.isEmpty ? 1 : 0 }
  // Levenshtein, one row at a time: row[j] is the distance from a[..<i] to b[..<j].
  var row = Array(0...b.count)
  for i in 1...a.count {
    var diagonal = row[0]
    row[0] = i
    for j in 1...b.count {
      let substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)
      diagonal = row[j]
      row[j] = min(substitution, row[j] + 1, row[j - 1] + 1)
    }
  }
  return 1 - Double(row[b.count]) / Double(max(a.count, b.count))
}

extension Sequence {
  /// The element whose `text` is most like `expected`, when it is at least `minimum` alike.
  func closest(to expected: String, minimum: Double = 0.8, text: (Element) -> String) -> Element? {
    self.map { ($0, similarity(text($0), expected)) }.filter { $0.1 >= minimum }.max { $0.1 < $1.1 }?.0
  }
}
