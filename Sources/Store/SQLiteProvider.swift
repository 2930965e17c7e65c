import Foundation
import Logging
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO
import SwitchboardCore

/// The embedded default: one SQLite file in WAL mode. One writer connection (SQLite allows one
/// writer at a time anyway) takes transactions in turn with `BEGIN IMMEDIATE`; reads go to
/// their own connections and never wait for a writer. Each connection has a thread of its own
/// (`DedicatedThreadExecutor`) on which its transactions run whole, their statements plain
/// calls into SQLite (`SQLiteDirectConnection`, prepared statements kept): two thread hops a
/// transaction, where sqlite-nio made three a statement.
public final class SQLiteProvider: DatabaseProvider {
    public let flavor = SQLFlavor.sqlite
    private struct Connection: Sendable {
        let database: SQLiteDirectDatabase
        let thread: DedicatedThreadExecutor
        let lock = AsyncLock()

        /// Runs `body` on the connection's thread, one body at a time.
        func run<T: Sendable>(_ meter: UsageMeter? = nil, _ body: @escaping @Sendable (SQLiteDirectDatabase) async throws -> T) async throws -> T {
            meter?.waiting(1)
            return try await lock.withLock { [database, thread] in
                meter?.waiting(-1)
                meter?.active(1)
                defer { meter?.active(-1) }
                return try await withTaskExecutorPreference(thread) { try await body(database) }
            }
        }
    }
    private let writer: Connection
    private let readers: [Connection]
    private let nextReader = Locked(0)
    private let meter: UsageMeter
    public var usage: DatabaseUsage { meter.usage }

    /// `path` is a file path, or `:memory:` for a private in-memory database (one connection).
    public static func open(path: String, readers: Int = 2, logger: Logger) async throws -> SQLiteProvider {
        let memory = path == ":memory:"
        func connect(_ name: String) async throws -> Connection {
            let connection = Connection(
                database: SQLiteDirectDatabase(connection: try SQLiteDirectConnection(path: path), logger: logger,
                                               eventLoop: MultiThreadedEventLoopGroup.singleton.any()),
                thread: DedicatedThreadExecutor(name: name))
            try await connection.run { db in try await configure(db, wal: !memory) }
            return connection
        }
        let writer = try await connect("sqlite-writer")
        var readerConnections: [Connection] = []
        if !memory {
            for index in 0..<max(1, readers) { readerConnections.append(try await connect("sqlite-reader-\(index)")) }
        }
        return SQLiteProvider(writer: writer, readers: readerConnections)
    }

    private init(writer: Connection, readers: [Connection]) {
        self.writer = writer
        self.readers = readers
        meter = UsageMeter(capacity: 1 + readers.count)
    }

    private static func configure(_ db: any SQLDatabase, wal: Bool) async throws {
        // WAL: readers never block the writer. synchronous=NORMAL is durable across a process
        // crash (kill -9) in WAL mode; only an OS crash or power loss can drop the last commits.
        if wal { try await db.raw("PRAGMA journal_mode = WAL").run() }
        try await db.raw("PRAGMA synchronous = NORMAL").run()
        // Other processes (switchboard migrate, keys create) may hold the lock briefly.
        try await db.raw("PRAGMA busy_timeout = 10000").run()
        try await db.raw("PRAGMA temp_store = MEMORY").run()
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        guard !readers.isEmpty else { return try await write(body) }
        let index = nextReader.withLock { value -> Int in value &+= 1; return value }
        return try await readers[abs(index) % readers.count].run(meter, body)
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await writer.run(meter) { db in
            try await db.raw("BEGIN IMMEDIATE").run()
            do {
                let result = try await body(db)
                try await db.raw("COMMIT").run()
                return result
            } catch {
                try? await db.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    public func bulkInsert(into table: String, columns: [String], rows: [[String?]]) async throws {
        guard !rows.isEmpty else { return }
        // SQLite's default limit is 32,766 binds a statement.
        let perStatement = max(1, 30_000 / max(1, columns.count))
        try await write { db in
            for chunk in rows.chunked(perStatement) {
                let values = Store.rows(chunk.map { $0.map { $0 as any Encodable & Sendable } })
                try await db.raw("INSERT INTO \(ident: table) (\(unsafeRaw: columns.joined(separator: ", "))) VALUES " + values).run()
            }
        }
    }

    /// One process holds a SQLite file: there is no one to hear from, only polls.
    public func listen(_ channel: String, onNotify: @escaping @Sendable () -> Void) async throws {
        while !Task.isCancelled { try await Task.sleep(for: .seconds(3_600)) }
    }

    public func close() async {
        for connection in readers + [writer] {
            _ = try? await connection.run { db in db.connection.close() }
            connection.thread.shutdown()
        }
    }
}
