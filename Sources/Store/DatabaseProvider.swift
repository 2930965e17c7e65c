import NIOCore
import SQLKit
import SwitchboardCore

/// The two SQL engines Switchboard runs on. The store's SQL is one portable subset; the few
/// statements that differ ask the flavor.
public enum SQLFlavor: Sendable {
    case sqlite, postgres
}

/// A database as the store needs it: reads, and writes that are one transaction each.
/// Each backend is a provider; there is one store.
public protocol DatabaseProvider: Sendable {
    var flavor: SQLFlavor { get }
    func read<T: Sendable>(_ cost: ReadCost, _ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    /// Rows of text (or NULL) made ready for `bulkInsert`, on the caller's thread and with no
    /// connection held: COPY's text on PostgreSQL.
    func bulkRows(columns: [String], rows: [[String?]]) -> BulkRows
    /// Appends the rows to a table in one transaction, the fastest way the backend has:
    /// multi-row INSERTs on SQLite, COPY on PostgreSQL.
    func bulkInsert(_ rows: BulkRows, into table: String) async throws
    /// Calls `onNotify` for each notification on `channel` (PostgreSQL's LISTEN) until the task
    /// is cancelled; returns or throws when the connection is lost, for the caller to listen
    /// again. A backend without notifications waits until cancelled: its callers poll.
    func listen(_ channel: String, onNotify: @escaping @Sendable () -> Void) async throws
    func close() async
    /// How busy its connections are now, for the metrics.
    var usage: DatabaseUsage { get }
    /// Changes after every write transaction this provider runs, once it is visible to reads:
    /// while it holds, nothing read since has changed. Nil where other processes write the
    /// database too (PostgreSQL), so this process cannot know.
    var writeGeneration: UInt64? { get }
}

extension DatabaseProvider {
    public func bulkInsert(into table: String, columns: [String], rows: [[String?]]) async throws {
        try await bulkInsert(bulkRows(columns: columns, rows: rows), into: table)
    }

    /// A bounded read, as most are.
    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await read(.bounded, body)
    }
}

/// What a read may cost, which decides where SQLite runs it. A SQLite statement blocks the
/// thread it runs on; two hops to a connection's own thread and back cost more than a status
/// read's statements (~20 µs) and halved its throughput through HTTP.
public enum ReadCost: Sendable {
    /// Index seeks and pages bounded by a limit: on the caller's thread, like the rest of a
    /// request's work.
    case bounded
    /// Rows in proportion to a campaign (counts, a filter that may skip most of them): on the
    /// connection's own thread, so it never holds a thread of Swift's concurrency pool long.
    case scan
}

/// A provider's connections at one moment: operations holding one, operations waiting for one,
/// and how many there can be.
public struct DatabaseUsage: Sendable, Equatable {
    public var active = 0
    public var waiting = 0
    public var capacity = 0
}

/// Counts operations waiting for a connection and holding one.
final class UsageMeter: Sendable {
    private let counts = Locked(DatabaseUsage())

    init(capacity: Int) { counts.withLock { $0.capacity = capacity } }

    var usage: DatabaseUsage { counts.withLock { $0 } }

    func waiting(_ delta: Int) { counts.withLock { $0.waiting += delta } }
    func active(_ delta: Int) { counts.withLock { $0.active += delta } }
}

/// The database cannot be reached (down, restarting, out of connections): the API answers 503
/// and the dialer tries again, rather than either hanging.
public struct DatabaseUnavailable: Error, CustomStringConvertible {
    public let reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String { "database unavailable: \(reason)" }
}

/// Rows for `DatabaseProvider.bulkInsert`, as its backend sends them. Made apart from the
/// write, so that an upload prepares its next chunk on one core while one is written.
public struct BulkRows: Sendable {
    public let columns: [String]
    public let count: Int
    let payload: Payload

    enum Payload: Sendable {
        case values([[String?]])
        /// COPY's text format, a line a row.
        case copyText(ByteBuffer)
    }
}
