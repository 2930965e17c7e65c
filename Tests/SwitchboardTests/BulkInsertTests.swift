import Foundation
import SQLKit
@testable import Store
import SwitchboardServer
import Testing

@Suite struct BulkInsertTests {
    /// Values that COPY's text format must escape (PostgreSQL) or that binds carry as they are
    /// (SQLite) come back unchanged, beside plain ones and NULL.
    @Test(arguments: Backend.allCases) func valuesComeBackAsWritten(_ backend: Backend) async throws {
        let harness = Harness(backend)
        defer { try? FileManager.default.removeItem(at: harness.directory) }
        let values = ["plain", "tab\there", "line\nbreak\r\n", #"back\slash \N"#, "quote \" é 🙂", ""]
        try await TestDatabase.prepare(harness.config.databaseURL)
        let read = try await harness.withStore { store in
            try await store.migrate()
            try await store.database.bulkInsert(into: "lead_staging", columns: ["import_id", "phone_number", "fields"],
                                                rows: values.enumerated().map { ["\($0.offset)", $0.element, nil] }
                                                    + [["99", "+15550000001", #"{"a":"b\tc"}"#]])
            return try await store.database.read { db in
                try await db.raw("SELECT import_id, phone_number, fields FROM lead_staging ORDER BY import_id").all()
                    .map { [try $0.decode(column: "phone_number", as: String.self), try $0.decode(column: "fields", as: String?.self) ?? "NULL"] }
            }
        }
        #expect(read == values.map { [$0, "NULL"] } + [["+15550000001", #"{"a":"b\tc"}"#]])
    }

    /// Rows of binds (`Store.values`, `Store.rows`) come back as written on both databases:
    /// on PostgreSQL each column is one array, NULLs and all, between binds that keep their
    /// places; rows with a column of values of two types are bound value by value instead.
    @Test(arguments: Backend.allCases) func rowsOfBindsComeBackAsWritten(_ backend: Backend) async throws {
        let harness = Harness(backend)
        defer { try? FileManager.default.removeItem(at: harness.directory) }
        try await TestDatabase.prepare(harness.config.databaseURL)
        let rows: [[any SQLBindable]] = [["tab\there 🙂", 1, 1.5, true], [String?.none, Int64(2), Double?.none, false], ["", 3, -0.25, true],
                                         [String?.none, 4, Double?.none, false]]
        let (read, mixed) = try await harness.withStore { store in
            try await store.database.write { db in
                let read = try await db.raw("SELECT \(bind: "first") AS head, v.* FROM (" + Store.values("v", ["name", "n", "x", "flag"], rows)
                                            + " SELECT * FROM v) AS v WHERE v.n <> \(bind: 2) ORDER BY v.n").all().map { row in
                    [try row.decode(column: "head", as: String.self), try row.decode(column: "name", as: String?.self) ?? "nil",
                     "\(try row.decode(column: "n", as: Int.self))", try row.decode(column: "x", as: Double?.self).map { "\($0)" } ?? "nil",
                     "\(try row.decode(column: "flag", as: Bool.self))"]
                }
                let mixed = try await db.raw(Store.values("m", ["n", "x"], [[1, 7], [2, 2.5]]) + " SELECT x FROM m ORDER BY n").all()
                    .map { try $0.decode(column: "x", as: Double.self) }
                return (read, mixed)
            }
        }
        #expect(read == [["first", "tab\there 🙂", "1", "1.5", "true"], ["first", "", "3", "-0.25", "true"], ["first", "nil", "4", "nil", "false"]])
        #expect(mixed == [7, 2.5])
    }
}
