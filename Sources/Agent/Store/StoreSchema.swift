// MARK: - Schema

/// The episode store's schema as ordered migrations; `PRAGMA user_version` holds how many have run.
///
/// Migration `n` (1-based) takes a store from version `n - 1` to `n` inside one transaction. Later
/// versions append to `migrations`; they never edit an earlier one, which may already have run on
/// someone's disk. A store whose version is above `migrations.count` was written by a newer build
/// and is refused rather than guessed at.
enum StoreSchema {
  typealias Migration = @Sendable (SQLiteConnection) throws -> Void

  static let migrations: [Migration] = [createTables, addOrigin, addGroundedBox]

  static var currentVersion: Int { migrations.count }

  /// Version 1: episodes and their steps.
  /// Times are ISO-8601 UTC strings with milliseconds (`2026-11-25T15:07:21.123Z`): readable in
  /// the `sqlite3` shell, and they sort as text in time order. Latencies are milliseconds.
  private static func createTables(_ db: SQLiteConnection) throws {
    try db.execute("""
      CREATE TABLE episodes (
        id INTEGER PRIMARY KEY,
        task TEXT NOT NULL,
        models TEXT NOT NULL DEFAULT '{}',     -- JSON object: role -> model name
        settings TEXT NOT NULL DEFAULT '{}',   -- JSON, as the caller encoded it
        started TEXT NOT NULL,
        ended TEXT,
        status TEXT NOT NULL DEFAULT 'running'
          CHECK (status IN ('running','succeeded','failed','stopped','max_steps','interrupted')),
        pid INTEGER NOT NULL,                  -- the process that owns a running episode
        summary TEXT,
        error TEXT
      );
      CREATE TABLE steps (
        id INTEGER PRIMARY KEY,
        episode_id INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        started TEXT NOT NULL,
        ended TEXT,                            -- NULL until the outcome is written
        screenshot_before BLOB,                -- PNG bytes as captured
        screenshot_after BLOB,
        reasoning TEXT,
        raw_output TEXT NOT NULL DEFAULT '',
        action TEXT,                           -- the action's JSON form (docs/actions.md)
        grounded_x REAL,                       -- screen pixels
        grounded_y REAL,
        screen_changed INTEGER,                -- 0/1, NULL when unknown
        latencies TEXT NOT NULL DEFAULT '{}',  -- JSON object: stage -> milliseconds
        prompt_tokens INTEGER,
        completion_tokens INTEGER,
        error TEXT,
        UNIQUE (episode_id, idx)
      );
      CREATE INDEX episodes_status ON episodes(status);
      """, step: "migration 1: creating tables")
  }

  /// Version 2: where an episode was recorded. `host` is the machine that ran it (set when it
  /// begins); `source_store` and `source_id` are the store file and id it had there, set by
  /// `episodes merge` (NULL for an episode recorded in this store).
  private static func addOrigin(_ db: SQLiteConnection) throws {
    try db.execute("""
      ALTER TABLE episodes ADD COLUMN host TEXT;
      ALTER TABLE episodes ADD COLUMN source_store TEXT;
      ALTER TABLE episodes ADD COLUMN source_id INTEGER;
      """, step: "migration 2: adding episode origin columns")
  }

  /// Version 3: the region each step's grounded point was found in (screen pixels; NULL for a
  /// point target, a locator that gives no region, and steps recorded before this version).
  private static func addGroundedBox(_ db: SQLiteConnection) throws {
    try db.execute("""
      ALTER TABLE steps ADD COLUMN grounded_box_x INTEGER;
      ALTER TABLE steps ADD COLUMN grounded_box_y INTEGER;
      ALTER TABLE steps ADD COLUMN grounded_box_w INTEGER;
      ALTER TABLE steps ADD COLUMN grounded_box_h INTEGER;
      """, step: "migration 3: adding step grounded-box columns")
  }

  /// Brings the store to the newest version of `migrations`, one transaction per migration.
  /// The version is read again inside each write transaction: another process opening the same
  /// new file at the same moment may have run the migration while this one waited for the lock.
  static func migrate(_ db: SQLiteConnection, migrations: [Migration] = migrations) throws {
    // An up-to-date store (every open but the first) takes no write lock.
    var version = try checked(userVersion(db), db, migrations)
    while version < migrations.count {
      version = try db.transaction("migration \(version + 1)") { () throws -> Int in
        let now = try checked(userVersion(db), db, migrations)
        guard now < migrations.count else { return now }
        try migrations[now](db)
        // PRAGMA takes no bound parameters; now is our own integer.
        try db.execute("PRAGMA user_version = \(now + 1)", step: "migration \(now + 1): setting user_version")
        return now + 1
      }
    }
  }

  private static func checked(_ version: Int, _ db: SQLiteConnection, _ migrations: [Migration]) throws -> Int {
    guard version <= migrations.count else {
      throw AgentError.futureStoreVersion(path: db.path, found: version, supported: migrations.count)
    }
    return version
  }

  static func userVersion(_ db: SQLiteConnection) throws -> Int {
    let rows = try db.query("PRAGMA user_version", step: "reading the schema version") { Int($0.int(0)) }
    return rows.first ?? 0
  }
}
