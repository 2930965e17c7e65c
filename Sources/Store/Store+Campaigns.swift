import Foundation
import SQLKit
import SwitchboardCore

extension Store {
    /// Creates the campaign and its leads in one transaction: those given, and those of a
    /// streamed upload staged for it. Duplicate numbers are kept once; returns the campaign as
    /// stored, counts filled in.
    public func createCampaign(_ campaign: CampaignRecord, leads: [ValidLead], staged: StagedLeads? = nil) async throws -> CampaignRecord {
        let settings = try Coding.json(campaign.settings)
        return try await writeCounting { db, counts in
            if try await db.raw("SELECT 1 AS ok FROM campaigns WHERE id = \(bind: campaign.key)").first() != nil {
                throw StoreError.conflict("campaign_id \(campaign.id) already exists")
            }
            try await db.raw("""
                INSERT INTO campaigns (id, organization_id, tenant_id, user_id, kind, status, status_reason, settings, begin_at, end_at,
                  invalid_leads_count, retry_count, created_at, updated_at)
                VALUES (\(bind: campaign.key), \(bind: campaign.organizationID), \(bind: campaign.tenantID), \(bind: campaign.userID),
                  \(bind: campaign.kind.rawValue), \(bind: campaign.status.rawValue), \(bind: campaign.statusReason), \(bind: settings),
                  \(bind: campaign.beginAt.epoch), \(bind: campaign.endAt.epoch), \(bind: campaign.invalidLeadsCount), 0,
                  \(bind: campaign.createdAt.epoch), \(bind: campaign.updatedAt.epoch))
                """).run()
            var inserted = try await insertLeads(db, campaignID: campaign.key, leads: leads, dueAt: campaign.beginAt)
            var offered = leads.count
            if let staged {
                inserted += try await moveStaged(db, staged, dueAt: campaign.beginAt.epoch)
                offered += staged.count
            }
            counts.add(campaign.key, LeadCounts.queued(attempts: 0), inserted)
            var stored = campaign
            stored.contactsCount = inserted
            stored.duplicateLeadsCount = offered - inserted
            try await db.raw("""
                UPDATE campaigns SET contacts_count = \(bind: inserted), duplicate_leads_count = \(bind: stored.duplicateLeadsCount)
                WHERE id = \(bind: campaign.key)
                """).run()
            return stored
        }
    }

    /// Multi-row inserts that skip numbers the campaign already has; returns how many were new.
    func insertLeads(_ db: any SQLDatabase, campaignID: String, leads: [ValidLead], dueAt: Date) async throws -> Int {
        var inserted = 0
        // 3 binds a row; 1,000 rows stay far below SQLite's and PostgreSQL's bind limits.
        for start in stride(from: 0, to: leads.count, by: 1_000) {
            let rows = leads[start..<min(start + 1_000, leads.count)].map {
                [campaignID, $0.phone.e164, $0.fieldsJSON, "queued", dueAt.epoch, "new"] as [any SQLBindable]
            }
            inserted += try await db.raw("INSERT INTO leads (campaign_id, phone_number, fields, state, due_at, due_reason) "
                                         + Self.rows(rows) + " ON CONFLICT DO NOTHING RETURNING id").all().count
        }
        return inserted
    }

    /// The organization's campaign `id` (the id it chose, not a key).
    public func campaign(id: String, organizationID: String) async throws -> CampaignRecord? {
        let key = ScopedID.key(organizationID: organizationID, id: id)
        return try await database.read { db in
            try await db.raw("SELECT * FROM campaigns WHERE id = \(bind: key) AND organization_id = \(bind: organizationID) AND deleted_at IS NULL")
                .first().map(Self.campaign)
        }
    }

    public func campaigns(organizationID: String, userID: String?, kind: CampaignKind, limit: Int, offset: Int = 0) async throws -> [CampaignRecord] {
        try await database.read { db in
            var sql: SQLQueryString = "SELECT * FROM campaigns WHERE organization_id = \(bind: organizationID) AND kind = \(bind: kind.rawValue) AND deleted_at IS NULL"
            if let userID { sql += " AND user_id = \(bind: userID)" }
            sql += " ORDER BY created_at DESC, id DESC LIMIT \(literal: limit) OFFSET \(literal: offset)"
            return try await db.raw(sql).all().map(Self.campaign)
        }
    }

    public func progress(campaignID: String) async throws -> CampaignProgress {
        try await progress(campaignIDs: [campaignID])[campaignID] ?? CampaignProgress()
    }

    /// Progress of several campaigns, for a page of a list: one statement, a row for each.
    public func progress(campaignIDs: [String]) async throws -> [String: CampaignProgress] {
        guard !campaignIDs.isEmpty else { return [:] }
        return try await database.read { db in
            var all: [String: CampaignProgress] = [:]
            for row in try await db.raw("SELECT c.id, \(unsafeRaw: Self.progressColumns) FROM campaigns c WHERE c.id IN (\(binds: campaignIDs))").all() {
                all[try row.string("id")] = try Self.progress(row)
            }
            return all
        }
    }

    /// The organization's campaign `id` with its progress (what a status read, the most frequent
    /// request, costs): one row, the campaign's columns and then its progress's four, so the
    /// two come from one snapshot on either database. As two statements (SQLite takes and
    /// drops its read lock on the WAL's shared memory by a system call for each) a status read
    /// cost ~5 µs more, and a commit between them could show a campaign still active whose last
    /// lead had just ended. On SQLite what it finds is kept until the next write
    /// (`UnchangedReads`): polls outnumber commits, even while a campaign dials.
    public func campaignWithProgress(id: String, organizationID: String) async throws -> (CampaignRecord, CampaignProgress)? {
        let key = ScopedID.key(organizationID: organizationID, id: id)
        let found = try await statusReads.value(organizationID + "\u{0}" + key, database: database) {
            try await readCampaignWithProgress(id: id, organizationID: organizationID)
        }
        return found.map { ($0.campaign, $0.progress) }
    }

    /// `campaignWithProgress` read from the database, never kept: what a status read costs when
    /// something was written since the last (`bench status` measures both).
    public func readCampaignWithProgress(id: String, organizationID: String) async throws -> CampaignWithProgress? {
        let key = ScopedID.key(organizationID: organizationID, id: id)
        return try await database.read { db in
            guard let row = try await db.raw("""
                SELECT c.*, \(unsafeRaw: Self.progressColumns) FROM campaigns c
                WHERE c.id = \(bind: key) AND c.organization_id = \(bind: organizationID) AND c.deleted_at IS NULL
                """).first() else { return nil }
            return CampaignWithProgress(campaign: try Self.campaign(row), progress: try Self.progress(row))
        }
    }

    /// What a status read finds, kept in `statusReads` (a campaign not found too).
    public struct CampaignWithProgress: Sendable {
        public var campaign: CampaignRecord
        public var progress: CampaignProgress
    }

    /// A campaign's progress as four columns of a row of `campaigns c`, each an index read:
    /// its kept counts (`LeadCounts`) as `bucket=n,…` (one column, where a row for each count
    /// repeated the campaign's 30 columns beside it), the last change to its calls, and its
    /// next due lead's time and reason (a probe each: both read the first entry of
    /// `leads_queue` in one snapshot, and an index keeps its equal keys in one order). The last
    /// change is the latest attempt claimed or ended (`attempts_live_campaign` and
    /// `attempts_campaign_ended`); what is written to a call after its end (its transcript,
    /// analysis, recording) is not a change to the campaign's progress. Buckets are names
    /// (`done:busy`), never holding `=` or `,`. `string_agg` is PostgreSQL's and SQLite's since
    /// 3.44 (sqlite-nio 1.13.2, the least `Package.swift` takes, bundles 3.54).
    static let progressColumns = """
        (SELECT string_agg(bucket || '=' || n, ',') FROM campaign_lead_counts WHERE campaign_id = c.id AND n <> 0) AS progress_counts,
        (SELECT MAX(at) FROM (
          SELECT MAX(ended_at) AS at FROM attempts WHERE campaign_id = c.id AND status = 'ended'
          UNION ALL SELECT MAX(claimed_at) FROM attempts WHERE campaign_id = c.id AND status = 'dialing') AS last_call) AS progress_last_call,
        (SELECT due_at FROM leads WHERE campaign_id = c.id AND state = 'queued' ORDER BY due_at LIMIT 1) AS progress_next_due,
        (SELECT due_reason FROM leads WHERE campaign_id = c.id AND state = 'queued' ORDER BY due_at LIMIT 1) AS progress_next_reason
        """

    /// The progress read by `progressColumns`.
    private static func progress(_ row: any SQLRow) throws -> CampaignProgress {
        var counts: [String: Int] = [:]
        for pair in try row.optionalString("progress_counts")?.split(separator: ",") ?? [] {
            guard let equals = pair.lastIndex(of: "="), let n = Int(pair[pair.index(after: equals)...]) else {
                throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "progress count '\(pair)' is not bucket=n"))
            }
            counts[String(pair[..<equals])] = n
        }
        var progress = CampaignProgress(counts: counts)
        progress.lastCallUpdateAt = try row.optionalDate("progress_last_call")
        progress.nextDueAt = try row.optionalDate("progress_next_due")
        progress.nextDueReason = progress.nextDueAt == nil ? nil : try row.optionalString("progress_next_reason").flatMap(DueReason.init(rawValue:))
        return progress
    }

    /// Moves a campaign from one of `from` to `to`; false when it was in none of them.
    @discardableResult
    public func setCampaignStatus(id: String, from: [CampaignStatus], to: CampaignStatus, reason: String?, now: Date) async throws -> Bool {
        try await write { db in
            guard let row = try await db.raw("""
                UPDATE campaigns SET status = \(bind: to.rawValue), status_reason = \(bind: reason), updated_at = \(bind: now.epoch)
                WHERE id = \(bind: id) AND deleted_at IS NULL AND status IN (\(binds: from.map(\.rawValue)))
                RETURNING organization_id
                """).first() else { return false }
            if to == .paused {
                try await emit(db, [WebhookEvent(organizationID: try row.string("organization_id"), type: .campaignPaused, occurredAt: now,
                                                 data: ["campaign_id": .string(ScopedID.publicID(id)), "reason": JSONValue(reason), "by": "user"])])
            }
            return true
        }
    }

    /// Removes the campaign and its leads; calls and attempts stay as history. The campaign is
    /// gone (and never dialed again) at the first commit; its leads follow `chunk` at a time,
    /// each chunk its own transaction, so a million-lead campaign never holds the write lock
    /// for more than a moment and other organizations' writes go on between chunks. Returns
    /// the leads removed.
    @discardableResult
    public func deleteCampaign(id: String, now: Date, chunk: Int = 2_000) async throws -> Int {
        try await write { db in
            try await db.raw("UPDATE campaigns SET deleted_at = \(bind: now.epoch), status = 'ended', updated_at = \(bind: now.epoch) WHERE id = \(bind: id)").run()
            try await db.raw("DELETE FROM lead_imports WHERE campaign_id = \(bind: id)").run()
            try await db.raw("DELETE FROM campaign_lead_counts WHERE campaign_id = \(bind: id)").run()
        }
        var removed = 0
        while true {
            let count = try await write { db in
                try await db.raw("""
                    DELETE FROM leads WHERE id IN (SELECT id FROM leads WHERE campaign_id = \(bind: id) LIMIT \(literal: chunk)) RETURNING id
                    """).all().count
            }
            removed += count
            if count < chunk { return removed }
        }
    }

    /// Failed leads after `afterLeadID`, in lead order: a page of the streamed export. With
    /// `includeRetryScheduled`, leads whose last dial failed and that wait for a redial too.
    public func failedNumbers(campaignID: String, includeVoicemail: Bool, includeNotCalled: Bool, includeRetryScheduled: Bool = false,
                              afterLeadID: Int64, limit: Int) async throws -> [FailedNumber] {
        try await database.read(.scan) { db in
            var sql: SQLQueryString = """
                SELECT l.id, l.phone_number, l.state, l.last_outcome, l.due_reason, l.due_at, l.attempts, l.call_id, c.updated_at AS call_at
                FROM leads l LEFT JOIN calls c ON c.id = l.call_id
                WHERE l.campaign_id = \(bind: campaignID) AND l.id > \(bind: afterLeadID) AND (
                  (l.state = 'done' AND l.last_outcome <> 'completed'
                """
            if !includeVoicemail { sql += " AND l.last_outcome <> 'voicemail'" }
            // A suppressed lead was never dialed, on purpose: always reported.
            sql += ") OR l.state = 'suppressed'"
            if includeNotCalled { sql += " OR l.state = 'not_called' OR (l.state = 'queued' AND l.attempts = 0)" }
            if includeRetryScheduled { sql += " OR (l.state = 'queued' AND l.attempts > 0)" }
            sql += ") ORDER BY l.id LIMIT \(literal: limit)"
            return try await db.raw(sql).all().map { row in
                let state = try row.string("state")
                let outcome = try row.optionalString("last_outcome")
                let waitsForRedial = try state == LeadState.queued.rawValue && row.int("attempts") > 0
                let reason = switch state {
                case LeadState.done.rawValue: outcome ?? "failed"
                case LeadState.suppressed.rawValue: "suppressed"
                case _ where waitsForRedial: outcome ?? "failed"
                default: "not_called"
                }
                let dialed = state == LeadState.done.rawValue || waitsForRedial
                return FailedNumber(leadID: Int64(try row.int("id")), phoneNumber: try row.string("phone_number"), reason: reason,
                                    callTimestamp: try row.optionalDate("call_at"), callID: try row.optionalString("call_id"),
                                    notCalledBecause: dialed ? nil : try row.optionalString("due_reason"),
                                    nextAttemptAt: waitsForRedial ? try row.date("due_at") : nil)
            }
        }
    }

    static func campaign(_ row: any SQLRow) throws -> CampaignRecord {
        // Specialised for the embedded row, as `call(_:transcript:)` is.
        if let row = row as? SQLiteDirectRow { return try campaign(of: row) }
        return try campaign(of: row)
    }

    private static func campaign(of row: some SQLRow) throws -> CampaignRecord {
        CampaignRecord(
            id: ScopedID.publicID(try row.string("id")), organizationID: try row.string("organization_id"), tenantID: try row.string("tenant_id"),
            userID: try row.string("user_id"), kind: try row.value("kind"),
            status: CampaignStatus(rawValue: try row.string("status")) ?? .ended, statusReason: try row.optionalString("status_reason"),
            settings: try SettingsCache.settings(try row.string("settings")),
            beginAt: try row.date("begin_at"), endAt: try row.date("end_at"), contactsCount: try row.int("contacts_count"),
            invalidLeadsCount: try row.int("invalid_leads_count"), duplicateLeadsCount: try row.int("duplicate_leads_count"),
            retryCount: try row.int("retry_count"), createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }
}

/// Campaign settings decoded, by their stored JSON text: a status read and each pass of a
/// dialer decode the same text again, and decoding was a tenth of a status read. Keyed by the
/// text itself, so changed settings are a new entry and an entry is never stale; emptied when
/// it holds `limit` texts.
enum SettingsCache {
    private static let entries = Locked<[String: CampaignSettings]>([:])
    static let limit = 1_024

    static func settings(_ text: String) throws -> CampaignSettings {
        if let hit = entries.withLock({ $0[text] }) { return hit }
        let decoded = try Coding.decode(CampaignSettings.self, text)
        entries.withLock { entries in
            if entries.count >= limit { entries.removeAll(keepingCapacity: true) }
            entries[text] = decoded
        }
        return decoded
    }
}
