import Foundation
import Testing
@testable import Agent

@Suite struct StoreSchemaTests {
  @Test func emptyFileMigratesToCurrent() throws {
    let tmp = try TempFolder()
    defer { tmp.cleanup() }
    let url = tmp.file("v0.sqlite")
    #expect(FileManager.default.createFile(atPath: url.path, contents: Data()))
    let store = try EpisodeStore(path: url)
    #expect(try store.episodes().isEmpty)
    let db = try SQLiteConnection(path: url.path)
    #expect(try StoreSchema.userVersion(db) == StoreSchema.currentVersion)
    let mode = try db.query("PRAGMA journal_mode", step: "reading journal_mode") { $0.text(0) }
    #expect(mode == ["wal"])
  }

  @Test func laterMigrationsRunInOrderAndKeepData() throws {
    let tmp = try TempFolder()
    defer { tmp.cleanup() }
    let url = tmp.file("v1.sqlite")
    let id = try EpisodeStore(path: url).beginEpisode(task: "kept", models: [:], settings: [String: String]())
    let db = try SQLiteConnection(path: url.path)
    let current = StoreSchema.currentVersion
    let v2: StoreSchema.Migration = { try $0.execute("ALTER TABLE episodes ADD COLUMN note TEXT DEFAULT 'v2'", step: "v2") }
    let failing: StoreSchema.Migration = { db in
      try db.execute("ALTER TABLE episodes ADD COLUMN half TEXT", step: "v3")
      throw AgentError.store(step: "migration 3", message: "deliberate")
    }
    #expect(throws: AgentError.store(step: "migration 3", message: "deliberate")) {
      try StoreSchema.migrate(db, migrations: StoreSchema.migrations + [v2, failing])
    }
    // The first added migration committed; the second rolled back entirely.
    #expect(try StoreSchema.userVersion(db) == current + 1)
    let columns = try db.query("SELECT name FROM pragma_table_info('episodes')", step: "columns") { $0.text(0) }
    #expect(columns.contains("note") && !columns.contains("half"))
    #expect(try db.query("SELECT task, note FROM episodes WHERE id = ?", step: "row", [.integer(id)]) { [$0.text(0), $0.text(1)] }
      == [["kept", "v2"]])
    // This build knows only its own versions: the store is now from its future.
    #expect(throws: AgentError.futureStoreVersion(path: url.path, found: current + 1, supported: current)) {
      try EpisodeStore(path: url)
    }
  }

  @Test func futureVersionIsRefusedAndLeftAlone() throws {
    let tmp = try TempFolder()
    defer { tmp.cleanup() }
    let url = tmp.file("future.sqlite")
    do {
      let db = try SQLiteConnection(path: url.path)
      try db.execute("PRAGMA user_version = 99", step: "set")
    }
    let error = #expect(throws: AgentError.self) { try EpisodeStore(path: url) }
    #expect(error == .futureStoreVersion(path: url.path, found: 99, supported: StoreSchema.currentVersion))
    #expect(error?.localizedDescription.contains("schema version 99") == true)
    let db = try SQLiteConnection(path: url.path)
    #expect(try db.query("SELECT count(*) FROM sqlite_master", step: "tables") { $0.int(0) } == [0])
  }

  @Test(arguments: [UInt64(1), 2, 3])
  func randomBytesAreNotADatabase(seed: UInt64) throws {
    let tmp = try TempFolder()
    defer { tmp.cleanup() }
    let url = tmp.file("corrupt.sqlite")
    try fakePNG(seed: seed, count: 8192).write(to: url)
    let error = #expect(throws: AgentError.self) { try EpisodeStore(path: url) }
    guard case let .notADatabase(path, message)? = error else {
      Issue.record("expected notADatabase, got \(String(describing: error))")
      return
    }
    #expect(path == url.path && message.contains("not a database"))
  }
}
