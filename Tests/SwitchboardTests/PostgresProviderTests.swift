import Foundation
import Logging
import SQLKit
@testable import Store
import SwitchboardCore
@testable import SwitchboardServer
import Testing

/// How the store's PostgreSQL sessions are run: their settings, and what is logged of them.
@Suite struct PostgresProviderTests {
    /// The store's PostgreSQL sessions run without JIT compilation.
    @Test func sessionsRunWithoutJIT() async throws {
        let harness = Harness(.postgres)
        defer { try? FileManager.default.removeItem(at: harness.directory) }
        try await TestDatabase.prepare(harness.config.databaseURL)
        let jit = try await harness.withStore { store in
            try await store.database.read { db in try await db.raw("SHOW jit").first()?.decode(column: "jit", as: String.self) }
        }
        #expect(jit == "off")
    }

    /// An operation that holds its connection for 6 s is slow when its deadline is 12 s (a
    /// quarter is 3 s), and is not with the default deadline, which an import's copy of a
    /// million rows keeps to: the warning is for a stall, not for a long upload.
    @Test func holdingAConnectionIsSlowOnlyPastAQuarterOfTheDeadline() async throws {
        let harness = Harness(.postgres)
        defer { try? FileManager.default.removeItem(at: harness.directory) }
        try await TestDatabase.prepare(harness.config.databaseURL)
        let lines = Locked<[String]>([])
        let logger = Logger(label: "test") { label in
            SwitchboardLogHandler(label: label, format: .text) { line in lines.withLock { $0.append(line) } }
        }
        let database = try await PostgresProvider.open(url: harness.config.databaseURL, logger: logger)
        func sleep() async throws {
            _ = try await database.read { db in try await db.raw("SELECT pg_sleep(6)").run() }
        }
        func warnings() -> Int { lines.withLock { $0.filter { $0.contains("slow database operation") }.count } }
        try await sleep()
        #expect(warnings() == 0, "\(lines.withLock { $0 })")
        try await DatabaseDeadline.$current.withValue(.seconds(12)) { try await sleep() }
        #expect(warnings() == 1, "\(lines.withLock { $0 })")
        #expect(lines.withLock { $0.last?.contains("connection=leased") } == true)
        await database.close()
    }
}
