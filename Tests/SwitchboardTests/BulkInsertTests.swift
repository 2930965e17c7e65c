import Foundation
import SQLKit
import Store
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
}
