import Foundation

// MARK: - Targets

/// One fuzz target: a name for the command line, what it covers, and the body run on each input.
///
/// A body calls the product's real entry point and ignores thrown errors: a clear error is the
/// expected answer to a bad input. Anything else (a trap, an out-of-bounds read, a hang or an
/// allocation past `-rss_limit_mb`) is a finding that libFuzzer reports and saves.
struct FuzzTarget: Sendable {
  let name: String
  let summary: String
  /// The default `-max_len`: about the size of a realistic input of this kind.
  let maxLength: Int
  /// The default `-dict`: `fuzz/dict/<dictionary>.dict` (written by make-corpus.py).
  let dictionary: String
  /// One-time set-up before the first input (a model, a scratch folder).
  let prepare: @Sendable () -> Void
  let run: @Sendable (Data) -> Void

  init(_ name: String, _ summary: String, maxLength: Int, dictionary: String,
       prepare: @escaping @Sendable () -> Void = {}, run: @escaping @Sendable (Data) -> Void) {
    self.name = name; self.summary = summary; self.maxLength = maxLength; self.dictionary = dictionary
    self.prepare = prepare; self.run = run
  }

  /// Every target, in the order `make fuzz` runs them.
  static let all: [FuzzTarget] = weightTargets + modelFileTargets + imageTargets + groundingTargets
    + agentTargets + serviceTargets + screenTextTargets

  static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }

  /// The target this process runs (set once in main, before libFuzzer starts).
  nonisolated(unsafe) static var selected: FuzzTarget?
}

/// libFuzzer's callback: one input to the selected target. Always 0 (keep the input if it is new).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  guard let target = FuzzTarget.selected else { return 0 }
  let bytes = data.map { Data(bytes: $0, count: size) } ?? Data()
  target.run(bytes)
  return 0
}

// MARK: - Helpers

/// Runs one call of the product; a thrown error is the expected answer to a bad input and gives
/// nil. With FUZZ_VERBOSE=1 the error is printed (to see why a seed is refused).
func attempt<T>(_ what: String, _ body: () throws -> T) -> T? {
  do { return try body() } catch {
    if verbose { FileHandle.standardError.write(Data("\(what): \(error.localizedDescription)\n".utf8)) }
    return nil
  }
}

let verbose = ProcessInfo.processInfo.environment["FUZZ_VERBOSE"] == "1"

/// The input as text, the way a model's output or a file's contents reach a parser: invalid
/// UTF-8 becomes U+FFFD.
func text(_ data: Data) -> String { String(decoding: data, as: UTF8.self) }

/// A folder of this process's own for parsers that read a path: created on first use, removed at
/// exit. Each input overwrites the same files.
enum Scratch {
  static let folder: URL = {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("gui-agent-fuzz-\(getpid())")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(at: Scratch.folder) }
    return url
  }()

  /// Writes `data` to `name` in the scratch folder and returns its path.
  static func write(_ data: Data, as name: String) -> URL {
    let url = folder.appendingPathComponent(name)
    do { try data.write(to: url) } catch {
      fatalError("fuzz harness: cannot write \(url.path): \(error)")  // the harness, not the product
    }
    return url
  }
}

/// The repository root, from this file's path at build time (`fuzz/Sources/Fuzz/`); FUZZ_REPO
/// overrides it when the binary runs elsewhere.
let repositoryRoot: URL = {
  if let root = ProcessInfo.processInfo.environment["FUZZ_REPO"], !root.isEmpty { return URL(fileURLWithPath: root) }
  return URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../..").standardized
}()
