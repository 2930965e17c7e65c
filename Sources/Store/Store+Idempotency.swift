import Foundation
import SQLKit
import SwitchboardCore

extension Store {
    /// Keys are kept this long (Stripe's 24 hours).
    public static let idempotencyRetention: TimeInterval = 86_400
    /// A key still in flight after this long belongs to a process that died.
    public static let idempotencyAbandoned: TimeInterval = 600

    public func beginIdempotentRequest(organizationID: String, key: String, now: Date) async throws -> IdempotencyState {
        try await write { db in
            // Expired keys of the organization go first, so the table prunes itself.
            try await db.raw("""
                DELETE FROM idempotency_keys WHERE organization_id = \(bind: organizationID)
                  AND created_at < \(bind: now.epoch - Self.idempotencyRetention)
                """).run()
            try await db.raw("""
                DELETE FROM idempotency_keys WHERE organization_id = \(bind: organizationID) AND idempotency_key = \(bind: key)
                  AND state = 'in_flight' AND created_at < \(bind: now.epoch - Self.idempotencyAbandoned)
                """).run()
            let inserted = try await db.raw("""
                INSERT INTO idempotency_keys (organization_id, idempotency_key, state, created_at)
                VALUES (\(bind: organizationID), \(bind: key), 'in_flight', \(bind: now.epoch))
                ON CONFLICT DO NOTHING RETURNING idempotency_key
                """).first()
            if inserted != nil { return .started }
            guard let row = try await db.raw("""
                SELECT * FROM idempotency_keys WHERE organization_id = \(bind: organizationID) AND idempotency_key = \(bind: key)
                """).first(), try row.string("state") == "done" else { return .inFlight }
            return .done(fingerprint: try row.optionalString("fingerprint") ?? "", status: try row.optionalInt("response_status") ?? 200,
                         body: try row.optionalString("response_body") ?? "")
        }
    }

    public func finishIdempotentRequest(organizationID: String, key: String, fingerprint: String, status: Int, body: String) async throws {
        try await write { db in
            try await db.raw("""
                UPDATE idempotency_keys SET state = 'done', fingerprint = \(bind: fingerprint), response_status = \(bind: status),
                  response_body = \(bind: body) WHERE organization_id = \(bind: organizationID) AND idempotency_key = \(bind: key)
                """).run()
        }
    }

    /// The request was refused before it acted (bad input, a conflict): the key is free again.
    public func releaseIdempotentRequest(organizationID: String, key: String) async throws {
        try await write { db in
            try await db.raw("""
                DELETE FROM idempotency_keys WHERE organization_id = \(bind: organizationID) AND idempotency_key = \(bind: key) AND state = 'in_flight'
                """).run()
        }
    }
}
