import Foundation
import SQLKit
import SwitchboardCore

extension Store {
    /// Claims due conversations of running campaigns (starts and drips of ACTIVE ones; replies
    /// of COMPLETED ones too) for `lease` seconds, bumping each one's fencing token.
    public func claimConversations(now: Date, lease: TimeInterval, limit: Int) async throws -> [ConversationRecord] {
        // Rows decoded (their JSON too) after the transaction, off the writer's thread.
        try await write { db -> [any SQLRow] in
            var select: SQLQueryString = """
                SELECT c.id FROM conversations c JOIN sms_campaigns s ON s.id = c.campaign_id
                WHERE c.due_at IS NOT NULL AND c.due_at <= \(bind: now.epoch) AND (c.lease_until IS NULL OR c.lease_until < \(bind: now.epoch))
                  AND (s.status = 'ACTIVE' OR (s.status = 'COMPLETED' AND c.due_kind = 'reply'))
                ORDER BY c.due_at LIMIT \(literal: limit)
                """
            if database.flavor == .postgres { select += " FOR UPDATE OF c SKIP LOCKED" }
            let ids = try await db.raw(select).all().map { Int64(try $0.int("id")) }
            guard !ids.isEmpty else { return [] }
            return try await db.raw("""
                UPDATE conversations SET claim_id = claim_id + 1, lease_until = \(bind: now.epoch + lease)
                WHERE id IN (\(binds: ids)) RETURNING *
                """).all()
        }.map(Self.conversation)
    }

    /// Writes claimed conversations' turns in one transaction: each one's queued texts, next
    /// step, and what the agent extracted and decided. A turn whose claim was lost meanwhile is
    /// dropped whole; returns the conversations whose turns were kept.
    public func commitTurns(_ turns: [(conversation: ConversationRecord, turn: ConversationTurn, campaign: SMSCampaignRecord)],
                            now: Date) async throws -> Set<Int64> {
        let extracted = try turns.map { item in
            try item.turn.extracted.map { try Coding.json(item.conversation.extracted.merging($0) { _, new in new }) }
        }
        return try await write { db in
            var kept: Set<Int64> = []
            // Most turns only queue texts and move the conversation on: those are written a
            // batch at a time, three statements for hundreds of turns. An opt-out or a call
            // has more to do, one turn at a time.
            let plain = zip(turns, extracted).filter { !$0.0.turn.optOut && $0.0.turn.voiceCall == nil }
            for chunk in plain.chunked(300) {
                kept.formUnion(try await writePlain(db, chunk.map { ($0.0.conversation, $0.0.turn, $0.0.campaign, $0.1) }, now: now))
            }
            for (item, extracted) in zip(turns, extracted) where item.turn.optOut || item.turn.voiceCall != nil {
                if try await write(db, item.conversation, item.turn, campaign: item.campaign, extracted: extracted, now: now) {
                    kept.insert(item.conversation.id)
                }
            }
            for campaignID in Set(turns.filter { kept.contains($0.conversation.id) }.map(\.conversation.campaignID)) {
                try await completeSMSCampaignIfDone(db, id: campaignID, now: now)
            }
            return kept
        }
    }

    /// Turns without an opt-out or a call: one fenced UPDATE of their conversations, one INSERT
    /// of the texts of those whose claim held.
    private func writePlain(_ db: any SQLDatabase, _ turns: [(ConversationRecord, ConversationTurn, SMSCampaignRecord, String?)],
                            now: Date) async throws -> Set<Int64> {
        guard !turns.isEmpty else { return [] }
        let kept = Set(try await db.raw(Self.values("v", ["id", "claim_id", "due_at", "due_kind", "state", "drip_index", "started_at", "extracted",
                                                          "lead_outcome"], turns.map { conversation, turn, _, extracted in
            [conversation.id, conversation.claimID, turn.next?.at.epoch, turn.next?.kind.rawValue, (turn.state ?? conversation.state).rawValue,
             turn.dripIndex ?? conversation.dripIndex, (turn.startedAt ?? conversation.startedAt)?.epoch, extracted,
             (turn.outcome ?? conversation.leadOutcome).rawValue]
        }) + """
             UPDATE conversations SET due_at = CAST(v.due_at AS DOUBLE PRECISION), due_kind = v.due_kind, lease_until = NULL, state = v.state,
              drip_index = v.drip_index, started_at = CAST(v.started_at AS DOUBLE PRECISION), extracted = COALESCE(v.extracted, conversations.extracted),
              lead_outcome = v.lead_outcome, updated_at = \(literal: now.epoch)
            FROM v WHERE conversations.id = v.id AND conversations.claim_id = v.claim_id RETURNING conversations.id
            """).all().map { Int64(try $0.int("id")) })
        var texts: [[any SQLBindable]] = []
        for (conversation, turn, campaign, _) in turns where kept.contains(conversation.id) {
            texts += Self.outboundRows(organizationID: conversation.organizationID, campaignID: conversation.campaignID, conversationID: conversation.id,
                                       from: conversation.fromNumber, to: conversation.phoneNumber, bodies: turn.messages, kind: turn.kind,
                                       status: campaign.dryRun ? .dryRun : .queued, mediaURL: turn.mediaURL, now: now)
        }
        for chunk in texts.chunked(500) {
            try await db.raw("INSERT INTO messages (\(unsafeRaw: Self.outboundColumns)) " + Self.rows(chunk)).run()
        }
        return kept
    }

    private func write(_ db: any SQLDatabase, _ conversation: ConversationRecord, _ turn: ConversationTurn, campaign: SMSCampaignRecord,
                       extracted: String?, now: Date) async throws -> Bool {
        let fenced = try await db.raw("""
            UPDATE conversations SET due_at = \(bind: turn.next?.at.epoch), due_kind = \(bind: turn.next?.kind), lease_until = NULL,
              state = \(bind: turn.state ?? conversation.state), drip_index = \(bind: turn.dripIndex ?? conversation.dripIndex),
              started_at = \(bind: (turn.startedAt ?? conversation.startedAt)?.epoch),
              extracted = COALESCE(\(bind: extracted), extracted), lead_outcome = \(bind: (turn.outcome ?? conversation.leadOutcome).rawValue),
              updated_at = \(bind: now.epoch)
            WHERE id = \(bind: conversation.id) AND claim_id = \(bind: conversation.claimID) RETURNING id
            """).first()
        guard fenced != nil else { return false }
        // An agent's last words to a contact who asked to be left alone are its one confirmation.
        let status = campaign.dryRun ? SMSStatus.dryRun : .queued
        try await insertOutbound(db, organizationID: conversation.organizationID, campaignID: conversation.campaignID,
                                 conversationID: conversation.id, from: conversation.fromNumber, to: conversation.phoneNumber,
                                 bodies: turn.messages, kind: turn.optOut ? .system : turn.kind, status: status, mediaURL: turn.mediaURL, now: now)
        if turn.optOut {
            try await optOut(db, organizationID: conversation.organizationID, contact: conversation.phoneNumber, reason: "agent: asked not to be contacted",
                             now: now)
        }
        if let call = turn.voiceCall {
            let voiceCampaign = try await escalate(db, conversation, campaign: campaign, call: call, now: now)
            try await db.raw("UPDATE conversations SET voice_campaign_id = \(bind: voiceCampaign) WHERE id = \(bind: conversation.id)").run()
        }
        return true
    }

    /// Releases a claim without a turn (the agent could not answer): due again at `retryAt`.
    public func deferConversation(_ conversation: ConversationRecord, until retryAt: Date) async throws {
        try await write { db in
            try await db.raw("""
                UPDATE conversations SET due_at = \(bind: retryAt.epoch), lease_until = NULL
                WHERE id = \(bind: conversation.id) AND claim_id = \(bind: conversation.claimID)
                """).run()
        }
    }

    /// The thread of a conversation, oldest first (canceled texts left out).
    public func conversationMessages(_ conversationID: Int64, organizationID: String, limit: Int = 200) async throws -> [MessageRecord] {
        try await database.read { db in
            try await db.raw("""
                SELECT * FROM (SELECT * FROM messages WHERE conversation_id = \(bind: conversationID) AND organization_id = \(bind: organizationID)
                AND status <> 'canceled'
                ORDER BY id DESC LIMIT \(literal: limit)) recent ORDER BY id
                """).all().map(Self.message)
        }
    }

    /// The organization's conversations with a contact, newest first.
    /// With `userID` (a member's), only those of its own campaigns.
    public func conversations(organizationID: String, userID: String?, phoneNumber: String) async throws -> [ConversationRecord] {
        try await database.read { db in
            try await db.raw("""
                SELECT * FROM conversations WHERE organization_id = \(bind: organizationID) AND phone_number = \(bind: phoneNumber)
                """ + Self.ownedBy(userID, organizationID: organizationID) + " ORDER BY updated_at DESC, id DESC").all().map(Self.conversation)
        }
    }

    /// ` AND campaign_id IN (that user's SMS campaigns)`, or nothing for the whole organization:
    /// conversations and messages belong to the user whose campaign they are part of.
    static func ownedBy(_ userID: String?, organizationID: String) -> SQLQueryString {
        guard let userID else { return "" }
        return " AND campaign_id IN (SELECT id FROM sms_campaigns WHERE organization_id = \(bind: organizationID) AND user_id = \(bind: userID))"
    }

    /// The call an escalated conversation led to, once the dialer has placed it.
    public func voiceCallID(campaignID: String, phoneNumber: String) async throws -> String? {
        try await database.read { db in
            try await db.raw("SELECT call_id FROM leads WHERE campaign_id = \(bind: campaignID) AND phone_number = \(bind: phoneNumber)")
                .first()?.optionalString("call_id")
        }
    }

    // MARK: in a transaction

    /// The contact's STOP, in words or as a keyword: suppressed for the organization (calls
    /// too), every thread with them closed as `dnc`, and whatever was queued to them canceled.
    /// Returns whether the number was newly suppressed.
    @discardableResult
    func optOut(_ db: any SQLDatabase, organizationID: String, contact: String, reason: String, now: Date) async throws -> Bool {
        let added = try await insertSuppressions(db, [Suppression(value: contact, kind: .number, reason: reason, source: .sms, createdAt: now)],
                                                 organizationID: organizationID, announce: true)
        let campaigns = try await db.raw("""
            UPDATE conversations SET state = 'opted_out', lead_outcome = 'dnc', due_at = NULL, due_kind = NULL, updated_at = \(bind: now.epoch)
            WHERE organization_id = \(bind: organizationID) AND phone_number = \(bind: contact) RETURNING campaign_id
            """).all().map { try $0.string("campaign_id") }
        try await db.raw("""
            UPDATE messages SET status = 'canceled', error = 'contact opted out', updated_at = \(bind: now.epoch)
            WHERE organization_id = \(bind: organizationID) AND contact_number = \(bind: contact) AND status = 'queued' AND kind <> 'system'
            """).run()
        // The contact may have been the last one a campaign was waiting on.
        for campaign in Set(campaigns) { try await completeSMSCampaignIfDone(db, id: campaign, now: now) }
        return !added.isEmpty
    }

    /// Queues the voice call: a lead of the SMS campaign's companion voice campaign (made on
    /// first use, with the voice agent and outbound number), due at `call.at`. The dialer
    /// applies calling hours and suppression to it like to any lead. The companion is found
    /// through the key the SMS campaign keeps, never by a name another campaign could take:
    /// it is `{id}_voice` when the organization has no campaign of that id, else a fresh one.
    func escalate(_ db: any SQLDatabase, _ conversation: ConversationRecord, campaign: SMSCampaignRecord, call: VoiceEscalation,
                  now: Date) async throws -> String {
        let endAt = max(now.addingTimeInterval(CampaignSettings.defaultCampaignLength), call.at.addingTimeInterval(86_400)).epoch
        let linked = try await db.raw("SELECT voice_campaign_key FROM sms_campaigns WHERE id = \(bind: campaign.key)").first()?
            .optionalString("voice_campaign_key")
        let id: String
        if let linked {
            id = linked
            try await db.raw("""
                UPDATE campaigns SET end_at = CASE WHEN end_at < \(bind: endAt) THEN \(bind: endAt) ELSE end_at END,
                  status = CASE WHEN status = 'completed' THEN 'active' ELSE status END, updated_at = \(bind: now.epoch)
                WHERE id = \(bind: id)
                """).run()
        } else {
            var key = ScopedID.key(organizationID: campaign.organizationID, id: campaign.id + "_voice")
            if try await db.raw("SELECT 1 AS ok FROM campaigns WHERE id = \(bind: key)").first() != nil {
                key = ScopedID.key(organizationID: campaign.organizationID, id: Identifier.make(campaign.id + "_voice_"))
            }
            id = key
            let settings = CampaignSettings(name: "\(campaign.name) (SMS to voice)", agentID: call.agentID, outboundNumber: call.outboundNumber,
                                            numbers: [call.outboundNumber], redialEnabled: false, retry: .noRetries,
                                            callingHours: campaign.schedule.callingHours, timeZone: campaign.schedule.timeZone,
                                            extra: ["sms_campaign_id": .string(campaign.id)])
            try await db.raw("""
                INSERT INTO campaigns (id, organization_id, tenant_id, user_id, kind, status, settings, begin_at, end_at, created_at, updated_at)
                VALUES (\(bind: id), \(bind: campaign.organizationID), \(bind: campaign.tenantID), \(bind: campaign.userID), 'voice', 'active',
                  \(bind: try Coding.json(settings)), \(bind: now.epoch), \(bind: endAt), \(bind: now.epoch), \(bind: now.epoch))
                """).run()
            try await db.raw("UPDATE sms_campaigns SET voice_campaign_key = \(bind: id) WHERE id = \(bind: campaign.key)").run()
        }
        var fields = conversation.fields
        fields["sms_campaign_id"] = .string(campaign.id)
        // The thread the call's agent reads is linked in a column of the engine's own, never
        // named by a lead field that a client could have written.
        // The lead may be there already (an earlier escalation): its count moves with it.
        let lock = database.flavor == .postgres ? " FOR UPDATE" : ""
        let before = try await db.raw("""
            SELECT \(unsafeRaw: LeadCounts.bucketSQL) AS bucket FROM leads WHERE campaign_id = \(bind: id) AND phone_number = \(bind: conversation.phoneNumber)\(unsafeRaw: lock)
            """).first()?.string("bucket")
        var counts = LeadCounts()
        for row in try await db.raw("""
            INSERT INTO leads (campaign_id, phone_number, fields, state, due_at, due_reason, conversation_id, escalation_reason)
            VALUES (\(bind: id), \(bind: conversation.phoneNumber), \(bind: JSONValue.object(fields).jsonText), 'queued', \(bind: call.at.epoch), 'new',
              \(bind: conversation.id), \(bind: call.reason))
            ON CONFLICT (campaign_id, phone_number) DO UPDATE SET state = 'queued', due_at = excluded.due_at, due_reason = 'new',
              conversation_id = excluded.conversation_id, escalation_reason = excluded.escalation_reason
            WHERE leads.state <> 'dialing'
            RETURNING attempts
            """).all() {
            let now = LeadCounts.queued(attempts: try row.int("attempts"))
            if let before { counts.move(id, from: before, to: now) } else { counts.add(id, now) }
        }
        try await apply(db, counts)
        try await db.raw("""
            UPDATE campaigns SET contacts_count = (SELECT COUNT(*) FROM leads WHERE campaign_id = \(bind: id)) WHERE id = \(bind: id)
            """).run()
        return id
    }

    static func conversation(_ row: any SQLRow) throws -> ConversationRecord {
        ConversationRecord(
            id: Int64(try row.int("id")), organizationID: try row.string("organization_id"), campaignID: try row.string("campaign_id"),
            phoneNumber: try row.string("phone_number"), fromNumber: try row.string("from_number"),
            fields: try row.optionalString("fields").map { try Coding.decode([String: JSONValue].self, $0) } ?? [:],
            state: try row.value("state"), dueAt: try row.optionalDate("due_at"), dueKind: try row.optionalValue("due_kind"),
            dripIndex: try row.int("drip_index"), startedAt: try row.optionalDate("started_at"), claimID: try row.int("claim_id"),
            extracted: try row.optionalString("extracted").map { try Coding.decode([String: JSONValue].self, $0) } ?? [:],
            leadOutcome: LeadOutcome(rawValue: try row.string("lead_outcome")) ?? .pending,
            voiceCampaignID: try row.optionalString("voice_campaign_id"), updatedAt: try row.date("updated_at"))
    }
}
