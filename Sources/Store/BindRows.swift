import SQLKit
import SQLiteNIO

/// A value the store binds in its multi-row statements. It knows its SQLite storage class, so
/// the SQLite connection binds it without a dynamic cast; on PostgreSQL it is bound as the
/// `Encodable` it is.
protocol SQLBindable: Encodable, Sendable {
    var sqliteData: SQLiteData { get }
}

extension String: SQLBindable { var sqliteData: SQLiteData { .text(self) } }
extension Int: SQLBindable { var sqliteData: SQLiteData { .integer(self) } }
extension Int64: SQLBindable { var sqliteData: SQLiteData { .integer(Int(self)) } }
extension Double: SQLBindable { var sqliteData: SQLiteData { .float(self) } }
extension Bool: SQLBindable { var sqliteData: SQLiteData { .integer(self ? 1 : 0) } }
extension Optional: SQLBindable where Wrapped: SQLBindable {
    var sqliteData: SQLiteData { self?.sqliteData ?? .null }
}

/// `(?, ?, …), (?, ?, …)`: rows of binds for a multi-row INSERT or a VALUES list.
///
/// SQLKit serializes a bind as four existentials and a placeholder expression; a claim of 500
/// leads binds ~13,000 values, and that cost, on the writer's thread that every write waits
/// for, was a quarter of it. On `SQLiteDirectDatabase` the rows serialize as one run of `?`
/// placeholders and a single bind holding all their values, which the connection expands.
struct BindRows: SQLExpression {
    let rows: [[any SQLBindable]]

    func serialize(to serializer: inout SQLSerializer) {
        if serializer.database is SQLiteDirectDatabase {
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

extension Store {
    /// `(?, ?, …), (?, ?, …)`: rows of binds for a multi-row INSERT or a VALUES list.
    static func rows(_ rows: some Collection<[any SQLBindable]>) -> SQLQueryString {
        "\(BindRows(rows: Array(rows)))"
    }

    /// `WITH name(columns) AS (VALUES (…), (…))`: a batch of rows to join an UPDATE against, in
    /// the SQL that SQLite and PostgreSQL share.
    static func values(_ name: String, _ columns: [String], _ rows: [[any SQLBindable]]) -> SQLQueryString {
        "WITH \(unsafeRaw: name)(\(unsafeRaw: columns.joined(separator: ", "))) AS (VALUES \(BindRows(rows: rows)))"
    }
}
