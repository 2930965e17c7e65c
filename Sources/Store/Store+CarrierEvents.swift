import Foundation
import SQLKit
import SwitchboardCore

extension Store {
    /// The channel dialers LISTEN on for new carrier reports (PostgreSQL).
    public static let carrierEventsChannel = "switchboard_carrier_events"

    /// Keeps a report for whichever process dials its call; on PostgreSQL, wakes the dialers
    /// when it commits. `receivedAt` is real time: readers look back a few seconds of it.
    public func recordCarrierEvent(_ event: CarrierCallEvent, provider: ProviderName, receivedAt now: Date = Date()) async throws {
        let text = try Coding.json(event)
        try await write { db in
            try await db.raw("""
                INSERT INTO carrier_events (provider, attempt_id, event, created_at)
                VALUES (\(bind: provider.rawValue), \(bind: event.attemptID), \(bind: text), \(bind: now.epoch))
                """).run()
            if database.flavor == .postgres {
                try await db.raw("SELECT pg_notify(\(bind: Self.carrierEventsChannel), '')").run()
            }
        }
    }

    /// A page of the reports received since `since` (real time), by id after `afterID`. Read by time, not by id: ids
    /// are taken when a transaction inserts and may commit out of order, so "after the last id
    /// seen" could skip one that committed late.
    public func carrierEvents(since: Date, afterID: Int64 = 0, limit: Int = 1_000) async throws -> [StoredCarrierEvent] {
        try await database.read { db in
            try await db.raw("""
                SELECT * FROM carrier_events WHERE created_at >= \(bind: since.epoch) AND id > \(bind: afterID) ORDER BY id LIMIT \(literal: limit)
                """).all().map { row in
                StoredCarrierEvent(id: Int64(try row.int("id")), provider: try row.value("provider"),
                                   event: try Coding.decode(CarrierCallEvent.self, try row.string("event")), receivedAt: try row.date("created_at"))
            }
        }
    }

    /// Forgets reports older than `before`: every dial waiting on them has read them or given up.
    public func pruneCarrierEvents(before: Date) async throws {
        try await write { db in
            try await db.raw("DELETE FROM carrier_events WHERE created_at < \(bind: before.epoch)").run()
        }
    }
}
