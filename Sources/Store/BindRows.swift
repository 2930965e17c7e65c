import NIOCore
import PostgresNIO
import SQLKit
import SQLiteNIO

/// A value the store binds in its multi-row statements. It knows its SQLite storage class, so
/// the SQLite connection binds it without a dynamic cast, and how it is written as an element
/// of a PostgreSQL array, so a column of them is one bind there.
protocol SQLBindable: Encodable, Sendable {
    var sqliteData: SQLiteData { get }
    /// The PostgreSQL type of an element (`text`, `int8`, …): a column of one such type is
    /// bound as one array.
    static var postgresElement: PostgresDataType { get }
    /// The element's bytes in PostgreSQL's binary format, without its length; `false` for NULL.
    func writePostgresElement(into buffer: inout ByteBuffer) -> Bool
}

extension String: SQLBindable {
    var sqliteData: SQLiteData { .text(self) }
    static var postgresElement: PostgresDataType { .text }
    func writePostgresElement(into buffer: inout ByteBuffer) -> Bool { buffer.writeString(self); return true }
}
extension Int: SQLBindable {
    var sqliteData: SQLiteData { .integer(self) }
    static var postgresElement: PostgresDataType { .int8 }
    func writePostgresElement(into buffer: inout ByteBuffer) -> Bool { buffer.writeInteger(Int64(self)); return true }
}
extension Int64: SQLBindable {
    var sqliteData: SQLiteData { .integer(Int(self)) }
    static var postgresElement: PostgresDataType { .int8 }
    func writePostgresElement(into buffer: inout ByteBuffer) -> Bool { buffer.writeInteger(self); return true }
}
extension Double: SQLBindable {
    var sqliteData: SQLiteData { .float(self) }
    static var postgresElement: PostgresDataType { .float8 }
    func writePostgresElement(into buffer: inout ByteBuffer) -> Bool { buffer.writeInteger(bitPattern); return true }
}
extension Bool: SQLBindable {
    var sqliteData: SQLiteData { .integer(self ? 1 : 0) }
    static var postgresElement: PostgresDataType { .bool }
    func writePostgresElement(into buffer: inout ByteBuffer) -> Bool { buffer.writeInteger(UInt8(self ? 1 : 0)); return true }
}
extension Optional: SQLBindable where Wrapped: SQLBindable {
    var sqliteData: SQLiteData { self?.sqliteData ?? .null }
    static var postgresElement: PostgresDataType { Wrapped.postgresElement }
    func writePostgresElement(into buffer: inout ByteBuffer) -> Bool { self?.writePostgresElement(into: &buffer) ?? false }
}

/// The rows of a multi-row INSERT, or of a `WITH v(…) AS (…)` to join an UPDATE against:
/// `VALUES (?, ?, …), (?, ?, …)`, or on PostgreSQL `SELECT * FROM unnest($1, $2, …)`.
///
/// SQLKit serializes a bind as four existentials and a placeholder expression; a claim of 500
/// leads binds ~13,000 values, and that cost, on the writer's thread that every write waits
/// for, was a quarter of it. On `SQLiteDirectDatabase` the rows serialize as one run of `?`
/// placeholders and a single bind holding all their values, which the connection expands. On
/// PostgreSQL each column is one array bind (`PostgresColumn`): a statement's text and its
/// binds' count no longer grow with its rows, so the server parses and plans a few binds, not
/// thousands, and the client encodes each value without a dynamic cast.
struct BindRows: SQLExpression {
    let rows: [[any SQLBindable]]

    func serialize(to serializer: inout SQLSerializer) {
        if serializer.database is SQLiteDirectDatabase {
            serializer.write("VALUES ")
            var values: [SQLiteData] = []
            values.reserveCapacity(rows.count * (rows.first?.count ?? 0))
            for row in rows {
                for value in row { values.append(value.sqliteData) }
            }
            serializer.write(PlaceholderRun.marker(rows: rows.count, columns: rows.first?.count ?? 0))
            // SQLite numbers a bare `?` one past the highest number so far, and SQLKit numbers
            // its own placeholders by the binds written before them: the run holds its first
            // place, and empty slots hold the rest, for placeholders after it to count right.
            guard !values.isEmpty else { return }
            serializer.binds.append(SQLiteBindRun(values: values))
            serializer.binds.append(contentsOf: repeatElement(SQLiteBindRun.Slot() as any Encodable & Sendable, count: values.count - 1))
            return
        }
        if serializer.dialect.name == "postgresql", let columns = PostgresColumn.columns(of: rows) {
            serializer.write("SELECT * FROM unnest(")
            for (index, column) in columns.enumerated() {
                if index > 0 { serializer.write(", ") }
                serializer.write(bind: column)
            }
            serializer.write(")")
            return
        }
        serializer.write("VALUES ")
        for (index, row) in rows.enumerated() {
            serializer.write(index == 0 ? "(" : ", (")
            for (column, value) in row.enumerated() {
                if column > 0 { serializer.write(", ") }
                serializer.write(bind: value)
            }
            serializer.write(")")
        }
    }

}

/// A run of placeholders in a SQLite statement's text, written as a short marker
/// (`\u{1}500x13\u{1}`: 500 rows of 13). The text with its markers is the key of the
/// connection's kept statements; only preparing a statement writes the placeholders out. A
/// claim's statements ran to tens of kilobytes of `?, ?` that were built, hashed and compared
/// whole on every run, for a statement already prepared (a tenth of the dialer's writer thread
/// in a profile). Rows of a statement have the same columns: SQLite rejects a VALUES list whose
/// rows differ. The delimiter, U+0001, appears nowhere else in our SQL: every value is bound.
enum PlaceholderRun {
    static let delimiter = UInt8(1)

    static func marker(rows: Int, columns: Int) -> String {
        rows == 0 ? "" : "\u{1}\(rows)x\(columns)\u{1}"
    }

    /// `sql` with each marker written out as `(?, ?), (?, ?)`; the same text when it has none.
    static func expand(_ sql: String) -> String {
        guard sql.utf8.contains(delimiter) else { return sql }
        var parts = sql.utf8.split(separator: delimiter, omittingEmptySubsequences: false).map { String(Substring($0)) }
        // Markers sit between delimiters: the odd parts.
        for index in stride(from: 1, to: parts.count, by: 2) {
            let size = parts[index].split(separator: "x").compactMap { Int($0) }
            guard size.count == 2 else { continue }
            parts[index] = placeholders(rows: size[0], columns: size[1])
        }
        return parts.joined()
    }

    /// `(?, ?), (?, ?)`, copied row by row from one row's text.
    static func placeholders(rows: Int, columns: Int) -> String {
        guard rows > 0 else { return "" }
        let row = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
        return row + String(repeating: ", " + row, count: rows - 1)
    }
}

/// The values behind a run of `?` placeholders, in order: one SQLKit bind, followed by a `Slot`
/// for each of its values after the first, that `SQLiteDirectDatabase` expands. Nothing else
/// may see them.
struct SQLiteBindRun: Encodable, Sendable {
    let values: [SQLiteData]

    struct Slot: Encodable, Sendable {
        func encode(to encoder: any Encoder) throws { throw OnlyForSQLiteDirect() }
    }

    struct OnlyForSQLiteDirect: Error {}

    func encode(to encoder: any Encoder) throws { throw OnlyForSQLiteDirect() }
}

/// One column of a `BindRows` as a PostgreSQL array, in binary: the header (one dimension,
/// whether any element is NULL, the elements' type, the length and lower bound), then each
/// element as its length (-1 for NULL) and its bytes.
struct PostgresColumn: PostgresThrowingDynamicTypeEncodable, Encodable, Sendable {
    let rows: [[any SQLBindable]]
    let index: Int
    let element: PostgresDataType

    /// The rows' columns, or nil when a column's values are not all of one PostgreSQL type (its
    /// rows are then bound value by value).
    static func columns(of rows: [[any SQLBindable]]) -> [PostgresColumn]? {
        guard let first = rows.first, !first.isEmpty, rows.count <= Int(Int32.max) else { return nil }
        var columns: [PostgresColumn] = []
        columns.reserveCapacity(first.count)
        for index in first.indices {
            let element = type(of: first[index]).postgresElement
            guard element.arrayType != nil else { return nil }
            for row in rows where row.count != first.count || type(of: row[index]).postgresElement != element { return nil }
            columns.append(PostgresColumn(rows: rows, index: index, element: element))
        }
        return columns
    }

    var psqlType: PostgresDataType { element.arrayType ?? .init(0) }
    var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) throws {
        buffer.writeInteger(Int32(1))
        let nullsAt = buffer.writerIndex
        buffer.writeInteger(Int32(0))
        buffer.writeInteger(Int32(bitPattern: element.rawValue))
        buffer.writeInteger(Int32(rows.count))
        buffer.writeInteger(Int32(1))
        var nulls = false
        for row in rows {
            let lengthAt = buffer.writerIndex
            buffer.writeInteger(Int32(0))
            if row[index].writePostgresElement(into: &buffer) {
                buffer.setInteger(Int32(buffer.writerIndex - lengthAt - 4), at: lengthAt)
            } else {
                buffer.setInteger(Int32(-1), at: lengthAt)
                nulls = true
            }
        }
        if nulls { buffer.setInteger(Int32(1), at: nullsAt) }
    }

    /// Only `encode(into:context:)` writes a column: it is bound on PostgreSQL alone.
    func encode(to encoder: any Encoder) throws { throw OnlyForPostgres() }
    struct OnlyForPostgres: Error {}
}

extension PostgresDataType {
    /// The type of a one-dimensional array of this type.
    fileprivate var arrayType: PostgresDataType? {
        switch self {
        case .text: .textArray
        case .int8: .int8Array
        case .float8: .float8Array
        case .bool: .boolArray
        default: nil
        }
    }
}

extension Store {
    /// `VALUES (?, ?, …), (?, ?, …)` (or its PostgreSQL form): rows for a multi-row INSERT.
    static func rows(_ rows: some Collection<[any SQLBindable]>) -> SQLQueryString {
        "\(BindRows(rows: Array(rows)))"
    }

    /// `WITH name(columns) AS (VALUES (…), (…))`: a batch of rows to join an UPDATE against.
    static func values(_ name: String, _ columns: [String], _ rows: [[any SQLBindable]]) -> SQLQueryString {
        "WITH \(unsafeRaw: name)(\(unsafeRaw: columns.joined(separator: ", "))) AS (\(BindRows(rows: rows)))"
    }
}
