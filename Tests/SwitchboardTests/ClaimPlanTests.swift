import Foundation
import Logging
import SQLKit
import Store
import SwitchboardCore
import Testing

/// The claim reads the queue through the partial index in due order: no scan of the table,
/// no sort, however many leads wait. Checked on PostgreSQL's planner with a realistic table.
@Suite struct ClaimPlanTests {
    @Test func theClaimQueryIsAnIndexScanWithoutASort() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-plan-\(UUID().uuidString)")
        let database = try await TestDatabase.open(.postgres, directory: directory)
        let store = Store(database: database, logger: .init(label: "test"))
        try await store.migrate()
        // Five campaigns of 10,000 leads, a tenth of them done: a queue the size where a sort
        // would cost (a small one the planner may rightly sort).
        try await database.write { db in
            try await db.raw("""
                INSERT INTO leads (campaign_id, phone_number, state, due_at)
                SELECT 'c' || (i % 5), '+1555' || lpad(i::text, 7, '0'), CASE WHEN i % 10 = 0 THEN 'done' ELSE 'queued' END, i
                FROM generate_series(1, 50000) AS i
                """).run()
        }
        try await database.write { db in try await db.raw("ANALYZE leads").run() }
        let query = store.dueLeads(campaignID: "c1", now: Date(timeIntervalSince1970: 1e9), excluding: [], limit: 200)
        let plan = try await database.read { db in
            try await db.raw("EXPLAIN " + query).all().map { try $0.decode(column: "QUERY PLAN", as: String.self) }
        }.joined(separator: "\n")
        #expect(plan.contains("Index Scan using leads_queue"), "\(plan)")
        #expect(!plan.contains("Sort"), "\(plan)")
        #expect(!plan.contains("Seq Scan"), "\(plan)")
        await database.close()
    }
}
