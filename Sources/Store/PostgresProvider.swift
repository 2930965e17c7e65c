import Foundation
import Logging
import NIOCore
import PostgresKit
import PostgresNIO
import SQLKit
import SwitchboardCore

/// PostgreSQL through postgres-nio's `PostgresClient` pool, for many API and dialer processes
/// on one database. The client runs in a task of its own from `open` to `close`, so the store
/// is usable before the service group starts (migrations run first).
public final class PostgresProvider: DatabaseProvider {
    /// Dialers and APIs in other processes write it too.
    public let writeGeneration: UInt64? = nil
    public let flavor = SQLFlavor.postgres
    private let client: PostgresClient
    private let meter: UsageMeter
    public var usage: DatabaseUsage { meter.usage }
    private let runner: Task<Void, Never>
    private let logger: Logger
    /// How long an operation waits for a connection before the database counts as down. Once a
    /// connection is ours, `DatabaseDeadline` bounds the operation (see `withConnection`).
    private let leaseTimeout: Duration

    public static func open(url: String, leaseTimeout: Duration = .seconds(3), logger: Logger) async throws -> PostgresProvider {
        let provider = PostgresProvider(configuration: try configuration(url), leaseTimeout: leaseTimeout, logger: logger)
        // Fail fast on a wrong URL or a database that is not there, rather than at first use.
        do {
            try await provider.read { db in _ = try await db.raw("SELECT 1 AS ok").first() }
        } catch {
            await provider.close()
            throw error
        }
        return provider
    }

    private init(configuration: PostgresClient.Configuration, leaseTimeout: Duration, logger: Logger) {
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        meter = UsageMeter(capacity: configuration.options.maximumConnections)
        runner = Task { [client] in await client.run() }
        self.leaseTimeout = leaseTimeout
        self.logger = logger
    }

    /// `postgres://user:password@host:port/database?search_path=schema&max_connections=N`.
    static func configuration(_ url: String) throws -> PostgresClient.Configuration {
        guard let parts = URLComponents(string: url), let host = parts.host, !host.isEmpty else {
            throw DatabaseURL.Failure.unsupported(url)
        }
        let database = String(parts.path.drop { $0 == "/" })
        var configuration = PostgresClient.Configuration(
            host: host, port: parts.port ?? 5432, username: parts.user.flatMap { $0.removingPercentEncoding } ?? "postgres",
            password: parts.password.flatMap { $0.removingPercentEncoding },
            database: database.isEmpty ? nil : database, tls: .disable)
        let query = Dictionary((parts.queryItems ?? []).map { ($0.name, $0.value ?? "") }) { _, last in last }
        if let schema = query["search_path"] { configuration.options.additionalStartupParameters.append(("search_path", schema)) }
        // Every statement here is short, but while a table grows faster than autovacuum analyzes
        // it, the planner's estimates swell past `jit_above_cost` and it compiles a statement
        // with LLVM for 20–30 ms, longer than running it (seen on a claim's probe of recent
        // dials, inside the campaign's lock). JIT pays off only for long analytic queries.
        configuration.options.additionalStartupParameters.append(("jit", "off"))
        // The planner's default (4) prices a read by key as a spinning disk's seek. With a
        // table's statistics stale (a new campaign's first minute: autovacuum analyzes once a
        // minute at most), that made it join a claim's 500 leads by scanning and hashing the
        // whole table, inside the campaign's lock (docs/performance.md, fifteenth pass). 1.1 is
        // the usual setting for SSDs; `?random_page_cost=` in the URL sets another.
        let randomPageCost = query["random_page_cost"] ?? "1.1"
        // Checked here: PostgreSQL refuses the session, and the pool reports only that no
        // connection came.
        guard let cost = Double(randomPageCost), cost.isFinite, cost > 0 else {
            throw DatabaseURL.Failure.invalidSetting(name: "random_page_cost", value: randomPageCost, expected: "a positive number")
        }
        configuration.options.additionalStartupParameters.append(("random_page_cost", randomPageCost))
        if let max = query["max_connections"].flatMap(Int.init), max > 0 { configuration.options.maximumConnections = max }
        else { configuration.options.maximumConnections = 10 }
        configuration.options.connectTimeout = .seconds(2)
        return configuration
    }

    public func read<T: Sendable>(_ cost: ReadCost, _ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await withConnection { connection in try await body(PostgresDirectDatabase(connection: connection, logger: self.logger)) }
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await withConnection { connection in
            do {
                return try await connection.withTransaction(logger: self.logger) { connection in
                    try await body(PostgresDirectDatabase(connection: connection, logger: self.logger))
                }
            } catch let error as PostgresTransactionError {
                // The store's own errors (a conflict) and the server's pass through as
                // themselves; the rollback already happened.
                throw error.closureError ?? error.beginError ?? error.commitError ?? error
            }
        }
    }

    /// COPY's text: the rows' values, tab between, a line each.
    public func bulkRows(columns: [String], rows: [[String?]]) -> BulkRows {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(rows.count * 16 * columns.count)
        for row in rows {
            for (i, value) in row.enumerated() {
                if i > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
                if let value { Self.writeCopyText(value, to: &buffer) } else { buffer.writeString("\\N") }
            }
            buffer.writeInteger(UInt8(ascii: "\n"))
        }
        return BulkRows(columns: columns, count: rows.count, payload: .copyText(buffer))
    }

    /// `COPY … FROM STDIN` in text format, in one transaction.
    public func bulkInsert(_ rows: BulkRows, into table: String) async throws {
        guard case .copyText(let data) = rows.payload else { preconditionFailure("rows made for another backend") }
        guard rows.count > 0 else { return }
        try await withConnection { connection in
            try await connection.copyFrom(table: table, columns: rows.columns, logger: self.logger) { writer in
                try await writer.write(data)
            }
        }
    }

    /// COPY's text format: backslash, tab, newline and carriage return are escaped. The runs
    /// between them (usually the whole value) are written at once.
    static func writeCopyText(_ value: String, to buffer: inout ByteBuffer) {
        var value = value
        value.withUTF8 { bytes in
            var run = 0
            for (i, byte) in bytes.enumerated() {
                let escape: StaticString
                switch byte {
                case UInt8(ascii: "\\"): escape = "\\\\"
                case UInt8(ascii: "\t"): escape = "\\t"
                case UInt8(ascii: "\n"): escape = "\\n"
                case UInt8(ascii: "\r"): escape = "\\r"
                default: continue
                }
                buffer.writeBytes(UnsafeBufferPointer(rebasing: bytes[run..<i]))
                buffer.writeStaticString(escape)
                run = i + 1
            }
            buffer.writeBytes(UnsafeBufferPointer(rebasing: bytes[run...]))
        }
    }

    public func close() async {
        runner.cancel()
        _ = await runner.value
    }

    private enum Lease { case waiting, leased, timedOut }

    /// Runs `body` on a leased connection for at most `DatabaseDeadline.current`. After a server
    /// restart postgres-nio can leave a query on a dead connection that never gets an answer,
    /// not even when the connection is closed; an operation stuck like that is abandoned: its
    /// connection is closed, it fails with `DatabaseUnavailable`, and the caller tries again on
    /// a fresh connection. (Its pool slot stays taken until the driver lets go; that is logged.)
    /// A transaction cut this way never committed, or the server rolled it back.
    private func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let deadline = DatabaseDeadline.current
        let waiter = Locked<CheckedContinuation<T, any Error>?>(nil)
        let held = Locked<PostgresConnection?>(nil)
        let work = Locked<Task<Void, Never>?>(nil)
        let logger = self.logger
        @Sendable func finish(_ result: Result<T, any Error>) -> Bool {
            guard let continuation = waiter.withLock({ w -> CheckedContinuation<T, any Error>? in defer { w = nil }; return w }) else { return false }
            continuation.resume(with: result)
            return true
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                waiter.withLock { $0 = continuation }
                let timer = Task {
                    try await Task.sleep(for: deadline)
                    guard finish(.failure(DatabaseUnavailable(reason: "no answer within \(deadline)"))) else { return }
                    logger.error("abandoned a database operation held past its deadline; its connection is closed", metadata: ["deadline": "\(deadline)"])
                    if let connection = held.withLock({ $0 }) { Task { try? await connection.close() } }
                }
                work.withLock { $0 = Task {
                    let result: Result<T, any Error>
                    do {
                        result = .success(try await self.leased { connection in
                            held.withLock { $0 = connection }
                            defer { held.withLock { $0 = nil } }
                            return try await body(connection)
                        })
                    } catch {
                        result = .failure(error)
                    }
                    timer.cancel()
                    _ = finish(result)
                } }
            }
        } onCancel: {
            work.withLock { $0 }?.cancel()
        }
    }

    /// Leases a connection, giving up after `leaseTimeout` with `DatabaseUnavailable`, and
    /// turns connection-level failures into `DatabaseUnavailable` too, so callers can tell
    /// "the database is down" from a bad query.
    private func leased<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let state = Locked(Lease.waiting)
        let (client, meter) = (self.client, self.meter)
        meter.waiting(1)
        defer { if state.withLock({ $0 }) != .leased { meter.waiting(-1) } }
        let started = ContinuousClock.now
        // A warning for an operation that takes unusually long, saying whether it still waits
        // for a connection or holds one: where a stall is, when the database misbehaves.
        // Waiting 5 s for a connection always is; holding one is from a quarter of the
        // operation's deadline on: the engine's statements are short (from 5 s), while an
        // import may hold its connection for the copy of a million rows (~15 s; from 30 s).
        let usual = DatabaseDeadline.current / 4
        let watchdog = Task { [logger] in
            while true {
                try await Task.sleep(for: .seconds(5))
                let lease = state.withLock { $0 }
                if lease == .leased, ContinuousClock.now - started < usual { continue }
                logger.warning("slow database operation", metadata: [
                    "seconds": "\((ContinuousClock.now - started).components.seconds)", "connection": "\(lease)",
                ])
            }
        }
        defer { watchdog.cancel() }
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    try await client.withConnection { connection in
                        let won = state.withLock { lease -> Bool in
                            guard lease == .waiting else { return false }
                            lease = .leased
                            return true
                        }
                        guard won else { throw DatabaseUnavailable(reason: "no connection within the lease timeout") }
                        meter.waiting(-1)
                        meter.active(1)
                        defer { meter.active(-1) }
                        return try await body(connection)
                    }
                }
                group.addTask { [leaseTimeout] in
                    try await Task.sleep(for: leaseTimeout)
                    let expired = state.withLock { lease -> Bool in
                        guard lease == .waiting else { return false }
                        lease = .timedOut
                        return true
                    }
                    if expired { throw DatabaseUnavailable(reason: "no connection within \(leaseTimeout)") }
                    return nil
                }
                while let next = try await group.next() {
                    if let value = next {
                        group.cancelAll()
                        return value
                    }
                }
                throw DatabaseUnavailable(reason: "connection lease ended without a result")
            }
        } catch let error as PSQLError where Self.isConnectionFailure(error) {
            throw DatabaseUnavailable(reason: "\(error.code)")
        }
    }

    /// Holds one connection of the pool for as long as it listens. The notifications never
    /// end by themselves: cancelling closes the connection, which ends them.
    public func listen(_ channel: String, onNotify: @escaping @Sendable () -> Void) async throws {
        try await client.withConnection { connection in
            try await withTaskCancellationHandler {
                try await connection.listen(on: channel) { notifications in
                    for try await _ in notifications { onNotify() }
                }
            } onCancel: {
                let _: EventLoopFuture<Void> = connection.close()
            }
        }
    }

    /// A row that would repeat a unique key (SQLSTATE 23505).
    static func isUniqueViolation(_ error: any Error) -> Bool {
        (error as? PSQLError)?.serverInfo?[.sqlState] == "23505"
    }

    static func isUndefinedTable(_ error: any Error) -> Bool {
        (error as? PSQLError)?.serverInfo?[.sqlState] == "42P01"
    }

    static func isConnectionFailure(_ error: PSQLError) -> Bool {
        switch error.code {
        case .connectionError, .serverClosedConnection, .uncleanShutdown, .clientClosedConnection, .poolClosed:
            return true
        case .server:
            // Class 08 (connection exception) and 57 (operator intervention: shutting down,
            // starting up) mean the server, not the query.
            let state = error.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("08") || state.hasPrefix("57")
        default:
            return false
        }
    }
}
