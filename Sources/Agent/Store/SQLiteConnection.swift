import CSQLite
import Foundation

// A small layer over SQLite's C API: one connection, prepared statements, typed binding and
// reading, transactions. Every failure becomes an `AgentError` naming the step and SQLite's message.

// MARK: - Values

/// A value bound to, or read from, a statement.
enum SQLValue: Equatable {
  case null
  case integer(Int64)
  case real(Double)
  case text(String)
  case blob(Data)
}

/// SQLite copies bound text and blobs before the call returns (`SQLITE_TRANSIENT`, which does not
/// import into Swift).
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

// MARK: - Connection

/// One SQLite connection, opened NOMUTEX: it is not thread-safe on its own. Unchecked Sendable
/// because `EpisodeStore` only touches it inside its `Mutex`.
final class SQLiteConnection: @unchecked Sendable {
  private let handle: OpaquePointer
  let path: String

  init(path: String) throws {
    var db: OpaquePointer?
    let rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
    guard rc == SQLITE_OK, let db else {
      var message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
      if let db { message = Self.withOSError(message, sqlite3_system_errno(db)) }
      sqlite3_close_v2(db)
      throw AgentError.store(step: "opening \(path)", message: message)
    }
    handle = db
    self.path = path
  }

  deinit { sqlite3_close_v2(handle) }

  /// The error for a failed call: a file that is not a database, a full disk (or SQLite's
  /// `max_page_count` reached: both are `SQLITE_FULL`) and a read-only store get their own cases,
  /// as do ENOSPC and EROFS that SQLite reports as an I/O error instead. A store that SQLite
  /// could only open read-only (we ask for read-write) and whose WAL index (`-shm`) it then
  /// cannot create fails with CANTOPEN and a stale errno (ENOENT): read-only as well.
  func error(_ step: String, _ rc: Int32) -> AgentError {
    let message = String(cString: sqlite3_errmsg(handle))
    let primary = rc & 0xFF
    let osError = sqlite3_system_errno(handle)
    let openedReadOnly = sqlite3_db_readonly(handle, "main") == 1
    switch primary {
    case SQLITE_NOTADB, SQLITE_CORRUPT:
      return .notADatabase(path: path, message: message)
    case SQLITE_FULL:
      return .storeFull(path: path, step: step)
    case SQLITE_READONLY:
      return .storeReadOnly(path: path, step: step)
    case SQLITE_IOERR where osError == ENOSPC || osError == EDQUOT:
      return .storeFull(path: path, step: step)
    case SQLITE_IOERR where osError == EROFS, SQLITE_CANTOPEN where openedReadOnly:
      return .storeReadOnly(path: path, step: step)
    case SQLITE_IOERR, SQLITE_CANTOPEN:
      return .store(step: step, message: Self.withOSError(message, osError))
    default:
      return .store(step: step, message: message)
    }
  }

  /// SQLite's message with the OS's reason appended ("unable to open database file (Permission denied)").
  private static func withOSError(_ message: String, _ osError: Int32) -> String {
    osError == 0 ? message : "\(message) (\(String(cString: strerror(osError))))"
  }

  /// Runs statements that return no rows we need (DDL, PRAGMA setters, BEGIN/COMMIT).
  func execute(_ sql: String, step: String) throws {
    let rc = sqlite3_exec(handle, sql, nil, nil, nil)
    guard rc == SQLITE_OK else { throw error(step, rc) }
  }

  /// As `execute`, retried while SQLite answers busy or locked, for at most `seconds`. Switching
  /// the journal to WAL needs an exclusive lock, and SQLite may answer busy at once without
  /// calling the busy handler (another connection opening the same new file at the same moment).
  func executeRetryingBusy(_ sql: String, step: String, seconds: Double) throws {
    let deadline = Date().addingTimeInterval(seconds)
    while true {
      let rc = sqlite3_exec(handle, sql, nil, nil, nil)
      if rc == SQLITE_OK { return }
      let primary = rc & 0xFF
      guard primary == SQLITE_BUSY || primary == SQLITE_LOCKED, Date() < deadline else { throw error(step, rc) }
      usleep(20_000)
    }
  }

  /// Runs one statement with `values` bound to its `?` parameters, collecting `row` for each row.
  @discardableResult
  func query<T>(_ sql: String, step: String, _ values: [SQLValue] = [], row: (Row) throws -> T) throws -> [T] {
    var raw: OpaquePointer?
    var rc = sqlite3_prepare_v2(handle, sql, -1, &raw, nil)
    guard rc == SQLITE_OK, let stmt = raw else { throw error(step, rc) }
    defer { sqlite3_finalize(stmt) }
    for (i, value) in values.enumerated() {
      rc = bind(stmt, Int32(i + 1), value)
      guard rc == SQLITE_OK else { throw error(step, rc) }
    }
    var rows: [T] = []
    while true {
      rc = sqlite3_step(stmt)
      if rc == SQLITE_DONE { return rows }
      guard rc == SQLITE_ROW else { throw error(step, rc) }
      rows.append(try row(Row(stmt: stmt)))
    }
  }

  /// Runs one statement for its effect.
  func run(_ sql: String, step: String, _ values: [SQLValue] = []) throws {
    try query(sql, step: step, values) { _ in () }
  }

  var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
  var changes: Int { Int(sqlite3_changes(handle)) }

  /// Runs `body` inside `BEGIN IMMEDIATE ... COMMIT` (taking the write lock up front, so a busy
  /// database waits at BEGIN rather than failing halfway); rolls back if it throws.
  func transaction<T>(_ step: String, _ body: () throws -> T) throws -> T {
    try execute("BEGIN IMMEDIATE", step: "\(step): begin")
    do {
      let result = try body()
      try execute("COMMIT", step: "\(step): commit")
      return result
    } catch {
      sqlite3_exec(handle, "ROLLBACK", nil, nil, nil)
      throw error
    }
  }

  private func bind(_ stmt: OpaquePointer, _ i: Int32, _ value: SQLValue) -> Int32 {
    switch value {
    case .null: return sqlite3_bind_null(stmt, i)
    case let .integer(v): return sqlite3_bind_int64(stmt, i, v)
    case let .real(v): return sqlite3_bind_double(stmt, i, v)
    // The 64-bit binders: sizes past SQLite's limit come back as SQLITE_TOOBIG, not a trap.
    case let .text(s): return sqlite3_bind_text64(stmt, i, s, UInt64(s.utf8.count), transient, UInt8(SQLITE_UTF8))
    case let .blob(d):
      // An empty Data may have no base address, which would bind NULL.
      if d.isEmpty { return sqlite3_bind_zeroblob(stmt, i, 0) }
      return d.withUnsafeBytes { sqlite3_bind_blob64(stmt, i, $0.baseAddress, UInt64($0.count), transient) }
    }
  }
}

// MARK: - Rows

/// The current row of a statement, read by column index.
struct Row {
  fileprivate let stmt: OpaquePointer

  func isNull(_ i: Int32) -> Bool { sqlite3_column_type(stmt, i) == SQLITE_NULL }
  func int(_ i: Int32) -> Int64 { sqlite3_column_int64(stmt, i) }
  func double(_ i: Int32) -> Double { sqlite3_column_double(stmt, i) }
  func optionalInt(_ i: Int32) -> Int64? { isNull(i) ? nil : int(i) }
  func optionalDouble(_ i: Int32) -> Double? { isNull(i) ? nil : double(i) }

  func text(_ i: Int32) -> String { optionalText(i) ?? "" }

  func optionalText(_ i: Int32) -> String? {
    guard let p = sqlite3_column_text(stmt, i) else { return nil }
    let n = Int(sqlite3_column_bytes(stmt, i))
    return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
  }

  func blob(_ i: Int32) -> Data? {
    if isNull(i) { return nil }
    let n = Int(sqlite3_column_bytes(stmt, i))
    guard n > 0, let p = sqlite3_column_blob(stmt, i) else { return Data() }
    return Data(bytes: p, count: n)
  }
}
