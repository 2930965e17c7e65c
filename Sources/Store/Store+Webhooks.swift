import Foundation
import SQLKit
import SwitchboardCore

extension Store {
    public func insertWebhookEndpoint(_ endpoint: WebhookEndpoint) async throws {
        let events = try Coding.json(endpoint.events.map(\.rawValue))
        try await write { db in
            try await db.raw("""
                INSERT INTO webhook_endpoints (id, organization_id, url, events, secret, description, status, created_at, updated_at)
                VALUES (\(bind: endpoint.id), \(bind: endpoint.organizationID), \(bind: endpoint.url), \(bind: events), \(bind: endpoint.secret),
                  \(bind: endpoint.description), \(bind: endpoint.status.rawValue), \(bind: endpoint.createdAt.epoch), \(bind: endpoint.createdAt.epoch))
                """).run()
        }
    }

    public func webhookEndpoints(organizationID: String) async throws -> [WebhookEndpoint] {
        try await database.read { db in
            try await db.raw("""
                SELECT * FROM webhook_endpoints WHERE organization_id = \(bind: organizationID) AND deleted_at IS NULL ORDER BY created_at DESC, id
                """).all().map(Self.endpoint)
        }
    }

    public func webhookEndpoint(id: String, organizationID: String) async throws -> WebhookEndpoint? {
        try await database.read { db in
            try await db.raw("""
                SELECT * FROM webhook_endpoints WHERE id = \(bind: id) AND organization_id = \(bind: organizationID) AND deleted_at IS NULL
                """).first().map(Self.endpoint)
        }
    }

    /// Deletes the endpoint; deliveries not yet made are dropped (history stays).
    public func deleteWebhookEndpoint(id: String, now: Date) async throws {
        try await write { db in
            try await db.raw("UPDATE webhook_endpoints SET deleted_at = \(bind: now.epoch), updated_at = \(bind: now.epoch) WHERE id = \(bind: id)").run()
            try await db.raw("""
                UPDATE webhook_deliveries SET status = 'failed', last_error = 'endpoint deleted', updated_at = \(bind: now.epoch)
                WHERE endpoint_id = \(bind: id) AND status = 'pending'
                """).run()
        }
    }

    /// Inside the transaction that makes them true: one delivery per event and subscribed
    /// active endpoint. Nothing is written for an organization without endpoints.
    func emit(_ db: any SQLDatabase, _ events: [WebhookEvent]) async throws {
        guard !events.isEmpty else { return }
        try await emit(db, events, to: try await webhookSubscribers(db, organizations: Set(events.map(\.organizationID))))
    }

    /// The organizations' active endpoints, read once by a transaction that may emit many
    /// events: it builds only the events someone takes (most organizations have no endpoint).
    func webhookSubscribers(_ db: any SQLDatabase, organizations: Set<String>) async throws -> WebhookSubscribers {
        guard !organizations.isEmpty else { return WebhookSubscribers() }
        var subscribers = WebhookSubscribers()
        for row in try await db.raw("""
            SELECT id, organization_id, events FROM webhook_endpoints
            WHERE organization_id IN (\(binds: Array(organizations))) AND status = 'active' AND deleted_at IS NULL
            """).all() {
            let types = Set(try Coding.decode([String].self, try row.string("events")))
            subscribers.endpoints[try row.string("organization_id"), default: []].append((try row.string("id"), types))
        }
        return subscribers
    }

    func emit(_ db: any SQLDatabase, _ events: [WebhookEvent], to subscribers: WebhookSubscribers) async throws {
        guard !subscribers.endpoints.isEmpty else { return }
        var rows: [[any SQLBindable]] = []
        for event in events where subscribers.want(event.type, from: event.organizationID) {
            let payload = event.payload
            let messageID = Identifier.make("msg_", bytes: 12)
            for endpoint in subscribers.endpoints[event.organizationID] ?? [] where endpoint.events.contains(event.type.rawValue) {
                rows.append([endpoint.id, event.organizationID, messageID, event.type.rawValue, payload, "pending",
                             event.occurredAt.epoch, event.occurredAt.epoch, event.occurredAt.epoch])
            }
        }
        if !rows.isEmpty { CommitNotes.current?.webhookDeliveries.withLock { $0 = true } }
        for chunk in rows.chunked(300) {
            try await db.raw("""
                INSERT INTO webhook_deliveries (endpoint_id, organization_id, message_id, event_type, payload, status, next_attempt_at,
                  created_at, updated_at)
                """ + Self.rows(chunk)).run()
        }
    }

    /// Claims due deliveries for `lease` seconds: another sender skips them until then, and
    /// takes them over if this one dies (at least once; receivers de-duplicate on the id).
    public func claimDeliveries(now: Date, limit: Int, lease: TimeInterval) async throws -> [OutgoingDelivery] {
        try await write { db in
            var select: SQLQueryString = """
                SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= \(bind: now.epoch)
                ORDER BY next_attempt_at, id LIMIT \(literal: limit)
                """
            if database.flavor == .postgres { select += " FOR UPDATE SKIP LOCKED" }
            let ids = try await db.raw(select).all().map { Int64(try $0.int("id")) }
            guard !ids.isEmpty else { return [] }
            try await db.raw("UPDATE webhook_deliveries SET next_attempt_at = \(bind: now.epoch + lease) WHERE id IN (\(binds: ids))").run()
            return try await db.raw("""
                SELECT d.*, e.url, e.secret FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
                WHERE d.id IN (\(binds: ids)) ORDER BY d.id
                """).all().map { row in
                OutgoingDelivery(delivery: try Self.delivery(row), url: try row.string("url"), secret: try row.string("secret"))
            }
        }
    }

    public func recordDelivery(_ delivery: WebhookDelivery, result: DeliveryResult, now: Date) async throws {
        try await write { db in
            let attempts = delivery.attempts + 1
            switch result {
            case .delivered(let status):
                try await db.raw("""
                    UPDATE webhook_deliveries SET status = 'delivered', attempts = \(bind: attempts), last_status_code = \(bind: status),
                      last_error = NULL, delivered_at = \(bind: now.epoch), updated_at = \(bind: now.epoch) WHERE id = \(bind: delivery.id)
                    """).run()
            case .retry(let at, let status, let error):
                try await db.raw("""
                    UPDATE webhook_deliveries SET attempts = \(bind: attempts), last_status_code = \(bind: status), last_error = \(bind: error),
                      next_attempt_at = \(bind: at.epoch), updated_at = \(bind: now.epoch) WHERE id = \(bind: delivery.id)
                    """).run()
            case .failed(let status, let error):
                try await db.raw("""
                    UPDATE webhook_deliveries SET status = 'failed', attempts = \(bind: attempts), last_status_code = \(bind: status),
                      last_error = \(bind: error), updated_at = \(bind: now.epoch) WHERE id = \(bind: delivery.id)
                    """).run()
            case .gone:
                try await db.raw("""
                    UPDATE webhook_endpoints SET status = 'disabled', status_reason = 'the endpoint answered 410 Gone', updated_at = \(bind: now.epoch)
                    WHERE id = \(bind: delivery.endpointID)
                    """).run()
                try await db.raw("""
                    UPDATE webhook_deliveries SET status = 'failed', last_error = 'endpoint disabled: it answered 410 Gone', updated_at = \(bind: now.epoch),
                      attempts = CASE WHEN id = \(bind: delivery.id) THEN \(bind: attempts) ELSE attempts END,
                      last_status_code = CASE WHEN id = \(bind: delivery.id) THEN 410 ELSE last_status_code END
                    WHERE endpoint_id = \(bind: delivery.endpointID) AND status = 'pending'
                    """).run()
            }
        }
    }

    /// An endpoint's deliveries, newest first, before delivery id `before`.
    public func deliveries(endpointID: String, before: Int64?, limit: Int) async throws -> [WebhookDelivery] {
        try await database.read { db in
            var sql: SQLQueryString = "SELECT * FROM webhook_deliveries WHERE endpoint_id = \(bind: endpointID)"
            if let before { sql += " AND id < \(bind: before)" }
            sql += " ORDER BY id DESC LIMIT \(literal: limit)"
            return try await db.raw(sql).all().map(Self.delivery)
        }
    }

    /// Sends a delivery's event again, as a new delivery with the same `webhook-id` (so a
    /// receiver that already has it can tell); nil when the endpoint has no such delivery.
    public func replayDelivery(id: Int64, endpointID: String, now: Date) async throws -> WebhookDelivery? {
        try await write { db in
            guard let row = try await db.raw("""
                INSERT INTO webhook_deliveries (endpoint_id, organization_id, message_id, event_type, payload, status, next_attempt_at,
                  created_at, updated_at)
                SELECT endpoint_id, organization_id, message_id, event_type, payload, 'pending', \(bind: now.epoch), \(bind: now.epoch), \(bind: now.epoch)
                FROM webhook_deliveries WHERE id = \(bind: id) AND endpoint_id = \(bind: endpointID)
                RETURNING *
                """).first() else { return nil }
            return try Self.delivery(row)
        }
    }

    static func endpoint(_ row: any SQLRow) throws -> WebhookEndpoint {
        WebhookEndpoint(
            id: try row.string("id"), organizationID: try row.string("organization_id"), url: try row.string("url"),
            events: try Coding.decode([String].self, try row.string("events")).compactMap(WebhookEventType.init(rawValue:)),
            secret: try row.string("secret"), description: try row.optionalString("description"), status: try row.value("status"),
            statusReason: try row.optionalString("status_reason"), createdAt: try row.date("created_at"))
    }

    static func delivery(_ row: any SQLRow) throws -> WebhookDelivery {
        WebhookDelivery(
            id: Int64(try row.int("id")), endpointID: try row.string("endpoint_id"), messageID: try row.string("message_id"),
            eventType: try row.value("event_type"), payload: try row.string("payload"), status: try row.value("status"),
            attempts: try row.int("attempts"), nextAttemptAt: try row.date("next_attempt_at"), lastStatusCode: try row.optionalInt("last_status_code"),
            lastError: try row.optionalString("last_error"), createdAt: try row.date("created_at"), deliveredAt: try row.optionalDate("delivered_at"))
    }
}

/// Who takes which events: each organization's active endpoints and their event types.
struct WebhookSubscribers {
    var endpoints: [String: [(id: String, events: Set<String>)]] = [:]

    func want(_ type: WebhookEventType, from organizationID: String) -> Bool {
        endpoints[organizationID]?.contains { $0.events.contains(type.rawValue) } ?? false
    }
}
