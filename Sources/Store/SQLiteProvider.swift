import Foundation
import Logging
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO
import Synchronization
import SwitchboardCore

/// The embedded default: one SQLite file in WAL mode. One writer connection (SQLite allows one
/// writer at a time anyway) takes transactions in turn with `BEGIN IMMEDIATE`; reads go to
/// their own connections and never wait for a writer. Each connection has a thread of its own
/// (`DedicatedThreadExecutor`) on which its transactions run whole, their statements plain
/// calls into SQLite (`SQLiteDirectConnection`, prepared statements kept): two thread hops a
/// transaction, where sqlite-nio made three a statement. A bounded read (`ReadCost`) makes
/// none: it runs on the caller's thread, holding a free reader.
///
/// The writer does not checkpoint the WAL after its commits, as SQLite would: a connection of
/// its own does, on its own thread, so the copy into the database file and its fsync leave the
/// writer's thread (a tenth of its time while dialing). A WAL the checkpointer cannot keep up
/// with (it copies while the writer appends, so the log never restarts under constant writes)
/// is checkpointed by the writer once it reaches `writerCheckpointPages`.
///
/// The writer's and the checkpointer's threads run at a lower OS priority (`writerNiceness`, 10
/// by default): when the cores are contended, the reads a person waits on go first and the
/// engine's batch writes take what is left; with a core free, the priority changes nothing.
/// While 1M leads dialed, a calls page at 1,000 req/s went from p50 12–29 ms to 3 ms, and the
/// dialer gave way by a quarter while the API was that busy (docs/performance.md).
public final class SQLiteProvider: DatabaseProvider {
    public let flavor = SQLFlavor.sqlite
    private struct Connection: Sendable {
        let database: SQLiteDirectDatabase
        let thread: DedicatedThreadExecutor
        let lock = AsyncLock()

        /// Runs `body` one body at a time: on the connection's thread, or with `onCallersThread`
        /// on the thread that called (a bounded read: see `ReadCost`).
        func run<T: Sendable>(_ meter: UsageMeter? = nil, onCallersThread: Bool = false,
                              _ body: @escaping @Sendable (SQLiteDirectDatabase) async throws -> T) async throws -> T {
            meter?.waiting(1)
            return try await lock.withLock { [database, thread] in
                meter?.waiting(-1)
                meter?.active(1)
                defer { meter?.active(-1) }
                if onCallersThread { return try await body(database) }
                return try await withTaskExecutorPreference(thread) { try await body(database) }
            }
        }
    }
    private let writer: Connection
    private let readers: [Connection]
    private let checkpointer: Connection?
    /// SQLite's own threshold for its automatic checkpoint.
    private static let checkpointPages = 1_000
    private static let writerCheckpointPages = 10_000
    private struct Checkpoints: Sendable {
        var running: Task<Void, Never>?
        var closed = false
    }
    private let checkpoints = Locked(Checkpoints())
    private let nextReader = Locked(0)
    private let meter: UsageMeter
    public var usage: DatabaseUsage { meter.usage }
    /// One process holds a SQLite file (see `listen`), and its writes all go through `write`.
    private let writes = Atomic<UInt64>(0)
    public var writeGeneration: UInt64? { writes.load(ordering: .acquiring) }

    /// The writer's and the checkpointer's nice value unless configured.
    public static let defaultWriterNiceness: Int32 = 10

    /// `path` is a file path, or `:memory:` for a private in-memory database (one connection).
    public static func open(path: String, readers: Int = 2, writerNiceness: Int32 = defaultWriterNiceness,
                            logger: Logger) async throws -> SQLiteProvider {
        let memory = path == ":memory:"
        func connect(_ name: String, niceness: Int32 = 0) async throws -> Connection {
            let connection = Connection(
                database: SQLiteDirectDatabase(connection: try SQLiteDirectConnection(path: path), logger: logger,
                                               eventLoop: MultiThreadedEventLoopGroup.singleton.any()),
                thread: DedicatedThreadExecutor(name: name, niceness: niceness))
            try await connection.run { db in try await configure(db, wal: !memory) }
            return connection
        }
        let writer = try await connect("sqlite-writer", niceness: writerNiceness)
        var readerConnections: [Connection] = []
        var checkpointer: Connection?
        if !memory {
            for index in 0..<max(1, readers) { readerConnections.append(try await connect("sqlite-reader-\(index)")) }
            checkpointer = try await connect("sqlite-checkpointer", niceness: writerNiceness)
            writer.database.connection.reportWALSize()
        }
        return SQLiteProvider(writer: writer, readers: readerConnections, checkpointer: checkpointer)
    }

    private init(writer: Connection, readers: [Connection], checkpointer: Connection?) {
        self.writer = writer
        self.readers = readers
        self.checkpointer = checkpointer
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

    /// A bounded read runs on the caller's thread, a scan on its connection's thread
    /// (`ReadCost`), on a reader that is free if one is, else on the next in turn.
    public func read<T: Sendable>(_ cost: ReadCost, _ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        guard !readers.isEmpty else { return try await write(body) }
        let next = abs(nextReader.withLock { value -> Int in value &+= 1; return value })
        let free = (0..<readers.count).lazy.map { (next + $0) % self.readers.count }.first { self.readers[$0].lock.isFree }
        return try await readers[free ?? next % readers.count].run(meter, onCallersThread: cost == .bounded, body)
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        // Counted when the transaction is over, committed or not: after a commit, so a read that
        // sees the new count sees what it wrote; after a rollback too, rather than judge a
        // failed COMMIT.
        defer { writes.add(1, ordering: .releasing) }
        return try await writer.run(meter) { db in
            try await db.raw("BEGIN IMMEDIATE").run()
            do {
                let result = try await body(db)
                try await db.raw("COMMIT").run()
                self.checkpointAfterCommit(db)
                return result
            } catch {
                try? await db.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    /// Whether the caller runs on a reader's own thread (for the tests of `ReadCost`).
    func onAReadersThread() -> Bool { readers.contains { $0.thread.isCurrent } }

    /// On the writer's thread after a commit: starts the checkpointer once the WAL has
    /// `checkpointPages`, and checkpoints here if it has outgrown what the checkpointer keeps up
    /// with. A checkpoint that fails is logged, never thrown: the transaction has committed.
    private func checkpointAfterCommit(_ db: SQLiteDirectDatabase) {
        guard let checkpointer else { return }
        let pages = db.connection.pagesInWAL
        if pages >= Self.writerCheckpointPages {
            do {
                try db.connection.checkpoint()
            } catch {
                db.logger.warning("WAL checkpoint failed", metadata: ["error": "\(error)", "pages": "\(pages)"])
            }
            return
        }
        guard pages >= Self.checkpointPages else { return }
        checkpoints.withLock { state in
            guard !state.closed, state.running == nil else { return }
            state.running = Task { [checkpoints] in
                do {
                    try await checkpointer.run { db in try db.connection.checkpoint() }
                } catch {
                    checkpointer.database.logger.warning("WAL checkpoint failed", metadata: ["error": "\(error)", "pages": "\(pages)"])
                }
                checkpoints.withLock { $0.running = nil }
            }
        }
    }

    public func bulkRows(columns: [String], rows: [[String?]]) -> BulkRows {
        BulkRows(columns: columns, count: rows.count, payload: .values(rows))
    }

    public func bulkInsert(_ rows: BulkRows, into table: String) async throws {
        guard case .values(let values) = rows.payload else { preconditionFailure("rows made for another backend") }
        guard rows.count > 0 else { return }
        let columns = rows.columns
        // SQLite's default limit is 32,766 binds a statement.
        let perStatement = max(1, 30_000 / max(1, columns.count))
        try await write { db in
            for chunk in values.chunked(perStatement) {
                let values = Store.rows(chunk.map { $0.map { $0 as any SQLBindable } })
                try await db.raw("INSERT INTO \(ident: table) (\(unsafeRaw: columns.joined(separator: ", "))) " + values).run()
            }
        }
    }

    /// One process holds a SQLite file: there is no one to hear from, only polls.
    public func listen(_ channel: String, onNotify: @escaping @Sendable () -> Void) async throws {
        while !Task.isCancelled { try await Task.sleep(for: .seconds(3_600)) }
    }

    public func close() async {
        let checkpoint = checkpoints.withLock { state in
            state.closed = true
            return state.running
        }
        await checkpoint?.value
        for connection in readers + [writer] + (checkpointer.map { [$0] } ?? []) {
            _ = try? await connection.run { db in db.connection.close() }
            connection.thread.shutdown()
        }
    }
}
