import Foundation
import SQLKit
import SwitchboardCore

extension Store {
    /// Cancels a live campaign: leads not yet dialed will not be (`not_called`); calls in flight
    /// finish and, the campaign no longer being live, are not retried. False when it was not
    /// live (already canceled, completed, ended).
    public func cancelCampaign(id: String, now: Date) async throws -> Bool {
        try await writeCounting { db, counts in
            let changed = try await db.raw("""
                UPDATE campaigns SET status = 'canceled', status_reason = 'cancelled by user', updated_at = \(bind: now.epoch)
                WHERE id = \(bind: id) AND deleted_at IS NULL AND status IN ('active', 'paused') RETURNING id
                """).first() != nil
            if changed {
                let moved = try await db.raw("""
                    UPDATE leads SET state = 'not_called', due_reason = 'canceled' WHERE campaign_id = \(bind: id) AND state = 'queued'
                    RETURNING attempts
                    """).all().map { try $0.int("attempts") }
                counts.moveQueued(id, attempts: moved, to: LeadCounts.notCalled("canceled"))
            }
            return changed
        }
    }

    /// Dials again every lead whose final outcome is one of `outcomes`, on the same call (the
    /// retry history grows by one attempt). When any lead is re-queued the campaign is active
    /// again until at least `until`, and its `retry_count` grows by one.
    public func retryCampaign(id: String, outcomes: [Outcome], until: Date, now: Date) async throws -> RetryResult {
        let names = outcomes.map(\.rawValue)
        return try await writeCounting { db, counts in
            let status = try await db.raw("SELECT status FROM campaigns WHERE id = \(bind: id) AND deleted_at IS NULL")
                .first()?.string("status")
            guard status != CampaignStatus.canceled.rawValue else { return .canceled }
            let count = try await db.raw("""
                SELECT COUNT(*) AS n FROM leads WHERE campaign_id = \(bind: id) AND state = 'done' AND last_outcome IN (\(binds: names))
                """).first()?.int("n") ?? 0
            guard count > 0 else { return .retried(0) }
            try await db.raw("""
                UPDATE calls SET status = 'retry_scheduled', updated_at = \(bind: now.epoch) WHERE id IN (
                  SELECT call_id FROM leads WHERE campaign_id = \(bind: id) AND state = 'done' AND last_outcome IN (\(binds: names)))
                """).run()
            for row in try await db.raw("""
                UPDATE leads SET state = 'queued', due_at = \(bind: now.epoch), due_reason = 'retry'
                WHERE campaign_id = \(bind: id) AND state = 'done' AND last_outcome IN (\(binds: names))
                RETURNING last_outcome, attempts
                """).all() {
                counts.move(id, from: LeadCounts.done(try row.optionalString("last_outcome") ?? Outcome.failed.rawValue),
                            to: LeadCounts.queued(attempts: try row.int("attempts")))
            }
            try await db.raw("""
                UPDATE campaigns SET status = 'active', status_reason = NULL, retry_count = retry_count + 1, updated_at = \(bind: now.epoch),
                  end_at = CASE WHEN end_at < \(bind: until.epoch) THEN \(bind: until.epoch) ELSE end_at END
                WHERE id = \(bind: id)
                """).run()
            return .retried(count)
        }
    }

    /// A page of the organization's campaigns of one kind, newest first, after `cursor`.
    public func campaigns(organizationID: String, userID: String?, kind: CampaignKind, agentID: String?, after cursor: CampaignCursor?,
                          limit: Int) async throws -> [CampaignRecord] {
        try await database.read { db in
            var sql: SQLQueryString = "SELECT * FROM campaigns WHERE organization_id = \(bind: organizationID) AND kind = \(bind: kind.rawValue) AND deleted_at IS NULL"
            if let userID { sql += " AND user_id = \(bind: userID)" }
            if let agentID {
                // The agent lives in the settings document.
                let agent = database.flavor == .sqlite ? "json_extract(settings, '$.agentID')" : "(settings::json ->> 'agentID')"
                sql += " AND \(unsafeRaw: agent) = \(bind: agentID)"
            }
            if let cursor {
                sql += " AND (created_at < \(bind: cursor.createdAt) OR (created_at = \(bind: cursor.createdAt) AND id < \(bind: cursor.id)))"
            }
            sql += " ORDER BY created_at DESC, id DESC LIMIT \(literal: limit)"
            return try await db.raw(sql).all().map(Self.campaign)
        }
    }

    /// A page of a campaign's leads after `afterLeadID`, in upload order, with their calls. A
    /// lead's call is named once its row exists: on PostgreSQL a claim takes the lead a moment
    /// before it writes the call.
    public func recipients(campaignID: String, afterLeadID: Int64, limit: Int) async throws -> [RecipientRecord] {
        try await database.read { db in
            try await db.raw("""
                SELECT l.id, l.phone_number, l.fields, l.state, l.last_outcome, l.attempts, c.id AS call_id, a.dial_at, c.updated_at AS call_updated_at
                FROM leads l LEFT JOIN attempts a ON a.id = l.claim_id AND l.state = 'dialing' LEFT JOIN calls c ON c.id = l.call_id
                WHERE l.campaign_id = \(bind: campaignID) AND l.id > \(bind: afterLeadID) ORDER BY l.id LIMIT \(literal: limit)
                """).all().map { row in
                RecipientRecord(
                    leadID: Int64(try row.int("id")), phoneNumber: try row.string("phone_number"),
                    fields: try row.optionalString("fields").map { try Coding.decode([String: JSONValue].self, $0) } ?? [:],
                    state: try row.value("state"), lastOutcome: try row.optionalValue("last_outcome"),
                    attempts: try row.int("attempts"), callID: try row.optionalString("call_id"), dialAt: try row.optionalDate("dial_at"),
                    callUpdatedAt: try row.optionalDate("call_updated_at"))
            }
        }
    }
}
