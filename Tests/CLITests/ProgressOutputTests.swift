import Foundation
import Testing
import TestSupport

/// The progress line of `eval screenspot` as a user sees it: drawn on a terminal (a pseudo-terminal
/// made by util-linux's `script`), absent on a pipe and with --quiet.
@Suite struct ProgressOutputTests {
  func screenspotArguments(_ extra: [String]) -> [String] {
    ["eval", "screenspot", "--data", EvalCommandTests.mini.appendingPathComponent("screenspot_mini.json").path,
     "--images", EvalCommandTests.mini.path, "--baseline", "center"] + extra
  }

  /// Runs gui-agent with its standard streams on a pseudo-terminal; returns what the terminal showed.
  func onTerminal(_ args: [String]) throws -> ProcessResult {
    let script = try #require(["/usr/bin/script", "/bin/script"].first { FileManager.default.isExecutableFile(atPath: $0) },
                              "util-linux's script is not installed")
    let command = ([try guiAgentBinary().path] + args).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
      .joined(separator: " ")
    return try runProgram(URL(fileURLWithPath: script), ["-qec", command, "/dev/null"], timeout: 120)
  }

  @Test func noProgressOnAPipe() throws {
    let r = try CLI.run(screenspotArguments([]))
    #expect(r.status == 0, "\(r.stderr)")
    #expect(!r.stderr.contains("\r") && !r.stderr.contains("screenspot v1 ["), "\(r.stderr)")
    #expect(r.stdout.contains("overall"))
  }

  @Test func progressOnATerminal() throws {
    let r = try onTerminal(screenspotArguments([]))
    #expect(r.status == 0, "\(r.stdout)")
    // Redrawn in place, ending with the count of all 15 samples and the time taken.
    #expect(r.stdout.contains("\r\u{1B}[Kscreenspot v1 ["), "\(r.stdout)")
    #expect(r.stdout.contains("15/15 100%") && r.stdout.contains("done in"), "\(r.stdout)")
    #expect(r.stdout.contains("overall"))
  }

  /// Loading the embedded model draws its own line, counted in the checkpoint's tensors.
  @Test func modelLoadOnATerminal() throws {
    let model = URL(fileURLWithPath: DefaultModelTests.embedded)
    let weights = try Data(contentsOf: model.appendingPathComponent("model.safetensors"))
    // safetensors: an 8-byte little-endian header length, then a JSON object of tensors and __metadata__.
    let length = weights.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    let header = try #require(try JSONSerialization.jsonObject(with: weights.subdata(in: 8..<8 + length)) as? [String: Any])
    let tensors = header.keys.filter { $0 != "__metadata__" }.count
    let r = try onTerminal(["eval", "screenspot", "--data", EvalCommandTests.mini.appendingPathComponent("screenspot_mini.json").path,
                            "--images", EvalCommandTests.mini.path, "--model", model.path, "--limit", "1", "--threads", "1"])
    #expect(r.status == 0, "\(r.stdout)")
    #expect(r.stdout.contains("\r\u{1B}[Kloading bluelm-vl-nano ["), "\(r.stdout)")
    #expect(r.stdout.contains("\(tensors)/\(tensors) 100%"), "\(tensors) tensors: \(r.stdout)")
  }

  @Test func quietOnATerminal() throws {
    for flag in ["--quiet", "-q"] {
      let r = try onTerminal(screenspotArguments([flag]))
      #expect(r.status == 0, "\(r.stdout)")
      #expect(!r.stdout.contains("screenspot v1 [") && !r.stdout.contains("\r\u{1B}[K"), "\(flag): \(r.stdout)")
      #expect(r.stdout.contains("overall"))
    }
  }
}
