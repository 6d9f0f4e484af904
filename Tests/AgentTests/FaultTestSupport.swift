import Foundation
import Imaging
import ScreenCapture
import Testing
import TestSupport
@testable import Agent

// Shared by the fault-injection suites (StoreFaultTests, DisplayFaultTests): a private Xvfb with
// several real applications, `gui-agent run` as a child, a tmpfs of a test's own, and the checks
// that a store survived.

// MARK: - Applications on a private Xvfb

/// A private 640x480 Xvfb with whichever of these are installed, tiled so that clicks and keys
/// land on real clients: the Tk canvas of `LoopRig` (a click draws a square, a key recolours it)
/// at +0+0 400x300, an xterm at the top right, xclock (its second hand moves the screen), xeyes
/// (they follow the pointer) and xlogo along the bottom. A missing program is left out.
final class AppsRig {
  let xvfb: PrivateXvfb
  let folder: TempFolder
  private(set) var apps: [Process] = []
  /// The names of the applications started (those installed).
  private(set) var started: [String] = []

  static let candidates: [(name: String, path: String, arguments: [String])] = [
    ("tk", "/usr/bin/python3", ["-c", LoopRig.appScript]),
    ("xterm", "/usr/bin/xterm", ["-geometry", "36x12+404+0"]),
    ("xclock", "/usr/bin/xclock", ["-update", "1", "-geometry", "150x150+0+320"]),
    ("xeyes", "/usr/bin/xeyes", ["-geometry", "150x150+160+320"]),
    ("xlogo", "/usr/bin/xlogo", ["-geometry", "150x150+320+320"]),
  ]

  init() throws {
    xvfb = try PrivateXvfb(arguments: ["-noreset", "-screen", "0", "640x480x24"])
    folder = try TempFolder()
    var environment = ProcessInfo.processInfo.environment
    environment["DISPLAY"] = xvfb.display
    for app in Self.candidates where FileManager.default.isExecutableFile(atPath: app.path) {
      let p = Process()
      p.executableURL = URL(fileURLWithPath: app.path)
      p.arguments = app.arguments
      p.environment = environment
      // Random clicks can reach xterm's menus ("Log to File" writes Xterm.log.* in its folder).
      p.currentDirectoryURL = folder.url
      p.standardOutput = FileHandle.nullDevice
      p.standardError = FileHandle.nullDevice
      if (try? p.run()) != nil { apps.append(p); started.append(app.name) }
    }
    // Wait (at most 20 s) until every started client has mapped a window; a slow one is not fatal.
    do {
      let display = try X11Display(display: xvfb.display)
      for _ in 0..<400 {
        if try display.windows().count >= apps.count { break }
        Thread.sleep(forTimeInterval: 0.05)
      }
    } catch {
      stop()
      throw error
    }
  }

  func stop() {
    for app in apps where app.isRunning { kill(app.processIdentifier, SIGKILL) }
    for app in apps { app.waitUntilExit() }
    xvfb.stop()
    folder.cleanup()
  }
}

// MARK: - gui-agent as a child

/// `gui-agent run TASK --plan FILE --store STORE --display D --settle MS`, started and not
/// waited for; output goes to files in `folder` (pipes could fill and block a child that is
/// then killed). `prefix` runs it under another program (setpriv).
func startAgent(task: String, plan: URL, store: URL, display: String, folder: TempFolder, settle: Int = 10,
                extra: [String] = [], prefix: [String] = []) throws -> (process: Process, stdout: URL, stderr: URL) {
  let bin = try guiAgentBinary()
  let out = folder.file("agent-\(UUID().uuidString).out"), err = folder.file("agent-\(UUID().uuidString).err")
  for file in [out, err] { try Data().write(to: file) }
  let p = Process()
  let arguments = ["run", task, "--plan", plan.path, "--store", store.path, "--display", display,
                   "--settle", "\(settle)", "--trace-out", folder.file("trace.html").path] + extra
  if let tool = prefix.first {
    p.executableURL = URL(fileURLWithPath: tool)
    p.arguments = Array(prefix.dropFirst()) + [bin.path] + arguments
  } else {
    p.executableURL = bin
    p.arguments = arguments
  }
  p.standardOutput = try FileHandle(forWritingTo: out)
  p.standardError = try FileHandle(forWritingTo: err)
  try p.run()
  return (p, out, err)
}

/// A scripted plan's JSON from its actions' JSON (docs/actions.md).
func planJSON(_ actions: [String]) -> String {
  "{\"steps\": [" + actions.map { #"{"action": \#($0)}"# }.joined(separator: ",\n") + "]}"
}

func writePlan(_ actions: [String], to file: URL) throws {
  try Data(planJSON(actions).utf8).write(to: file)
}

func text(_ url: URL) -> String { (try? String(contentsOf: url, encoding: .utf8)) ?? "" }

// MARK: - A tmpfs of the test's own

/// A tmpfs mounted on a fresh folder, for a disk that fills up or turns read-only. Needs root
/// with CAP_SYS_ADMIN (`available` tries once); CI runners without it skip these tests.
final class Tmpfs {
  let folder: TempFolder
  var url: URL { folder.url }
  private var mounted = false

  static let available: Bool = {
    guard getuid() == 0, let probe = try? Tmpfs(size: "64k") else { return false }
    probe.unmount()
    return true
  }()

  init(size: String) throws {
    folder = try TempFolder()
    let r = try runProgram(URL(fileURLWithPath: "/bin/mount"),
                           ["-t", "tmpfs", "-o", "size=\(size),mode=0755", "tmpfs", folder.url.path], timeout: 30)
    guard r.status == 0 else {
      folder.cleanup()
      throw LoopTestError("mount -t tmpfs failed (\(r.status)): \(r.stderr)")
    }
    mounted = true
  }

  func file(_ name: String) -> URL { folder.file(name) }

  /// `mount -o remount,OPTIONS`, e.g. "ro", "rw", "rw,size=4m".
  func remount(_ options: String) throws {
    let r = try runProgram(URL(fileURLWithPath: "/bin/mount"), ["-o", "remount,\(options)", folder.url.path], timeout: 30)
    guard r.status == 0 else { throw LoopTestError("mount -o remount,\(options) failed (\(r.status)): \(r.stderr)") }
  }

  func unmount() {
    if mounted { _ = try? runProgram(URL(fileURLWithPath: "/bin/umount"), ["-l", folder.url.path], timeout: 30) }
    mounted = false
    folder.cleanup()
  }
}

// MARK: - Checking a store

/// `PRAGMA integrity_check` on a connection of its own: ["ok"] for a sound file.
func integrityCheck(_ url: URL) throws -> [String] {
  try SQLiteConnection(path: url.path).query("PRAGMA integrity_check", step: "integrity_check") { $0.text(0) }
}

/// What a sound episode looks like after its process ended (killed or not): not `running`; its
/// steps numbered 0..<n; every step but possibly the last of an interrupted episode (or one the
/// full store ended) has its outcome;
/// every screenshot stored decodes as a 640x480 PNG (the screen the loop saw), and a step whose
/// outcome was written after an action that ran has its screenshot after. `plan` (the actions'
/// JSON) checks that each step recorded the action the plan gave at its index.
/// Returns a fingerprint of everything read, to compare later.
@discardableResult
func checkEpisode(_ store: EpisodeStore, _ id: Int64, plan: [String]? = nil,
                  sourceLocation: SourceLocation = #_sourceLocation) throws -> [Int] {
  let episode = try store.episode(id)
  #expect(episode.status != .running, "episode \(id) still running", sourceLocation: sourceLocation)
  let steps = try store.steps(episode: id)
  #expect(steps.map(\.index) == Array(0..<steps.count), "episode \(id): step indices", sourceLocation: sourceLocation)
  var fingerprint = [episode.status.hashValue, steps.count]
  for (i, step) in steps.enumerated() {
    let last = i == steps.count - 1
    if step.ended == nil {
      // Only the step that was running when the process died, or when the store failed.
      let cut = episode.status == .interrupted || episode.error?.contains("episode store") == true
      #expect(last && cut, "episode \(id) (\(episode.status)): step \(i) has no outcome", sourceLocation: sourceLocation)
    }
    if let plan, i < plan.count {
      let planned = try JSONDecoder().decode(AgentAction.self, from: Data(plan[i].utf8))
      #expect(step.action == planned, "episode \(id) step \(i): \(step.actionJSON ?? "nil") vs \(plan[i])",
              sourceLocation: sourceLocation)
    }
    for moment in ScreenshotMoment.allCases {
      guard let png = try store.screenshot(episode: id, step: i, moment: moment) else {
        #expect(moment == .after, "episode \(id) step \(i): no screenshot before", sourceLocation: sourceLocation)
        continue
      }
      let image = try PNG.decode(png)
      #expect(image.width == 640 && image.height == 480, "episode \(id) step \(i) \(moment)", sourceLocation: sourceLocation)
      fingerprint.append(png.hashValue)
    }
    let acted = step.ended != nil && step.error == nil && !(step.action?.isTerminal ?? true)
    if acted {
      #expect(step.screenshotAfterBytes > 0 && step.screenChanged != nil,
              "episode \(id) step \(i): outcome without the screen after", sourceLocation: sourceLocation)
    }
    fingerprint.append(step.ended == nil ? 0 : 1)
  }
  return fingerprint
}
