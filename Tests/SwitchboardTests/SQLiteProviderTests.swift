import Foundation
import Logging
import SQLKit
@testable import Store
import SwitchboardCore
import Testing

@Suite struct SQLiteProviderTests {
    /// The writer no longer checkpoints after its commits; the checkpointer's connection does.
    /// In WAL mode only a checkpoint writes pages into the database file, so the file growing
    /// while the writer stays under its own threshold shows the checkpointer ran.
    @Test func theCheckpointerCopiesTheWALIntoTheDatabase() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-wal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("db.sqlite").path
        try await withProvider(path: path) { provider in
            func fileSize() throws -> Int { try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0 }
            try await provider.write { db in try await db.raw("CREATE TABLE filler (body TEXT NOT NULL)").run() }
            let before = try fileSize()
            // About 6 MB in 30 commits: some 1,500 pages, past the checkpointer's 1,000 and
            // short of the 10,000 at which the writer would checkpoint itself.
            let body = String(repeating: "x", count: 1_000)
            for _ in 0..<30 {
                try await provider.write { db in
                    for _ in 0..<200 { try await db.raw("INSERT INTO filler (body) VALUES (\(bind: body))").run() }
                }
            }
            let deadline = ContinuousClock.now + .seconds(20)
            while try fileSize() < before + 2_000_000, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            let after = try fileSize()
            #expect(after >= before + 2_000_000, "the database file holds \(after) bytes")
            let rows = try await provider.read { db in try await db.raw("SELECT COUNT(*) AS n FROM filler").first()?.decode(column: "n", as: Int.self) }
            #expect(rows == 6_000)
        }
    }

    /// Rows of binds reach SQLite as one run of values (`BindRows`): binds written before and
    /// after the run keep their places, and each value keeps its storage class.
    @Test func bindRowsKeepTheirPlacesAmongOtherBinds() async throws {
        try await withProvider { provider in
            let rows: [[any SQLBindable]] = [["a", 1, 1.5, true], ["b", Int64(2), Double?.none, false], [String?.none, 3, 0.25, true]]
            let found = try await provider.write { db in
                try await db.raw("SELECT \(bind: "first") AS head, v.* FROM (" + Store.values("v", ["name", "n", "x", "flag"], rows)
                                 + " SELECT * FROM v) AS v WHERE v.n <> \(bind: 2) ORDER BY v.n").all().map { row in
                    [try row.decode(column: "head", as: String.self), try row.decode(column: "name", as: String?.self) ?? "nil",
                     "\(try row.decode(column: "n", as: Int.self))", "\(try row.decode(column: "x", as: Double?.self).map { "\($0)" } ?? "nil")",
                     "\(try row.decode(column: "flag", as: Int.self))"]
                }
            }
            #expect(found == [["first", "a", "1", "1.5", "1"], ["first", "nil", "3", "0.25", "1"]])
        }
    }

    /// A row answers by name whatever the order its columns are read in (the lookup starts
    /// after the last column found); of two columns with one name the first answers; a name
    /// the statement lacks is an error, not another column's value.
    @Test func rowsAnswerByNameInAnyOrder() async throws {
        try await withProvider { provider in
            let found = try await provider.write { db in
                let unique = try await db.raw("SELECT 1 AS a, 'x' AS b, 2.5 AS c, NULL AS d UNION ALL SELECT 2, 'y', 3, 'z'").all()
                var read: [String] = []
                for row in unique {
                    read.append("\(try row.int("a")) \(try row.string("b")) \(try row.double("c")) \(try row.optionalString("d") ?? "nil")")
                    read.append("\(try row.optionalString("d") ?? "nil") \(try row.double("c")) \(try row.string("b")) \(try row.int("a"))")
                    read.append("\(try row.string("b")) \(try row.string("b")) \(try row.optionalInt("a") ?? -1)")
                    #expect(throws: (any Error).self) { try row.string("e") }
                }
                let twice = try await db.raw("SELECT 1 AS a, 2 AS b, 3 AS a").all()
                for row in twice {
                    read.append("\(try row.int("b")) \(try row.int("a")) \(try row.int("a"))")
                }
                return read
            }
            #expect(found == ["1 x 2.5 nil", "nil 2.5 x 1", "x x 1", "2 y 3.0 z", "z 3.0 y 2", "y y 2", "2 1 1"])
        }
    }

    /// A statement's key holds each run of placeholders as a short marker; preparing writes the
    /// run out, rows of the same columns, and leaves the text around it as it was.
    @Test func placeholderRunsAreWrittenOutToPrepare() {
        let key = "INSERT INTO t (a, b, c) VALUES " + PlaceholderRun.marker(rows: 2, columns: 3)
            + " ON CONFLICT DO NOTHING; " + PlaceholderRun.marker(rows: 1, columns: 1) + " ?7"
        #expect(key.utf8.count < 70)
        #expect(PlaceholderRun.expand(key) == "INSERT INTO t (a, b, c) VALUES (?, ?, ?), (?, ?, ?) ON CONFLICT DO NOTHING; (?) ?7")
        #expect(PlaceholderRun.expand("SELECT 1") == "SELECT 1")
        #expect(PlaceholderRun.marker(rows: 0, columns: 4).isEmpty)
    }

    /// Text reaches SQLite as its UTF-8 bytes, whatever the string's storage: empty (which must
    /// not become NULL), short (stored inline), long, and beyond ASCII.
    @Test func textBindsKeepEveryString() async throws {
        try await withProvider { provider in
            let texts = ["", "+15550001234", String(repeating: "long text ", count: 20), "Zoë ☎ 通话"]
            let found = try await provider.write { db in
                var found: [String] = []
                for text in texts {
                    let row = try await db.raw("SELECT \(bind: text) AS t, \(bind: text) IS NULL AS missing, length(\(bind: text)) AS n").first()
                    found.append("\(try row?.string("t") ?? "?") \(try row?.int("missing") ?? -1) \(try row?.int("n") ?? -1)")
                }
                return found
            }
            #expect(found == texts.map { "\($0) 0 \($0.count)" })
        }
    }

    /// A kept statement's column names are read once, and again when the schema changes them
    /// (SQLite prepares the statement again).
    @Test func aKeptStatementsColumnsFollowTheSchema() async throws {
        try await withProvider { provider in
            try await provider.write { db in
                try await db.raw("CREATE TABLE t (a INTEGER NOT NULL)").run()
                try await db.raw("INSERT INTO t (a) VALUES (1)").run()
            }
            let select: @Sendable (any SQLDatabase) async throws -> [String] = { db in
                try await db.raw("SELECT * FROM t").all().map { row in
                    try row.allColumns.map { "\($0)=\(try row.decode(column: $0, as: String.self))" }.joined(separator: " ")
                }
            }
            #expect(try await provider.write(select) == ["a=1"])
            #expect(try await provider.write(select) == ["a=1"])
            try await provider.write { db in try await db.raw("ALTER TABLE t ADD COLUMN b TEXT NOT NULL DEFAULT 'x'").run() }
            #expect(try await provider.write(select) == ["a=1 b=x"])
        }
    }

    /// A bounded read runs on the thread that asked for it; a scan on its reader's own thread,
    /// so a long read never holds a thread of the concurrency pool.
    @Test func aScanRunsOnItsReadersThread() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-reads-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (scan, bounded) = try await withProvider(path: directory.appendingPathComponent("db.sqlite").path) { provider in
            (try await provider.read(.scan) { db in try await db.raw("SELECT 1 AS n").run(); return provider.onAReadersThread() },
             try await provider.read(.bounded) { db in try await db.raw("SELECT 1 AS n").run(); return provider.onAReadersThread() })
        }
        #expect(scan)
        #expect(!bounded)
    }

    /// A read is served again until the next write, and never when a write landed while it
    /// was being made: what it found may be older than that write.
    @Test func aReadIsKeptUntilTheNextWrite() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-kept-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let found = try await withProvider(path: directory.appendingPathComponent("db.sqlite").path) { provider in
            let reads = UnchangedReads<Int>()
            let made = Locked(0)
            @Sendable func read(writing: Bool = false) async throws -> Int {
                try await reads.value("campaign", database: provider) {
                    if writing { try await provider.write { _ in } }
                    return made.withLock { $0 += 1; return $0 }
                }
            }
            var found = [try await read(), try await read()]
            try await provider.write { _ in }
            found += [try await read(), try await read()]
            try await provider.write { _ in }
            found += [try await read(writing: true), try await read(), try await read()]
            return found
        }
        #expect(found == [1, 1, 2, 2, 3, 4, 4])
    }

    /// The writer's thread gives way to the rest of the process when the cores are contended
    /// (Linux keeps a nice value per thread); a reader's thread does not.
    @Test func theWriterRunsAtItsNiceness() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-nice-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        @Sendable func niceness() -> Int32 { getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) }
        let (writer, reader) = try await withProvider(path: directory.appendingPathComponent("db.sqlite").path, writerNiceness: 7) { provider in
            (try await provider.write { _ in niceness() }, try await provider.read(.scan) { _ in niceness() })
        }
        #expect(writer == 7)
        #expect(reader != 7)
    }
}

/// Opens a provider, runs `body` and closes the provider, whether `body` throws or not.
private func withProvider<T>(path: String = ":memory:", writerNiceness: Int32 = SQLiteProvider.defaultWriterNiceness,
                             _ body: (SQLiteProvider) async throws -> T) async throws -> T {
    let provider = try await SQLiteProvider.open(path: path, writerNiceness: writerNiceness, logger: Logger(label: "test"))
    do {
        let result = try await body(provider)
        await provider.close()
        return result
    } catch {
        await provider.close()
        throw error
    }
}
