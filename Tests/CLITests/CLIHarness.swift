import Foundation
import TestSupport

/// Runs the built `gui-agent` binary (it sits next to the test bundle in the build folder) and
/// collects its exit status and output.
struct CLIResult {
  let status: Int32
  let stdout: String
  let stderr: String
  /// Standard output parsed as one JSON object.
  func json() throws -> [String: Any] {
    guard let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any] else {
      throw CLIHarnessError("stdout is not a JSON object: \(stdout)")
    }
    return object
  }
}

struct CLIHarnessError: Error, CustomStringConvertible {
  let description: String
  init(_ d: String) { description = d }
}

enum CLI {
  static func run(_ args: [String], environment: [String: String]? = nil, stdin: Data? = nil) throws -> CLIResult {
    let r = try runProgram(try guiAgentBinary(), args, environment: environment, stdin: stdin)
    return CLIResult(status: r.status, stdout: r.stdout, stderr: r.stderr)
  }
}
