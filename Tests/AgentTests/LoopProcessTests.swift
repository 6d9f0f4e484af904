import Foundation
import Imaging
import Testing
import TestSupport
@testable import Agent

/// `gui-agent run` and `gui-agent episodes` as child processes: a run killed with SIGKILL
/// mid-episode, the listing, the exports, and the HTML trace in a real browser.
@Suite(.serialized) struct LoopProcessTests {
  @Test func killedRunLeavesEveryCommittedStepAndAnInterruptedEpisode() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    let planFile = rig.folder.file("slow.json")
    try Data("""
      {"steps": [{"action": {"action": "click", "target": {"point": [100, 100]}}},
                 {"action": {"action": "wait", "seconds": 0.1}},
                 {"action": {"action": "wait", "seconds": 60}},
                 {"action": {"action": "finished"}}]}
      """.utf8).write(to: planFile)
    let storeFile = rig.folder.file("killed.sqlite")
    let child = Process()
    child.executableURL = try guiAgentBinary()
    child.arguments = ["run", "slow task", "--plan", planFile.path, "--store", storeFile.path,
                       "--display", rig.xvfb.display, "--settle", "50"]
    child.standardOutput = FileHandle.nullDevice
    child.standardError = FileHandle.nullDevice
    try child.run()
    // Wait until the third step (the long wait) has committed its intent, then kill.
    var stepsSeen = 0
    let limit = Date().addingTimeInterval(30)
    while stepsSeen < 3, Date() < limit {
      Thread.sleep(forTimeInterval: 0.05)
      if FileManager.default.fileExists(atPath: storeFile.path), let s = try? EpisodeStore(path: storeFile),
         let e = try? s.episodes().first {
        stepsSeen = e.stepCount
      }
    }
    #expect(stepsSeen == 3)
    kill(child.processIdentifier, SIGKILL)
    child.waitUntilExit()
    #expect(child.terminationReason == .uncaughtSignal)
    let store = try EpisodeStore(path: storeFile)
    let episode = try #require(try store.episodes().first)
    #expect(episode.status == .interrupted)
    let steps = try store.steps(episode: episode.id)
    #expect(steps.map { $0.action?.name } == ["click", "wait", "wait"])
    #expect(steps[0].ended != nil && steps[0].screenChanged == true)
    #expect(steps[1].ended != nil)
    #expect(steps[2].ended == nil)  // its outcome never came
    #expect(try store.screenshot(episode: episode.id, step: 2, moment: .before) != nil)
    #expect(try store.episode(episode.id).error?.contains("\(child.processIdentifier)") == true)
  }

  @Test func runListShowExportRemove() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    let bin = try guiAgentBinary()
    let planFile = rig.folder.file("plan.json")
    try Data(#"{"steps": [{"action": {"action": "click", "target": {"point": [50, 60]}}}, {"action": {"action": "finished", "summary": "ok"}}]}"#.utf8)
      .write(to: planFile)
    let storePath = rig.folder.file("cli.sqlite").path
    let trace = rig.folder.file("trace.html")
    let run = try runProgram(bin, ["run", "click <here> & there", "--plan", planFile.path, "--store", storePath,
                                   "--display", rig.xvfb.display, "--settle", "50", "--trace-out", trace.path, "--json"])
    #expect(run.status == 0, "\(run.stderr)")
    let result = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    #expect(result["status"] as? String == "succeeded")
    #expect(result["trace"] as? String == trace.path)
    #expect(FileManager.default.fileExists(atPath: trace.path))
    let id = try #require(result["episode"] as? Int)

    let list = try runProgram(bin, ["episodes", "list", "--store", storePath, "--json"])
    let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
    #expect(rows.count == 1)
    #expect(Set(rows[0].keys) == ["id", "task", "status", "steps", "started", "ended"])
    #expect(rows[0]["task"] as? String == "click <here> & there")
    #expect(rows[0]["steps"] as? Int == 2)
    #expect((rows[0]["started"] as? String)?.hasSuffix("Z") == true)

    let show = try runProgram(bin, ["episodes", "show", "\(id)", "--store", storePath])
    #expect(show.stdout.contains("point: (50, 60)") && show.stdout.contains("summary: ok"), "\(show.stdout)")
    let shown = try runProgram(bin, ["episodes", "show", "\(id)", "--store", storePath, "--json"])
    let object = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])
    let settings = try #require((object["episode"] as? [String: Any])?["settings"] as? [String: Any])
    #expect((settings["settings"] as? [String: Any])?["maxSteps"] as? Int == 25)
    #expect((object["steps"] as? [[String: Any]])?.count == 2)

    let jsonl = rig.folder.file("jsonl")
    #expect(try runProgram(bin, ["episodes", "export", "\(id)", "--format", "jsonl", "-o", jsonl.path, "--store", storePath]).status == 0)
    let lines = try String(contentsOf: jsonl.appendingPathComponent("steps.jsonl"), encoding: .utf8).split(separator: "\n")
    #expect(lines.count == 2)
    let osworld = rig.folder.file("osworld")
    #expect(try runProgram(bin, ["episodes", "export", "\(id)", "--format", "osworld", "-o", osworld.path, "--store", storePath]).status == 0)
    #expect(FileManager.default.fileExists(atPath: osworld.appendingPathComponent("traj.jsonl").path))
    #expect(try runProgram(bin, ["episodes", "export", "\(id)", "--format", "pdf", "--store", storePath]).status == 2)

    #expect(try runProgram(bin, ["episodes", "rm", "\(id)", "--store", storePath]).status == 0)
    let gone = try runProgram(bin, ["episodes", "show", "\(id)", "--store", storePath])
    #expect(gone.status == 1 && gone.stderr.contains("no episode with id \(id)"))
  }

  @Test func htmlTraceRendersInHeadlessChromium() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    let p = try plan("""
      {"steps": [{"action": {"action": "click", "target": {"point": [100, 100]}}},
                 {"action": {"action": "hotkey", "keys": ["ctrl", "alt", "Delete"]}},
                 {"action": {"action": "finished", "summary": "drawn"}}]}
      """)
    let task = "Draw a square <b>now</b>"
    let outcome = try rig.loop().run(task: task, plan: p)
    let page = rig.folder.file("trace.html")
    try rig.store.exportHTML(episode: outcome.episodeId, to: page)
    let shot = rig.folder.file("page.png")
    var common = ["--headless", "--disable-gpu", "--no-first-run", "--user-data-dir=\(rig.folder.file("chromium").path)"]
    if getuid() == 0 { common.append("--no-sandbox") }  // Chromium refuses to run as root otherwise
    let chromium = URL(fileURLWithPath: "/usr/bin/chromium")
    let r = try runProgram(chromium, common + ["--screenshot=\(shot.path)", "--window-size=1280,2000", page.absoluteString])
    #expect(r.status == 0, "\(r.stderr.suffix(2000))")
    let image = try PNG.read(path: shot.path)
    #expect(image.width == 1280 && image.height == 2000)
    // Not blank: the page has text and the screenshots, so many distinct colours.
    var colours = Set<UInt32>()
    for i in stride(from: 0, to: image.pixels.count, by: 3 * 97) {
      colours.insert(UInt32(image.pixels[i]) << 16 | UInt32(image.pixels[i + 1]) << 8 | UInt32(image.pixels[i + 2]))
    }
    #expect(colours.count > 8, "\(colours.count) colours")
    let dom = try runProgram(chromium, common + ["--dump-dom", page.absoluteString])
    #expect(dom.status == 0)
    #expect(dom.stdout.contains("Draw a square &lt;b&gt;now&lt;/b&gt;"))
    #expect(dom.stdout.contains("click(start_box='(100,100)')"))
    #expect(dom.stdout.contains("refused: key combination"))
  }
}

extension LoopProcessTests {
  @Test func ctrlCStopsAfterTheStepAndRecordsTheEpisodeAsStopped() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    let planFile = rig.folder.file("waits.json")
    let wait = #"{"action": {"action": "wait", "seconds": 0.3}}"#
    try Data((#"{"steps": ["# + Array(repeating: wait, count: 40).joined(separator: ",") + "]}").utf8).write(to: planFile)
    let storeFile = rig.folder.file("sigint.sqlite")
    let child = Process()
    child.executableURL = try guiAgentBinary()
    child.arguments = ["run", "wait a while", "--plan", planFile.path, "--store", storeFile.path,
                       "--display", rig.xvfb.display, "--settle", "0"]
    let out = Pipe()
    child.standardOutput = out
    child.standardError = FileHandle.nullDevice
    try child.run()
    var stepsSeen = 0
    let limit = Date().addingTimeInterval(30)
    while stepsSeen < 1, Date() < limit {
      Thread.sleep(forTimeInterval: 0.05)
      if let s = try? EpisodeStore(path: storeFile), let e = try? s.episodes().first { stepsSeen = e.stepCount }
    }
    kill(child.processIdentifier, SIGINT)
    let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    child.waitUntilExit()
    #expect(child.terminationReason == .exit && child.terminationStatus == 1)
    #expect(printed.contains("stopped") && printed.contains("trace: "), "\(printed)")
    let store = try EpisodeStore(path: storeFile)
    let episode = try #require(try store.episodes().first)
    #expect(episode.status == .stopped)
    #expect(episode.stepCount >= 1 && episode.stepCount < 40)
    #expect(try store.steps(episode: episode.id).allSatisfy { $0.ended != nil })
  }
}
