import Logging
import NIOCore
import PostgresKit
import PostgresNIO
import SQLKit

/// `SQLDatabase` over one PostgreSQL connection: PostgresKit's dialect and statements, with the
/// store's common binds written and columns read by their concrete type. Through PostgresKit
/// each bind went through a cast to a protocol and each column through `Decodable` with a coding
/// path: 18% of a dialer's CPU on PostgreSQL (docs/performance.md, fourteenth pass). Whatever
/// this does not know goes PostgresKit's way, so what a statement binds and reads is unchanged.
struct PostgresDirectDatabase: SQLDatabase {
    let connection: PostgresConnection
    let logger: Logger
    var eventLoop: any EventLoop { connection.eventLoop }
    var dialect: any SQLDialect { PostgresDialect() }
    var queryLogLevel: Logger.Level? { nil }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) async throws {
        let (sql, binds) = serialize(query)
        guard let bindings = try Self.bindings(binds) else {
            return try await connection.sql(queryLogLevel: nil, logger: logger).execute(sql: query, onRow)
        }
        let rows = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
        for try await row in rows { onRow(PostgresDirectRow(row)) }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) -> EventLoopFuture<Void> {
        eventLoop.makeFutureWithTask { try await execute(sql: query, onRow) }
    }

    /// How many rows a statement wrote, from its command tag (`INSERT 0 n`). Counting the rows
    /// it returned instead (`WITH added AS (… RETURNING 1) SELECT COUNT(*)`) kept each in a
    /// tuplestore first: 0.2–0.5 s of a million-lead move.
    func rowsWritten(by query: any SQLExpression) async throws -> Int {
        let (sql, binds) = serialize(query)
        guard let bindings = try Self.bindings(binds) else { throw UnsupportedBind() }
        let metadata = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger) { _ in }.get()
        return metadata.rows ?? 0
    }

    struct UnsupportedBind: Error {}

    /// The binds as PostgresKit encodes them (the same types, the same wire format), compared
    /// by type first, the commonest first; nil when one is of another type.
    static func bindings(_ binds: [any Encodable & Sendable]) throws -> PostgresBindings? {
        var bindings = PostgresBindings(capacity: binds.count)
        for bind in binds {
            let type = type(of: bind)
            if type == String.self { bindings.append(bind as! String) }
            else if type == PostgresColumn.self { try bindings.append(bind as! PostgresColumn) }
            else if type == Double.self { bindings.append(bind as! Double) }
            else if type == Int.self { bindings.append(bind as! Int) }
            else if type == Int64.self { bindings.append(bind as! Int64) }
            else if type == String?.self { bindings.append(bind as! String?) }
            else if type == Double?.self { bindings.append(bind as! Double?) }
            else if type == Int?.self { bindings.append(bind as! Int?) }
            else if type == Int64?.self { bindings.append(bind as! Int64?) }
            else if type == Bool.self { bindings.append(bind as! Bool) }
            else if type == [String].self { bindings.append(bind as! [String]) }
            else { return nil }
        }
        return bindings
    }
}

/// A result row read by column name; the store's common shapes straight from the cell.
struct PostgresDirectRow: SQLRow {
    struct MissingColumn: Error { let column: String }

    let source: PostgresRow
    let cells: PostgresRandomAccessRow

    init(_ row: PostgresRow) {
        source = row
        cells = row.makeRandomAccess()
    }

    var allColumns: [String] { cells.map(\.columnName) }

    func contains(column: String) -> Bool { cells.contains(column) }

    func decodeNil(column: String) throws -> Bool { !cells.contains(column) || cells[column].bytes == nil }

    /// Text as `String`, integers as `Int`, floats as `Double`, booleans as `Bool` (each optional
    /// too) are read by PostgresNIO as PostgresKit would read them; any other pairing (a numeric
    /// as `Double`, a date, JSON) is PostgresKit's own decode. The checks on `D` fold away where
    /// the type is known (`SQLRow.typed`).
    func decode<D: Decodable>(column: String, as type: D.Type) throws -> D {
        guard cells.contains(column) else { throw MissingColumn(column: column) }
        let cell = cells[column]
        switch cell.dataType {
        case .text, .varchar:
            if D.self == String.self { return try cell.decode(String.self) as! D }
            if D.self == String?.self { return try cell.decode(String?.self) as! D }
        case .int8, .int4, .int2:
            if D.self == Int.self { return try cell.decode(Int.self) as! D }
            if D.self == Int?.self { return try cell.decode(Int?.self) as! D }
        case .float8:
            if D.self == Double.self { return try cell.decode(Double.self) as! D }
            if D.self == Double?.self { return try cell.decode(Double?.self) as! D }
        case .bool:
            if D.self == Bool.self { return try cell.decode(Bool.self) as! D }
            if D.self == Bool?.self { return try cell.decode(Bool?.self) as! D }
        default:
            break
        }
        return try source.sql().decode(column: column, as: D.self)
    }
}
