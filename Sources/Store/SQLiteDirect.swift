import CSQLiteConfig
import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO
import Synchronization
import VaporCSQLite

/// One SQLite connection driven through SQLite's C API on the calling thread, with its prepared
/// statements kept for reuse. The provider calls it only from the connection's own
/// `DedicatedThreadExecutor` and one transaction at a time. The SQLite library is sqlite-nio's
/// (one library in the process: two copies would not see each other's file locks).
final class SQLiteDirectConnection: @unchecked Sendable {
    private var handle: OpaquePointer?
    /// A kept statement, with its rows' column names once a run has read them: names and their
    /// index were built again for every run (a status read's campaign row has 30 columns).
    /// SQLite prepares a statement again when the schema changes, which can change its columns,
    /// so the names are kept only while SQLite's count of those prepares stays the same.
    private final class Kept {
        let statement: OpaquePointer
        private var columns: SQLiteDirectRow.Columns?
        private var prepares: Int32 = 0

        init(_ statement: OpaquePointer) { self.statement = statement }

        func columnNames() -> SQLiteDirectRow.Columns {
            let now = sqlite_nio_sqlite3_stmt_status(statement, SQLITE_STMTSTATUS_REPREPARE, 0)
            if let columns, now == prepares { return columns }
            let fresh = SQLiteDirectRow.Columns(statement)
            columns = fresh
            prepares = now
            return fresh
        }
    }
    private var statements: [String: Kept] = [:]
    private static let statementCacheSize = 256
    /// Multi-row statements (`BindRows`) are kept apart: a prepared statement of 300 rows of 9
    /// binds holds ~300 KB (`sqlite3 .stats`), and a batch of each size has a text of its own,
    /// so 256 of them could hold 75 MB. One is kept only when its text comes again (a full
    /// batch does; the odd sizes of a last batch seldom), and 16 at most.
    private var largeStatements: [String: Kept] = [:]
    private var largeTextsSeen: Set<Int> = []
    private static let largeStatementCacheSize = 16
    private static let largeStatementLength = 4_096
    private static let initialized = Mutex(false)
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(path: String) throws {
        Self.initialized.withLock { done in
            if !done { sqlite_nio_sqlite3_initialize(); done = true }
        }
        let flags = SQLITE_OPEN_CREATE | SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let status = sqlite_nio_sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK else {
            let error = SQLiteFailure(status, handle, sql: "open \(path)")
            sqlite_nio_sqlite3_close_v2(handle)
            throw error
        }
        // Without the query planner stability guarantee, SQLite marks a statement to be
        // prepared again whenever a parameter the planner looked at is bound (the leads
        // queue's partial index made every status read re-plan: 13% of its time). With it,
        // a kept statement keeps its plan; no query here needs a bound value to pick an index.
        let planner = switchboard_sqlite_enable_qpsg(UnsafeMutableRawPointer(handle))
        guard planner == SQLITE_OK else { throw SQLiteFailure(planner, handle, sql: "enable QPSG") }
    }

    /// Runs `sql` with `binds`, handing each row to `onRow`.
    func run(_ sql: String, binds: [SQLiteData], _ onRow: (SQLiteDirectRow) -> Void) throws {
        let (statement, kept) = try prepared(sql)
        defer {
            if kept != nil {
                // Its binds stay until the next run binds every parameter again.
                sqlite_nio_sqlite3_reset(statement)
            } else {
                sqlite_nio_sqlite3_finalize(statement)
            }
        }
        for (index, value) in binds.enumerated() {
            let position = Int32(index + 1)
            let status: Int32
            switch value {
            case .integer(let number): status = sqlite_nio_sqlite3_bind_int64(statement, position, Int64(number))
            case .float(let number): status = sqlite_nio_sqlite3_bind_double(statement, position, number)
            case .text(var text):
                // Its UTF-8 in place (a short string's on the stack): passing the String as a C
                // string copied each short one (a phone number, an id) to the heap first.
                status = text.withUTF8 { utf8 in
                    // No address is NULL to SQLite: an empty string gets one.
                    guard let base = utf8.baseAddress else {
                        return sqlite_nio_sqlite3_bind_text64(statement, position, "", 0, Self.transient, UInt8(SQLITE_UTF8))
                    }
                    return sqlite_nio_sqlite3_bind_text64(statement, position, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self),
                                                          UInt64(utf8.count), Self.transient, UInt8(SQLITE_UTF8))
                }
            case .null: status = sqlite_nio_sqlite3_bind_null(statement, position)
            case .blob(let bytes):
                status = bytes.withUnsafeReadableBytes {
                    sqlite_nio_sqlite3_bind_blob64(statement, position, $0.baseAddress, UInt64($0.count), Self.transient)
                }
            }
            guard status == SQLITE_OK else { throw SQLiteFailure(status, handle, sql: sql) }
        }
        var columns: SQLiteDirectRow.Columns?
        while true {
            let status = sqlite_nio_sqlite3_step(statement)
            if status == SQLITE_DONE { return }
            guard status == SQLITE_ROW else { throw SQLiteFailure(status, handle, sql: sql) }
            let names = columns ?? kept?.columnNames() ?? SQLiteDirectRow.Columns(statement)
            columns = names
            onRow(SQLiteDirectRow(columns: names, values: (0..<Int32(names.names.count)).map { Self.value(statement, $0) }))
        }
    }

    /// Frames in the write-ahead log after this connection's last commit, once `reportWALSize`
    /// has replaced SQLite's automatic checkpoint with this count.
    var pagesInWAL: Int { walPages.load(ordering: .relaxed) }
    private let walPages = Atomic(0)

    /// From now on a commit here records the WAL's size instead of checkpointing it (SQLite's
    /// automatic checkpoint is the hook this replaces).
    func reportWALSize() {
        _ = sqlite_nio_sqlite3_wal_hook(handle, { context, _, _, pages in
            guard let context else { return SQLITE_OK }
            Unmanaged<SQLiteDirectConnection>.fromOpaque(context).takeUnretainedValue().walPages.store(Int(pages), ordering: .relaxed)
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// A passive checkpoint: copies into the database what of the WAL it can without waiting on
    /// the writer or a reader.
    func checkpoint() throws {
        guard let handle else { return }
        let status = sqlite_nio_sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
        guard status == SQLITE_OK || status == SQLITE_BUSY else { throw SQLiteFailure(status, handle, sql: "checkpoint") }
    }

    func close() {
        for kept in statements.values { sqlite_nio_sqlite3_finalize(kept.statement) }
        for kept in largeStatements.values { sqlite_nio_sqlite3_finalize(kept.statement) }
        statements.removeAll()
        largeStatements.removeAll()
        sqlite_nio_sqlite3_close_v2(handle)
        handle = nil
    }

    /// The statement for `sql`, and its entry if it is kept for next time (if not, the caller
    /// finalizes it).
    /// `sql` is the statement's key: its text with each run of placeholders as a marker
    /// (`PlaceholderRun`), written out only here, to prepare it.
    private func prepared(_ sql: String) throws -> (OpaquePointer, kept: Kept?) {
        if let kept = statements[sql] ?? largeStatements[sql] { return (kept.statement, kept) }
        let text = PlaceholderRun.expand(sql)
        let large = text.utf8.count >= Self.largeStatementLength
        let keep = !large || largeTextsSeen.insert(sql.hashValue).inserted == false
        var statement: OpaquePointer?
        let flags = keep ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        let status = sqlite_nio_sqlite3_prepare_v3(handle, text, -1, flags, &statement, nil)
        guard status == SQLITE_OK, let statement else { throw SQLiteFailure(status, handle, sql: text) }
        guard keep else {
            if largeTextsSeen.count > 4_096 { largeTextsSeen.removeAll(keepingCapacity: true) }
            return (statement, nil)
        }
        // Statements with literal lists (`IN (…)` of varying length) have many texts: a bound.
        let kept = Kept(statement)
        if large {
            Self.keep(kept, for: sql, in: &largeStatements, limit: Self.largeStatementCacheSize)
        } else {
            Self.keep(kept, for: sql, in: &statements, limit: Self.statementCacheSize)
        }
        return (statement, kept)
    }

    private static func keep(_ kept: Kept, for sql: String, in cache: inout [String: Kept], limit: Int) {
        if cache.count >= limit {
            for old in cache.values { sqlite_nio_sqlite3_finalize(old.statement) }
            cache.removeAll(keepingCapacity: true)
        }
        cache[sql] = kept
    }

    private static func value(_ statement: OpaquePointer, _ column: Int32) -> SQLiteData {
        switch sqlite_nio_sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER: return .integer(Int(sqlite_nio_sqlite3_column_int64(statement, column)))
        case SQLITE_FLOAT: return .float(sqlite_nio_sqlite3_column_double(statement, column))
        case SQLITE_TEXT:
            guard let text = sqlite_nio_sqlite3_column_text(statement, column) else { return .text("") }
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, column))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, column))
            var buffer = ByteBufferAllocator().buffer(capacity: count)
            if let bytes = sqlite_nio_sqlite3_column_blob(statement, column) {
                buffer.writeBytes(UnsafeRawBufferPointer(start: bytes, count: count))
            }
            return .blob(buffer)
        default: return .null
        }
    }
}

/// What SQLite said, with the statement it said it about.
struct SQLiteFailure: Error, CustomStringConvertible {
    let code: Int32
    let message: String
    let sql: String

    init(_ code: Int32, _ handle: OpaquePointer?, sql: String) {
        self.code = code
        message = handle.flatMap { sqlite_nio_sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "SQLite error \(code)"
        self.sql = sql
    }

    var description: String { "SQLite error \(code): \(message) (in \(PlaceholderRun.expand(sql).prefix(200)))" }
}

/// A row: its values, and the statement's column names (shared by its rows; the first of two
/// columns with one name wins, as in sqlite-nio).
struct SQLiteDirectRow: SQLRow {
    final class Columns: Sendable {
        let names: [String]
        let index: [String: Int]
        /// Where the last name was found. Rows are mapped in about the order their columns
        /// were selected, so the next name is usually the next column: one string compare
        /// instead of hashing the name (a page of calls looks up 2,000 names).
        private let hint = Atomic<Int>(0)

        init(_ statement: OpaquePointer) {
            let count = sqlite_nio_sqlite3_column_count(statement)
            names = (0..<count).map { sqlite_nio_sqlite3_column_name(statement, $0).map { String(cString: $0) } ?? "" }
            index = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        }

        func position(of column: String) -> Int? {
            let guess = hint.load(ordering: .relaxed)
            // A later column of the same name is not the one the row answers with.
            if guess < names.count, names[guess] == column, names.count == index.count {
                hint.store(guess + 1, ordering: .relaxed)
                return guess
            }
            guard let found = index[column] else { return nil }
            hint.store(found + 1, ordering: .relaxed)
            return found
        }
    }

    struct MissingColumn: Error { let column: String }

    let columns: Columns
    let values: [SQLiteData]

    var allColumns: [String] { columns.names }

    func contains(column: String) -> Bool { columns.index[column] != nil }

    /// The stored value, as SQLite gave it.
    func value(_ column: String) throws -> SQLiteData {
        guard let position = columns.position(of: column) else { throw MissingColumn(column: column) }
        return values[position]
    }

    func decodeNil(column: String) throws -> Bool {
        guard let position = columns.position(of: column) else { return true }
        return values[position] == .null
    }

    /// The store's own shapes without a decoder (most of a page's columns are these); the
    /// checks on `D` fold away where the type is known (`SQLRow.typed`).
    func decode<D: Decodable>(column: String, as type: D.Type) throws -> D {
        let value = try value(column)
        switch value {
        case .text(let text) where D.self == String.self || D.self == String?.self: return text as! D
        case .integer(let number) where D.self == Int.self || D.self == Int?.self: return number as! D
        case .integer(let number) where D.self == Double.self || D.self == Double?.self: return Double(number) as! D
        case .float(let number) where D.self == Double.self || D.self == Double?.self: return number as! D
        case .null where D.self == String?.self: return String?.none as! D
        case .null where D.self == Int?.self: return Int?.none as! D
        case .null where D.self == Double?.self: return Double?.none as! D
        default: return try SQLiteDataDecoder().decode(D.self, from: value)
        }
    }
}

/// `SQLDatabase` over a `SQLiteDirectConnection`: SQLKit's SQLite dialect and value encoding,
/// each statement run at once on the calling thread.
struct SQLiteDirectDatabase: SQLDatabase {
    let connection: SQLiteDirectConnection
    let logger: Logger
    let eventLoop: any EventLoop
    var dialect: any SQLDialect { SQLiteDialect() }
    var queryLogLevel: Logger.Level? { nil }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) async throws {
        let (sql, binds) = serialize(query)
        var values: [SQLiteData] = []
        values.reserveCapacity(binds.count)
        var index = 0
        while index < binds.count {
            let bind = binds[index]
            // Compared by type first, the commonest first: a cast to a protocol looks up the
            // conformance each time, and a status read has six binds.
            let type = type(of: bind)
            if type == String.self, let text = bind as? String {
                values.append(.text(text))
                index += 1
            } else if type == SQLiteBindRun.self, let run = bind as? SQLiteBindRun {
                values += run.values
                index += max(1, run.values.count)
            } else {
                values.append(try Self.data(bind))
                index += 1
            }
        }
        try connection.run(sql, binds: values, onRow)
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) -> EventLoopFuture<Void> {
        eventLoop.makeFutureWithTask { try await execute(sql: query, onRow) }
    }

    /// A bind as SQLite stores it: the common types as `SQLBindable` says, the rest through
    /// SQLiteKit's encoder.
    private static func data(_ value: any Encodable & Sendable) throws -> SQLiteData {
        if let value = value as? any SQLBindable { return value.sqliteData }
        return try SQLiteDataEncoder().encode(value)
    }
}
