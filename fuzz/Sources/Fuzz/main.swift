import CFuzzerDriver
import Foundation

// `Fuzz <target> [libFuzzer flags and corpus folders]`, or `FUZZ_TARGET=<target> Fuzz [...]`
// (the environment form survives libFuzzer's -fork/-jobs, which re-run argv without the name).
// `Fuzz --list` prints the targets. SwiftPM renames an executable's `main`, so libFuzzer's own
// `main` never runs; this one hands the remaining arguments to `LLVMFuzzerRunDriver`.

var arguments = CommandLine.arguments
let environmentTarget = ProcessInfo.processInfo.environment["FUZZ_TARGET"].flatMap { $0.isEmpty ? nil : $0 }
let name: String
if let environmentTarget {
  name = environmentTarget
} else if arguments.count >= 2, !arguments[1].hasPrefix("-") {
  name = arguments.remove(at: 1)
} else {
  name = arguments.count >= 2 && arguments[1] == "--list" ? "--list" : ""
}

if name == "--list" || name.isEmpty {
  let out = name.isEmpty ? FileHandle.standardError : FileHandle.standardOutput
  if name.isEmpty { out.write(Data("usage: Fuzz <target> [libFuzzer flags] [corpus folders]\n\ntargets:\n".utf8)) }
  for t in FuzzTarget.all { out.write(Data("  \(t.name.padding(toLength: 18, withPad: " ", startingAt: 0))\(t.summary)\n".utf8)) }
  exit(name.isEmpty ? 2 : 0)
}
guard let target = FuzzTarget.named(name) else {
  FileHandle.standardError.write(Data("unknown fuzz target '\(name)' (Fuzz --list names them)\n".utf8))
  exit(2)
}
FuzzTarget.selected = target
target.prepare()

// Defaults unless the command line sets them. Bounds per input: the target's realistic size,
// 10 s, 2 GB; a slower input, or a larger allocation (a lying header), is a finding. And the
// target's dictionary of tokens for the mutator.
let dictionary = repositoryRoot.appendingPathComponent("fuzz/dict/\(target.dictionary).dict").path
var defaults = [("-max_len", "\(target.maxLength)"), ("-timeout", "10"), ("-rss_limit_mb", "2048")]
if FileManager.default.fileExists(atPath: dictionary) { defaults.append(("-dict", dictionary)) }
for (flag, value) in defaults where !arguments.contains(where: { $0.hasPrefix(flag + "=") }) {
  arguments.insert("\(flag)=\(value)", at: 1)
}

// libFuzzer keeps argv for the life of the process: strdup'd strings, never freed.
let strings = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: arguments.count + 1)
for (i, a) in arguments.enumerated() { strings[i] = strdup(a) }
strings[arguments.count] = nil
var argc = Int32(arguments.count)
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = strings
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput))
