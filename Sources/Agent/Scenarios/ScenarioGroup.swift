import CSpawn
import Foundation

// MARK: - One process group per scenario

/// Every process a scenario starts (Xvfb, its applications, its check) lives in one process
/// group of its own, led by a guard process (`cspawn_guard`) that SIGKILLs the whole group when
/// the runner closes the guard's pipe or dies, kill -9 included. Each direct child also has
/// SIGKILL as its parent-death signal. Children are reaped by pid with `waitpid`, never through
/// Foundation's `Process`, whose exit detection on Linux waits for a socket that any grandchild
/// (`sh -c "app &"`) keeps open: the runner then waited forever on an unreaped zombie.
///
/// Children must be started from the thread that later calls ``stop(grace:)``: Linux sends
/// the parent-death signal when the spawning thread exits. The runner runs a scenario on one
/// thread from start to clean-up.
final class ScenarioGroup {
  /// The guard's pid, which is the group's id.
  let id: pid_t
  private var guardPipe: Int32
  private var children: [ScenarioChild] = []
  private var stopped = false

  /// - Throws: `AgentError.invalidArgument` when the guard cannot be forked.
  init() throws {
    var pipe: Int32 = -1
    let pid = cspawn_guard(&pipe)
    guard pid > 0 else {
      throw AgentError.invalidArgument("cannot start a process group for the scenario: \(String(cString: strerror(-pid)))")
    }
    id = pid
    guardPipe = pipe
  }

  /// Starts `command` (its program looked up on the `PATH` of `environment` unless it has a
  /// slash) in the group, with `environment` as its whole environment.
  /// - Throws: `AgentError.invalidArgument` naming the command and the reason it cannot start.
  func spawn(_ command: [String], environment: [String: String], stdin: Int32, stdout: Int32, stderr: Int32,
             directory: URL? = nil) throws -> ScenarioChild {
    let shown = command.joined(separator: " ")
    guard !stopped else { throw AgentError.invalidArgument("\(shown) cannot be started: the scenario has stopped") }
    guard let program = command.first, !program.isEmpty else {
      throw AgentError.invalidArgument("an app of the scenario has an empty command")
    }
    guard let path = Self.locate(program, searchPath: environment["PATH"]) else {
      throw AgentError.invalidArgument("\(shown) cannot be started: \(program) is not an executable file"
                                         + (program.contains("/") ? "" : " on PATH"))
    }
    let argv = CStrings(command)
    let envp = CStrings(environment.map { "\($0.key)=\($0.value)" }.sorted())
    let pid = path.withCString { p in
      directory.map { $0.path }.withOptionalCString { dir in
        cspawn_child(p, argv.pointers, envp.pointers, id, stdin, stdout, stderr, dir)
      }
    }
    guard pid > 0 else {
      throw AgentError.invalidArgument("\(shown) cannot be started: \(String(cString: strerror(-pid)))")
    }
    let child = ScenarioChild(pid: pid)
    children.append(child)
    return child
  }

  /// SIGTERM to the group, up to `grace` seconds for the children to exit, then SIGKILL to the
  /// group (the guard included, and whatever ignored SIGTERM) and every direct child reaped.
  /// Bounded: a child still unreaped 3 s after SIGKILL (stuck in the kernel) is left behind.
  func stop(grace: Double = 1) {
    guard !stopped else { return }
    stopped = true
    killpg(id, SIGTERM)  // the guard ignores it
    let graceEnd = Date().addingTimeInterval(grace)
    while children.contains(where: \.isRunning), Date() < graceEnd { usleep(20_000) }
    killpg(id, SIGKILL)
    close(guardPipe)
    guardPipe = -1
    let guardChild = ScenarioChild(pid: id)
    let reapEnd = Date().addingTimeInterval(3)
    while (children + [guardChild]).contains(where: \.isRunning), Date() < reapEnd { usleep(10_000) }
  }

  deinit { stop() }

  /// `program` itself when it has a slash, else the first executable `dir/program` on `searchPath`.
  static func locate(_ program: String, searchPath: String?) -> String? {
    if program.contains("/") { return access(program, X_OK) == 0 ? program : nil }
    let dirs = (searchPath ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":", omittingEmptySubsequences: false)
    for dir in dirs {
      let candidate = (dir.isEmpty ? "." : String(dir)) + "/" + program
      var info = stat()
      if stat(candidate, &info) == 0, info.st_mode & 0o170000 == 0o100000, access(candidate, X_OK) == 0 { return candidate }
    }
    return nil
  }
}

// MARK: - Children

/// A direct child of the runner, reaped by pid.
final class ScenarioChild {
  let pid: pid_t
  /// The raw wait status, once reaped.
  private(set) var waitStatus: Int32?

  init(pid: pid_t) { self.pid = pid }

  /// Reaps the child if it has exited; true while it has not.
  var isRunning: Bool {
    guard waitStatus == nil else { return false }
    var status: Int32 = 0
    let r = waitpid(pid, &status, WNOHANG)
    if r == pid { waitStatus = status } else if r < 0, errno == ECHILD { waitStatus = -1 }
    return waitStatus == nil
  }

  /// The exit code, or 128 + the signal that ended it (as a shell reports it); nil while running.
  var exitStatus: Int32? {
    guard !isRunning, let s = waitStatus else { return nil }
    if s < 0 { return -1 }
    return s & 0x7f == 0 ? (s >> 8) & 0xff : 128 + (s & 0x7f)
  }
}

/// NUL-terminated C strings for `argv` and `envp`, freed with this value.
private final class CStrings {
  let pointers: [UnsafeMutablePointer<CChar>?]

  init(_ strings: [String]) { pointers = strings.map { strdup($0) } + [nil] }

  deinit { for p in pointers { free(p) } }
}

extension Optional where Wrapped == String {
  fileprivate func withOptionalCString<R>(_ body: (UnsafePointer<CChar>?) -> R) -> R {
    switch self {
    case let .some(s): s.withCString { body($0) }
    case .none: body(nil)
    }
  }
}
