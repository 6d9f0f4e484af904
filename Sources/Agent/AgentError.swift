import Foundation

/// Errors of the Agent module; each case carries the value that was wrong.
public enum AgentError: Error, LocalizedError, Equatable {
  case invalidArgument(String)
  /// An episode-store statement failed: which step, and SQLite's message.
  case store(step: String, message: String)
  /// The store could not grow: the disk (or its quota) is full, or SQLite's page limit was
  /// reached (`SQLITE_FULL`). What was committed before is intact.
  case storeFull(path: String, step: String)
  /// The store cannot be written: the file, its folder or its file system is read-only to this
  /// process (`SQLITE_READONLY`). Nothing in it was changed.
  case storeReadOnly(path: String, step: String)
  /// The store file is not an SQLite database (or is damaged).
  case notADatabase(path: String, message: String)
  /// The store was written by a newer build whose schema this build does not know.
  case futureStoreVersion(path: String, found: Int, supported: Int)
  case episodeNotFound(Int64)
  case stepNotFound(episode: Int64, index: Int)
  /// Writing an export failed: which file, and why.
  case export(path: String, message: String)
  /// A planner's OpenAI-compatible endpoint failed: its URL, and what went wrong (down, timed
  /// out, an HTTP error with an excerpt of its body, an answer that is not a chat completion).
  case endpoint(url: String, message: String)

  /// True when the episode store itself failed (full, read-only, unreadable, a statement
  /// error): the episode cannot be recorded, as opposed to something going wrong in it.
  public var isStoreFailure: Bool {
    switch self {
    case .store, .storeFull, .storeReadOnly, .notADatabase, .futureStoreVersion: true
    default: false
    }
  }

  public var errorDescription: String? {
    switch self {
    case let .invalidArgument(message): message
    case let .store(step, message): "episode store: \(step): \(message)"
    case let .storeFull(path, step):
      "episode store \(path) is full (no space left on its disk, or its size limit reached) while \(step); "
        + "free space or use another store (--store); what was recorded before is intact"
    case let .storeReadOnly(path, step):
      "episode store \(path) is read-only (the file, its folder or its file system cannot be written by this user) "
        + "while \(step); make it writable or use another store (--store)"
    case let .notADatabase(path, message):
      "episode store \(path) is not a readable SQLite database (\(message)); move it aside to start a new one"
    case let .futureStoreVersion(path, found, supported):
      "episode store \(path) has schema version \(found), newer than this build supports (\(supported)); use a newer gui-agent"
    case let .episodeNotFound(id): "no episode with id \(id)"
    case let .stepNotFound(episode, index): "episode \(episode) has no step \(index)"
    case let .export(path, message): "export to \(path) failed: \(message)"
    case let .endpoint(url, message): "chat endpoint \(url): \(message)"
    }
  }
}
