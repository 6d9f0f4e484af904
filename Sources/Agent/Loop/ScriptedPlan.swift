import Foundation

// MARK: - Scripted plans

/// A fixed list of actions for deterministic runs and tests, read from JSON:
///
/// ```json
/// {"steps": [
///   {"action": {"action": "click", "target": {"point": [120, 40]}}, "expect_change": true},
///   {"action": {"action": "click", "target": {"element": "the OK button"}}},
///   {"action": {"action": "wait", "seconds": 1}}
/// ]}
/// ```
///
/// Each `action` is the JSON action form of docs/actions.md. In a scripted plan a
/// `{"point": [x, y]}` target (and a `box`'s center) is in **screen pixels** of the root window:
/// plans are written against the applications' own geometry, so no model convention applies.
/// `{"element": "..."}` targets are located by the grounding model the loop was given.
public struct ScriptedPlan: Codable, Equatable, Sendable {
  public var steps: [ScriptedStep]

  public init(steps: [ScriptedStep]) { self.steps = steps }

  /// Reads a plan file.
  /// - Throws: `AgentError.invalidArgument` naming the file and what in it is wrong.
  public static func load(from url: URL) throws -> ScriptedPlan {
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
      throw AgentError.invalidArgument("plan file \(url.path) cannot be read: \(error.localizedDescription)")
    }
    return try decode(data, source: url.path)
  }

  /// Decodes a plan from JSON bytes; `source` names them in errors.
  public static func decode(_ data: Data, source: String = "plan") throws -> ScriptedPlan {
    do { return try JSONDecoder().decode(ScriptedPlan.self, from: data) } catch let e as DecodingError {
      throw AgentError.invalidArgument("\(source) is not a valid plan: \(Self.describe(e))")
    } catch {
      throw AgentError.invalidArgument("\(source) is not a valid plan: \(error)")
    }
  }

  /// A decoding error as "at steps[2].action: ..." so the user finds the bad step.
  private static func describe(_ e: DecodingError) -> String {
    func path(_ keys: [any CodingKey]) -> String {
      keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: ["."])
    }
    switch e {
    case let .dataCorrupted(c): return "at \(path(c.codingPath)): \(c.debugDescription)"
    case let .keyNotFound(k, c): return "at \(path(c.codingPath)): missing '\(k.stringValue)'"
    case let .typeMismatch(_, c), let .valueNotFound(_, c): return "at \(path(c.codingPath)): \(c.debugDescription)"
    @unknown default: return "\(e)"
    }
  }
}

/// One step of a ``ScriptedPlan``.
public struct ScriptedStep: Codable, Equatable, Sendable {
  public var action: AgentAction
  /// When set, the episode fails if whether the screen changed after the action differs.
  public var expectChange: Bool?

  public init(action: AgentAction, expectChange: Bool? = nil) {
    self.action = action
    self.expectChange = expectChange
  }

  enum CodingKeys: String, CodingKey {
    case action
    case expectChange = "expect_change"
  }
}
