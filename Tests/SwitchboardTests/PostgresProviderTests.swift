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

    /// They price a read by key as on an SSD, unless the URL says otherwise: the default
    /// turned a claim's update of its leads into a scan of the table while its statistics
    /// were stale.
    @Test func sessionsPriceAReadByKeyAsOnAnSSD() async throws {
        let harness = Harness(.postgres)
        defer { try? FileManager.default.removeItem(at: harness.directory) }
        try await TestDatabase.prepare(harness.config.databaseURL)
        let url = harness.config.databaseURL
        let setting = { (query: String) in url + (url.contains("?") ? "&" : "?") + query }
        for (url, expected) in [(url, "1.1"), (setting("random_page_cost=4"), "4")] {
            let database = try await PostgresProvider.open(url: url, logger: Logger(label: "test"))
            let cost = try await database.read { db in
                try await db.raw("SHOW random_page_cost").first()?.decode(column: "random_page_cost", as: String.self)
            }
            await database.close()
            #expect(cost == expected)
        }
        // A value PostgreSQL would refuse is named before any connection is tried.
        #expect(throws: DatabaseURL.Failure.self) { try PostgresProvider.configuration(setting("random_page_cost=abc")) }
    }

    /// The store's sessions bind and read the common types themselves (`PostgresDirectDatabase`)
    /// and leave the rest to PostgresKit, a whole statement when one bind is of another type:
    /// either way a value reads back as it was bound.
    @Test func sessionsBindAndReadAsPostgresKitWould() async throws {
        let harness = Harness(.postgres)
        defer { try? FileManager.default.removeItem(at: harness.directory) }
        try await TestDatabase.prepare(harness.config.databaseURL)
        let epoch = Date(timeIntervalSince1970: 1_768_532_400)
        try await harness.withStore { store in
            try await store.database.read { db in
                let direct = try #require(try await db.raw("""
                    SELECT \(bind: "héllo ☎") AS s, \(bind: 42) AS i, \(bind: Int64(1) << 40) AS big, \(bind: 2.5) AS d, \(bind: String?.none) AS n,
                      \(bind: Int?.some(7)) AS oi, \(bind: true) AS b, \(bind: ["a", "b"]) AS arr, 12345678901::numeric AS num, 3::int4 AS small
                    """).first())
                #expect(direct is PostgresDirectRow)
                #expect(try direct.decode(column: "s", as: String.self) == "héllo ☎")
                #expect(try direct.decode(column: "i", as: Int.self) == 42)
                #expect(try direct.decode(column: "big", as: Int.self) == 1 << 40)
                #expect(try direct.decode(column: "d", as: Double.self) == 2.5)
                #expect(try direct.decode(column: "n", as: String?.self) == nil)
                #expect(try direct.decode(column: "oi", as: Int?.self) == 7)
                #expect(try direct.decode(column: "b", as: Bool.self))
                #expect(try direct.decode(column: "arr", as: [String].self) == ["a", "b"])
                #expect(try direct.decode(column: "num", as: Double.self) == 12_345_678_901)
                #expect(try direct.decode(column: "small", as: Int.self) == 3)
                #expect(throws: (any Error).self) { try direct.decode(column: "missing", as: String.self) }

                let other = try #require(try await db.raw("SELECT \(bind: epoch) AS at, \(bind: "x") AS s").first())
                #expect(!(other is PostgresDirectRow))
                #expect(try other.decode(column: "at", as: Date.self) == epoch)
                #expect(try other.decode(column: "s", as: String.self) == "x")
            }
        }
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
