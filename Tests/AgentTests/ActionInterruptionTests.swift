import Engine
import Foundation
import Imaging
import ScreenCapture
import Testing
@testable import Agent

/// Running actions stopped by the step deadline and by the fail-safe, against the private Xvfb
/// of `LoopRig`.
@Suite(.serialized) struct ActionInterruptionTests {
  /// Seconds `body` takes.
  private func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = ContinuousClock.now
    let value = try body()
    return (value, (ContinuousClock.now - start).seconds)
  }

  /// Moves the pointer of `display` to `corner` after `delay` seconds, from another thread and
  /// connection, as a person shoving the mouse would.
  private func shovePointer(on display: String, to corner: ScreenPoint, after delay: Double) -> Thread {
    let thread = Thread {
      Thread.sleep(forTimeInterval: delay)
      guard let person = try? X11Display(display: display) else { return }
      try? person.movePointer(to: corner)
    }
    thread.start()
    return thread
  }

  @Test func aLongWaitEndsAtTheStepTimeout() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    var settings = LoopRig.fastSettings()
    settings.stepTimeoutSeconds = 1
    let p = try plan(#"{"steps": [{"action": {"action": "wait", "seconds": 30}}]}"#)
    let (outcome, seconds) = try timed { try rig.loop(settings).run(task: "wait long", plan: p) }
    #expect(seconds < 2.5, "took \(seconds) s")  // 1 s, plus captures and durable records
    #expect(outcome.status == .failed)
    #expect(outcome.steps == 1)
    #expect(outcome.reason.hasPrefix("step 1: the step timeout of 1.0 s interrupted the wait after"), "\(outcome.reason)")
    let step = try #require(try rig.store.steps(episode: outcome.episodeId).first)
    let error = try #require(step.error)
    #expect(error.hasPrefix("the step timeout of 1.0 s interrupted the wait after"))
    #expect(error.hasSuffix(" of 30 s"))
    #expect(step.ended != nil && step.action == .wait(seconds: 30))
    #expect(try rig.store.episode(outcome.episodeId).error == outcome.reason)
  }

  @Test func theFailSafeTripsDuringALongWait() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    let p = try plan(#"{"steps": [{"action": {"action": "wait", "seconds": 30}}, {"action": {"action": "finished"}}]}"#)
    let person = shovePointer(on: rig.xvfb.display, to: ScreenPoint(x: 639, y: 479), after: 0.5)
    let (outcome, seconds) = try timed { try rig.loop().run(task: "wait, then stop", plan: p) }
    while !person.isFinished { usleep(1000) }
    #expect(seconds < 2.5, "took \(seconds) s")  // 1 s, plus captures and durable records
    #expect(outcome.status == .stopped)
    #expect(outcome.steps == 1)
    let step = try #require(try rig.store.steps(episode: outcome.episodeId).first)
    let error = try #require(step.error)
    #expect(error.hasPrefix("fail-safe: the pointer was moved to the bottom-right corner (639, 479)"), "\(error)")
    #expect(error.contains("(the wait was interrupted after "))
    #expect(outcome.reason == error)
    #expect(try rig.store.episode(outcome.episodeId).status == .stopped)
  }

  @Test func longTypingEndsAtTheStepTimeout() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    var settings = LoopRig.fastSettings()
    settings.stepTimeoutSeconds = 1
    // 2000 keys take at least 8 s at the rig's 4 ms key delay.
    let text = String(repeating: "abcd", count: 500)
    let p = try plan(#"{"steps": [{"action": {"action": "type", "text": "\#(text)"}}]}"#)
    let (outcome, seconds) = try timed { try rig.loop(settings).run(task: "type long", plan: p) }
    #expect(seconds < 2.5, "took \(seconds) s")
    #expect(outcome.status == .failed)
    let step = try #require(try rig.store.steps(episode: outcome.episodeId).first)
    let error = try #require(step.error)
    #expect(error.hasPrefix("the step timeout of 1.0 s interrupted the type after "), "\(error)")
    #expect(error.hasSuffix(" of 2000 characters typed"))
    // Part of the text was typed (each key recolours the Tk window): the record keeps that screen.
    #expect(step.screenChanged == true)
    #expect(try rig.store.screenshot(episode: outcome.episodeId, step: 0, moment: .after) != nil)
  }

  @Test func theFailSafeTripsWhileTyping() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    let text = String(repeating: "abcd", count: 500)
    let p = try plan(#"{"steps": [{"action": {"action": "type", "text": "\#(text)"}}]}"#)
    let person = shovePointer(on: rig.xvfb.display, to: ScreenPoint(x: 0, y: 0), after: 0.5)
    let (outcome, seconds) = try timed { try rig.loop().run(task: "type, then stop", plan: p) }
    while !person.isFinished { usleep(1000) }
    #expect(seconds < 2.5, "took \(seconds) s")
    #expect(outcome.status == .stopped)
    let error = try #require(try rig.store.steps(episode: outcome.episodeId).first?.error)
    #expect(error.hasPrefix("fail-safe: the pointer was moved to the top-left corner (0, 0)"), "\(error)")
    #expect(error.contains("(the type was interrupted after "))
    #expect(error.hasSuffix(" of 2000 characters typed)"))
  }

  @Test func aDragEndingInACornerDoesNotTripTheFailSafe() throws {
    let rig = try LoopRig()
    defer { rig.stop() }
    // Every motion step is where the drag put the pointer, the last one a corner.
    let p = try plan("""
      {"steps": [{"action": {"action": "drag", "from": {"point": [300, 200]}, "to": {"point": [639, 479]}}},
                 {"action": {"action": "wait", "seconds": 0.2}}]}
      """)
    let outcome = try rig.loop().run(task: "drag to the corner", plan: p)
    #expect(outcome.status == .succeeded, "\(outcome.reason)")
    #expect(try rig.store.steps(episode: outcome.episodeId).map(\.error) == [nil, nil])
  }
}
