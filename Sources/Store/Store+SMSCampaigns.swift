import Foundation
import SQLKit
import SwitchboardCore

extension Store {
    /// Creates the campaign and one conversation per distinct contact, each due for its
    /// starting message now (in one transaction). Returns the campaign with its counts.
    public func createSMSCampaign(_ campaign: SMSCampaignRecord, contacts: [ValidLead]) async throws -> SMSCampaignRecord {
        let body = try Coding.json(campaign.body)
        return try await write { db in
            if try await db.raw("SELECT 1 AS ok FROM sms_campaigns WHERE id = \(bind: campaign.key)").first() != nil {
                throw StoreError.conflict("campaign_id \(campaign.id) already exists")
            }
            var inserted = 0
            let now = campaign.createdAt.epoch
            for start in stride(from: 0, to: contacts.count, by: 500) {
                let rows = contacts[start..<min(start + 500, contacts.count)].map {
                    [campaign.organizationID, campaign.key, $0.phone.e164, campaign.fromNumber, $0.fieldsJSON, "queued", now, "start", now, now]
                        as [any SQLBindable]
                }
                inserted += try await db.raw("""
                    INSERT INTO conversations (organization_id, campaign_id, phone_number, from_number, fields, state, due_at, due_kind,
                      created_at, updated_at)
                    """ + Self.rows(rows) + " ON CONFLICT DO NOTHING RETURNING id").all().count
            }
            try await db.raw("""
                INSERT INTO sms_campaigns (id, organization_id, tenant_id, user_id, created_by_user_id, name, status, status_reason,
                  sms_agent_id, from_number, body, schedule, contacts_count, invalid_leads_count, created_at, updated_at)
                VALUES (\(bind: campaign.key), \(bind: campaign.organizationID), \(bind: campaign.tenantID), \(bind: campaign.userID),
                  \(bind: campaign.createdByUserID), \(bind: campaign.name), \(bind: campaign.status.rawValue), \(bind: campaign.statusReason),
                  \(bind: campaign.agentID), \(bind: campaign.fromNumber), \(bind: body), \(bind: try Coding.json(campaign.schedule)), \(bind: inserted), \(bind: campaign.invalidLeadsCount),
                  \(bind: now), \(bind: now))
                """).run()
            var stored = campaign
            stored.contactsCount = inserted
            return stored
        }
    }

    /// The organization's campaign `id` (the id it chose, not a key).
    public func smsCampaign(id: String, organizationID: String) async throws -> SMSCampaignRecord? {
        let key = ScopedID.key(organizationID: organizationID, id: id)
        return try await database.read { db in
            try await db.raw("SELECT * FROM sms_campaigns WHERE id = \(bind: key) AND organization_id = \(bind: organizationID)")
                .first().map(Self.smsCampaign)
        }
    }

    /// Newest first; `userID` nil lists the whole organization.
    public func smsCampaigns(organizationID: String, userID: String?, limit: Int, offset: Int) async throws -> [SMSCampaignRecord] {
        try await database.read { db in
            var sql: SQLQueryString = "SELECT * FROM sms_campaigns WHERE organization_id = \(bind: organizationID)"
            if let userID { sql += " AND user_id = \(bind: userID)" }
            sql += " ORDER BY created_at DESC, id LIMIT \(literal: limit) OFFSET \(literal: offset)"
            return try await db.raw(sql).all().map(Self.smsCampaign)
        }
    }

    public func smsCampaignCount(organizationID: String, userID: String?) async throws -> Int {
        try await database.read { db in
            var sql: SQLQueryString = "SELECT COUNT(*) AS n FROM sms_campaigns WHERE organization_id = \(bind: organizationID)"
            if let userID { sql += " AND user_id = \(bind: userID)" }
            return try await db.raw(sql).first()?.int("n") ?? 0
        }
    }

    /// The organization's numbers that a running (or paused) SMS campaign sends from.
    public func smsNumbersInUse(organizationID: String) async throws -> [String: SMSCampaignRecord] {
        try await database.read { db in
            let rows = try await db.raw("""
                SELECT * FROM sms_campaigns WHERE organization_id = \(bind: organizationID) AND status IN ('ACTIVE', 'PAUSED')
                ORDER BY created_at
                """).all().map(Self.smsCampaign)
            return Dictionary(rows.map { ($0.fromNumber, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// Moves the campaign between statuses; false when it was not in one of `from`. Ending it
    /// cancels what it had queued and every pending start or drip.
    public func setSMSCampaignStatus(id: String, from: [SMSCampaignRecord.Status], to: SMSCampaignRecord.Status, reason: String?,
                                     now: Date) async throws -> Bool {
        try await write { db in
            let changed = try await db.raw("""
                UPDATE sms_campaigns SET status = \(bind: to.rawValue), status_reason = \(bind: reason), updated_at = \(bind: now.epoch)
                WHERE id = \(bind: id) AND status IN (\(binds: from.map(\.rawValue))) RETURNING id
                """).first() != nil
            if changed, to == .ended {
                try await db.raw("""
                    UPDATE messages SET status = 'canceled', error = 'campaign ended', updated_at = \(bind: now.epoch)
                    WHERE campaign_id = \(bind: id) AND status = 'queued'
                    """).run()
                try await db.raw("""
                    UPDATE conversations SET due_at = NULL, due_kind = NULL, state = CASE WHEN state = 'queued' THEN 'ended' ELSE state END,
                      updated_at = \(bind: now.epoch) WHERE campaign_id = \(bind: id) AND (due_at IS NOT NULL OR state = 'queued')
                    """).run()
            }
            return changed
        }
    }

    /// ACTIVE → COMPLETED once every contact's starting message has gone out (left the outbox)
    /// and no drip is left.
    func completeSMSCampaignIfDone(_ db: any SQLDatabase, id: String, now: Date) async throws {
        let open = try await db.raw("""
            SELECT 1 AS ok FROM conversations WHERE campaign_id = \(bind: id) AND (state = 'queued' OR due_kind IN ('start', 'drip')) LIMIT 1
            """).first()
        guard open == nil else { return }
        let waiting = try await db.raw("""
            SELECT 1 AS ok FROM messages WHERE campaign_id = \(bind: id) AND status IN ('queued', 'sending') LIMIT 1
            """).first()
        guard waiting == nil else { return }
        try await db.raw("""
            UPDATE sms_campaigns SET status = 'COMPLETED', status_reason = 'every contact messaged', updated_at = \(bind: now.epoch)
            WHERE id = \(bind: id) AND status = 'ACTIVE'
            """).run()
    }

    /// Conversations by state, and messages by direction and status.
    public func smsCampaignCounts(id: String) async throws -> [String: Int] {
        try await database.read(.scan) { db in
            var counts: [String: Int] = [:]
            for row in try await db.raw("SELECT state, COUNT(*) AS n FROM conversations WHERE campaign_id = \(bind: id) GROUP BY state").all() {
                counts["conversations_" + (try row.string("state"))] = try row.int("n")
            }
            for row in try await db.raw("""
                SELECT direction, status, COUNT(*) AS n FROM messages WHERE campaign_id = \(bind: id) GROUP BY direction, status
                """).all() {
                counts["messages_\(try row.string("direction"))_\(try row.string("status"))"] = try row.int("n")
            }
            return counts
        }
    }

    static func smsCampaign(_ row: any SQLRow) throws -> SMSCampaignRecord {
        SMSCampaignRecord(
            id: ScopedID.publicID(try row.string("id")), organizationID: try row.string("organization_id"), tenantID: try row.string("tenant_id"),
            userID: try row.string("user_id"), createdByUserID: try row.string("created_by_user_id"), name: try row.string("name"),
            status: SMSCampaignRecord.Status(rawValue: try row.string("status")) ?? .active, statusReason: try row.optionalString("status_reason"),
            agentID: try row.string("sms_agent_id"), fromNumber: try row.string("from_number"),
            body: try Coding.decode([String: JSONValue].self, try row.string("body")),
            schedule: try row.optionalString("schedule").map { try Coding.decode(TextSchedule.self, $0) } ?? .init(),
            contactsCount: try row.int("contacts_count"),
            invalidLeadsCount: try row.int("invalid_leads_count"), createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }
}
