import Foundation
import Imaging
import ScreenCapture

// MARK: - Stopping a running action

/// What may stop an action while it runs: the step deadline, the episode deadline, the
/// fail-safe and a lost X connection. Asked every wait slice, after every motion step of a drag
/// and between the keys of typed text (through `X11Display`'s `InputInterruption`).
struct ActionWatch {
  let display: X11Display
  let stepDeadline: ContinuousClock.Instant
  let episodeDeadline: ContinuousClock.Instant
  let stepTimeoutSeconds: Double
  let episodeTimeoutSeconds: Double
  /// Nil when the fail-safe is off.
  let failSafe: FailSafe?
  /// Where the agent's input left the pointer before this action (that corner is not the user's).
  let agentPointer: ScreenPoint?

  init(display: X11Display, settings: AgentSettings, stepDeadline: ContinuousClock.Instant,
       episodeDeadline: ContinuousClock.Instant, agentPointer: ScreenPoint?) {
    self.display = display
    self.stepDeadline = stepDeadline
    self.episodeDeadline = episodeDeadline
    stepTimeoutSeconds = settings.stepTimeoutSeconds
    episodeTimeoutSeconds = settings.episodeTimeoutSeconds
    failSafe = settings.failSafe ? FailSafe(margin: settings.failSafeMargin) : nil
    self.agentPointer = agentPointer
  }

  /// Why the action must stop now, or nil. `put` is where the action itself last put the
  /// pointer (a drag's motion step); nil when it has not moved it.
  func check(pointerWasPutAt put: ScreenPoint?) -> Interruption? {
    let now = ContinuousClock.now
    if now >= episodeDeadline { return Interruption(.deadline, "the episode timeout of \(episodeTimeoutSeconds) s") }
    if now >= stepDeadline { return Interruption(.deadline, "the step timeout of \(stepTimeoutSeconds) s") }
    // The pointer query (one round trip) is also how a long wait learns that the X server went
    // away; any other X error here is left to the action itself, which talks to the same display.
    let pointer: ScreenPoint?
    do throws(ScreenCaptureError) {
      pointer = try display.pointerPosition()
    } catch {
      if case .connectionLost = error { return Interruption(.displayLost, error.localizedDescription) }
      pointer = nil
    }
    if let failSafe, let pointer,
       let tripped = failSafe.tripped(pointer: pointer, screen: display.screenRect, agentPointer: put ?? agentPointer) {
      return Interruption(.failSafe, tripped)
    }
    return nil
  }
}

/// Why a watch stopped an action.
struct Interruption: Equatable {
  enum Cause { case deadline, failSafe, displayLost }
  let cause: Cause
  /// "the step timeout of 300 s", the fail-safe's message, or the lost connection's.
  let reason: String
  init(_ cause: Cause, _ reason: String) { self.cause = cause; self.reason = reason }
}

/// An action stopped while it ran; what it held was released first.
struct ActionInterrupted: Error {
  let interruption: Interruption
  /// The action's name (`wait`, `drag`, `type`).
  let action: String
  /// What part ran: "1.02 of 30 s", "12 of 64 motion steps of the drag (button 1 released)".
  let done: String

  /// The step's error: the cause first, so that a fail-safe record starts with "fail-safe" and a
  /// lost display's with "lost the connection".
  var message: String {
    switch interruption.cause {
    case .deadline: "\(interruption.reason) interrupted the \(action) after \(done)"
    case .failSafe, .displayLost: "\(interruption.reason) (the \(action) was interrupted after \(done))"
    }
  }
}
