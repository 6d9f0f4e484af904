import Foundation

/// Errors of the Agent module; each case carries the value that was wrong.
public enum AgentError: Error, LocalizedError, Equatable {
  case invalidArgument(String)
  /// An episode-store statement failed: which step, and SQLite's message.
  case store(step: String, message: String)
  /// The store file is not an SQLite database (or is damaged).
  case notADatabase(path: String, message: String)
  /// The store was written by a newer build whose schema this build does not know.
  case futureStoreVersion(path: String, found: Int, supported: Int)
  case episodeNotFound(Int64)
  case stepNotFound(episode: Int64, index: Int)
  /// Writing an export failed: which file, and why.
  case export(path: String, message: String)

  public var errorDescription: String? {
    switch self {
    case let .invalidArgument(message): message
    case let .store(step, message): "episode store: \(step): \(message)"
    case let .notADatabase(path, message):
      "episode store \(path) is not a readable SQLite database (\(message)); move it aside to start a new one"
    case let .futureStoreVersion(path, found, supported):
      "episode store \(path) has schema version \(found), newer than this build supports (\(supported)); use a newer gui-agent"
    case let .episodeNotFound(id): "no episode with id \(id)"
    case let .stepNotFound(episode, index): "episode \(episode) has no step \(index)"
    case let .export(path, message): "export to \(path) failed: \(message)"
    }
  }
}
