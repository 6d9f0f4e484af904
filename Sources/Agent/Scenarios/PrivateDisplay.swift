import Foundation

/// An Xvfb of this process's own, for a batch of agent runs (`gui-agent run --tasks`): each
/// shard of a cluster job gets a server no other shard or user shares. It lives in a process
/// group of its own like a scenario's (see ``ScenarioGroup``), so it goes when ``stop()`` is
/// called or this process dies, kill -9 included.
///
/// Start and stop it from one thread: Linux sends the parent-death signal when the spawning
/// thread exits.
public final class PrivateDisplay {
  private var group: ScenarioGroup?
  private var server: ScenarioXvfb?
  /// The display name, e.g. `:7`.
  public let display: String

  /// Starts `Xvfb` with a `width`x`height`x24 screen and waits until it accepts clients.
  /// - Throws: `AgentError.invalidArgument` when Xvfb is missing or does not come up in `timeout` seconds.
  public init(width: Int = 1280, height: Int = 800, timeout: Double = 30) throws {
    let group = try ScenarioGroup()
    let server = try ScenarioXvfb(in: group, width: width, height: height, until: Date().addingTimeInterval(timeout))
    self.group = group
    self.server = server
    display = server.display
  }

  /// Stops the server and removes its lock file and socket; safe to call twice.
  public func stop() {
    group?.stop()
    group = nil
    server?.removeLeftovers()
    server = nil
  }

  deinit { stop() }
}
