import Foundation
import Logging
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO
import SwitchboardCore

/// The embedded default: one SQLite file in WAL mode. One writer connection (SQLite allows one
/// writer at a time anyway) takes transactions in turn with `BEGIN IMMEDIATE`; reads go to
/// their own connections and never wait for a writer. sqlite-nio runs each statement on a
/// thread pool: the writer has a thread of its own and the readers theirs, so a read never
/// queues behind the dialer's writes for a thread (they shared NIO's global pool before).
public final class SQLiteProvider: DatabaseProvider {
    public let flavor = SQLFlavor.sqlite
    private let writer: SQLiteConnection
    private let writerLock = AsyncLock()
    private let readers: [(connection: SQLiteConnection, lock: AsyncLock)]
    private let nextReader = Locked(0)
    private let threads: [NIOThreadPool]
    private let meter: UsageMeter
    public var usage: DatabaseUsage { meter.usage }

    /// `path` is a file path, or `:memory:` for a private in-memory database (one connection).
    public static func open(path: String, readers: Int = 2, logger: Logger) async throws -> SQLiteProvider {
        let memory = path == ":memory:"
        let storage: SQLiteConnection.Storage = memory ? .memory : .file(path: path)
        let writerThread = NIOThreadPool(numberOfThreads: 1)
        let readerThreads = NIOThreadPool(numberOfThreads: max(1, readers))
        writerThread.start()
        readerThreads.start()
        let loop = MultiThreadedEventLoopGroup.singleton.any()
        let writer = try await SQLiteConnection.open(storage: storage, threadPool: writerThread, logger: logger, on: loop)
        try await configure(writer, wal: !memory)
        var readerConnections: [SQLiteConnection] = []
        if !memory {
            for _ in 0..<max(1, readers) {
                let reader = try await SQLiteConnection.open(storage: storage, threadPool: readerThreads, logger: logger,
                                                             on: MultiThreadedEventLoopGroup.singleton.any())
                try await configure(reader, wal: true)
                readerConnections.append(reader)
            }
        }
        return SQLiteProvider(writer: writer, readers: readerConnections, threads: [writerThread, readerThreads])
    }

    private init(writer: SQLiteConnection, readers: [SQLiteConnection], threads: [NIOThreadPool]) {
        self.threads = threads
        self.writer = writer
        self.readers = readers.map { ($0, AsyncLock()) }
        meter = UsageMeter(capacity: 1 + readers.count)
    }

    private static func configure(_ connection: SQLiteConnection, wal: Bool) async throws {
        let db = connection.sql(queryLogLevel: nil)
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
        let reader = readers[abs(index) % readers.count]
        meter.waiting(1)
        return try await reader.lock.withLock { [meter] in
            meter.waiting(-1)
            meter.active(1)
            defer { meter.active(-1) }
            return try await body(reader.connection.sql(queryLogLevel: nil))
        }
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        meter.waiting(1)
        return try await writerLock.withLock { [meter] in
            meter.waiting(-1)
            meter.active(1)
            defer { meter.active(-1) }
            let db = writer.sql(queryLogLevel: nil)
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
        for reader in readers { try? await reader.connection.close() }
        try? await writer.close()
        for pool in threads { try? await pool.shutdownGracefully() }
    }
}
