import Foundation
import SQLKit
import SwitchboardCore

extension Store {
    /// Stores a contact's text and acts on it in one transaction: a duplicate delivery is
    /// dropped; STOP suppresses the number for the organization and queues one confirmation;
    /// START lifts an SMS opt-out; HELP is answered; anything else stops the thread's drips and
    /// makes it due for the agent's reply (unless a person has taken it over).
    public func receiveSMS(organizationID: String, from contact: String, to ourNumber: String, body: String, provider: ProviderName,
                           providerMessageID: String?, keyword: SMSKeyword?, answers: KeywordAnswers, now: Date) async throws -> InboundResult {
        try await write { db in
            if let providerMessageID,
               try await db.raw("SELECT 1 AS ok FROM messages WHERE provider_message_id = \(bind: providerMessageID) AND direction = 'inbound'").first() != nil {
                return InboundResult(effect: .duplicate)
            }
            let conversation = try await db.raw("""
                SELECT c.*, s.name AS campaign_name FROM conversations c JOIN sms_campaigns s ON s.id = c.campaign_id
                WHERE c.organization_id = \(bind: organizationID) AND c.phone_number = \(bind: contact) AND c.from_number = \(bind: ourNumber)
                ORDER BY c.updated_at DESC, c.id DESC LIMIT 1
                """).first()
            let conversationID = try conversation.map { Int64(try $0.int("id")) }
            let campaignID = try conversation?.string("campaign_id")
            let inserted = try await db.raw("""
                INSERT INTO messages (organization_id, campaign_id, conversation_id, direction, our_number, contact_number, body, kind, status,
                  provider, provider_message_id, created_at, updated_at)
                VALUES (\(bind: organizationID), \(bind: campaignID), \(bind: conversationID), 'inbound', \(bind: ourNumber), \(bind: contact),
                  \(bind: body), 'inbound', 'received', \(bind: provider.rawValue), \(bind: providerMessageID), \(bind: now.epoch), \(bind: now.epoch))
                RETURNING id
                """).first()
            let messageID = try inserted.map { Int64(try $0.int("id")) }
            try await emit(db, [WebhookEvent(organizationID: organizationID, type: .smsReceived, occurredAt: now, data: [
                "from": .string(contact), "to": .string(ourNumber), "body": .string(body), "campaign_id": JSONValue(campaignID.map(ScopedID.publicID)),
                "message_id": messageID.map { .string("\($0)") } ?? .null,
            ])])
            let entry = try await db.raw("""
                SELECT source FROM suppressions WHERE organization_id = \(bind: organizationID) AND value = \(bind: contact)
                """).first()
            let plan = InboundPlan(keyword: keyword, body: body, suppressed: entry != nil,
                                   optedOutByText: try entry?.optionalValue("source", as: Suppression.Source.self) == .sms,
                                   campaignName: try conversation?.optionalString("campaign_name") ?? nil, answers: answers)
            for step in plan.steps {
                switch step {
                case .optOut(let reason):
                    _ = try await optOut(db, organizationID: organizationID, contact: contact, reason: reason, now: now)
                case .optIn:
                    _ = try await liftOptOut(db, organizationID: organizationID, contact: contact)
                    try await db.raw("""
                        UPDATE conversations SET state = 'open', updated_at = \(bind: now.epoch)
                        WHERE organization_id = \(bind: organizationID) AND phone_number = \(bind: contact) AND state = 'opted_out'
                        """).run()
                case .answer(let text):
                    try await insertOutbound(db, organizationID: organizationID, campaignID: campaignID, conversationID: conversationID,
                                             from: ourNumber, to: contact, bodies: [text], kind: .system, status: .queued, mediaURL: nil, now: now)
                case .dueForReply:
                    // A reply stops the drips: the agent answers it instead (a person, when they took over).
                    guard let conversationID else { continue }
                    try await db.raw("""
                        UPDATE conversations SET due_at = CASE WHEN state IN ('open', 'queued') THEN \(bind: now.epoch) ELSE NULL END,
                          due_kind = CASE WHEN state IN ('open', 'queued') THEN 'reply' ELSE NULL END,
                          state = CASE WHEN state = 'queued' THEN 'open' ELSE state END, updated_at = \(bind: now.epoch)
                        WHERE id = \(bind: conversationID)
                        """).run()
                }
            }
            return InboundResult(effect: plan.effect, messageID: messageID, conversationID: conversationID)
        }
    }

    /// START after an SMS opt-out; a number suppressed by the API or an import stays so.
    func liftOptOut(_ db: any SQLDatabase, organizationID: String, contact: String) async throws -> Bool {
        try await db.raw("""
            DELETE FROM suppressions WHERE organization_id = \(bind: organizationID) AND value = \(bind: contact) AND source = 'sms' RETURNING value
            """).first() != nil
    }

    /// A person's text (`POST /v1/sms/send`): queued at once, and the contact's latest thread
    /// on that number (or in `campaignID`) becomes theirs — no more drips or agent replies.
    /// `userID` (a member's) limits the threads it may take to its own campaigns'.
    public func sendByHuman(organizationID: String, userID: String?, from ourNumber: String?, to contact: String, campaignID: String?, body: String,
                            mediaURL: String?, now: Date) async throws -> MessageRecord? {
        try await write { db in
            var sql: SQLQueryString = "SELECT * FROM conversations WHERE organization_id = \(bind: organizationID) AND phone_number = \(bind: contact)"
            sql += Self.ownedBy(userID, organizationID: organizationID)
            if let campaignID { sql += " AND campaign_id = \(bind: ScopedID.key(organizationID: organizationID, id: campaignID))" }
            if let ourNumber { sql += " AND from_number = \(bind: ourNumber)" }
            sql += " ORDER BY updated_at DESC, id DESC LIMIT 1"
            let conversation = try await db.raw(sql).first().map(Self.conversation)
            guard let from = ourNumber ?? conversation?.fromNumber else { return nil }
            if let conversation, conversation.state != .optedOut {
                try await db.raw("""
                    UPDATE conversations SET state = 'human', due_at = NULL, due_kind = NULL, updated_at = \(bind: now.epoch)
                    WHERE id = \(bind: conversation.id)
                    """).run()
                try await completeSMSCampaignIfDone(db, id: conversation.campaignID, now: now)
            }
            let ids = try await insertOutbound(db, organizationID: organizationID, campaignID: conversation?.campaignID,
                                               conversationID: conversation?.id, from: from, to: contact, bodies: [body], kind: .human,
                                               status: .queued, mediaURL: mediaURL, now: now)
            return try await db.raw("SELECT * FROM messages WHERE id IN (\(binds: ids))").first().map(Self.message)
        }
    }

    /// A thread in order: the organization's messages with a contact, optionally one campaign's;
    /// with `userID` (a member's), only those of its own campaigns.
    public func messages(organizationID: String, userID: String?, contact: String?, campaignID: String?, afterID: Int64,
                         limit: Int) async throws -> [MessageRecord] {
        // Pages walk the organization's messages in id order (`ReadCost`); by campaign they sort
        // the campaign's. The key's own user is the default scope, bounded as for calls.
        try await database.read(campaignID == nil ? .bounded : .scan) { db in
            var sql: SQLQueryString = "SELECT * FROM messages WHERE organization_id = \(bind: organizationID) AND id > \(bind: afterID)"
            sql += Self.ownedBy(userID, organizationID: organizationID)
            if let contact { sql += " AND contact_number = \(bind: contact)" }
            if let campaignID { sql += " AND campaign_id = \(bind: ScopedID.key(organizationID: organizationID, id: campaignID))" }
            sql += " ORDER BY id LIMIT \(literal: limit)"
            return try await db.raw(sql).all().map(Self.message)
        }
    }

    public func message(id: Int64) async throws -> MessageRecord? {
        try await database.read { db in try await db.raw("SELECT * FROM messages WHERE id = \(bind: id)").first().map(Self.message) }
    }

    // MARK: the outbox

    /// Claims queued texts whose number has a free slot, oldest first, and marks them
    /// `sending` (intent before side effect: a crash leaves them in doubt, never sent twice).
    /// A number's slots are `1 / calls_per_second` apart (0: unpaced). Texts to a contact who
    /// opted out meanwhile, or of an ended campaign, are canceled; a paused campaign's wait.
    public func claimOutbox(now: Date, limit: Int) async throws -> [OutboxMessage] {
        try await write { db in
            var select: SQLQueryString = """
                SELECT m.*, p.provider AS number_provider, p.settings AS number_settings, p.calls_per_second, p.sms_next_slot_at,
                  s.status AS campaign_status, s.schedule AS campaign_schedule
                FROM messages m JOIN phone_numbers p ON p.phone_number = m.our_number
                LEFT JOIN sms_campaigns s ON s.id = m.campaign_id
                WHERE m.status = 'queued' AND m.due_at <= \(bind: now.epoch) AND p.sms_next_slot_at <= \(bind: now.epoch)
                ORDER BY m.due_at, m.id LIMIT \(literal: limit * 4)
                """
            if database.flavor == .postgres { select += " FOR UPDATE OF m SKIP LOCKED" }
            let rows = try await db.raw(select).all()
            var slots: [String: (next: Double, rate: Double)] = [:]
            var claimed: [OutboxMessage] = []
            var canceled: [(MessageRecord, String)] = []
            // Starts and drips queued in hours may reach the head of a slow outbox after them.
            var waiting: [(id: Int64, until: Date)] = []
            var schedules: [String: TextSchedule] = [:]
            let byOrganization = Dictionary(grouping: rows) { (try? $0.string("organization_id")) ?? "" }
            var suppressed: Set<String> = []
            for (organizationID, rows) in byOrganization {
                let contacts = try rows.map { try $0.string("contact_number") }
                suppressed.formUnion(try await self.suppressed(db, organizationID: organizationID, numbers: contacts).map { "\(organizationID) \($0)" })
            }
            for row in rows where claimed.count < limit {
                let message = try Self.message(row)
                switch try row.optionalValue("campaign_status", as: SMSCampaignRecord.Status.self) {
                case .paused?: continue
                case .ended? where message.kind != .system && message.kind != .human:
                    canceled.append((message, "campaign ended")); continue
                default: break
                }
                if message.kind != .system, suppressed.contains("\(message.organizationID) \(message.contactNumber)") {
                    canceled.append((message, "contact opted out")); continue
                }
                if TextSchedule.isUnsolicited(message.kind), let campaignID = message.campaignID {
                    let schedule = try schedules[campaignID] ?? row.optionalString("campaign_schedule").map { try Coding.decode(TextSchedule.self, $0) }
                        ?? TextSchedule()
                    schedules[campaignID] = schedule
                    let sendable = schedule.nextSendable(kind: message.kind, to: message.contactNumber, now: now)
                    if sendable > now { waiting.append((message.id, sendable)); continue }
                }
                let stored = (next: try row.double("sms_next_slot_at"), rate: try row.double("calls_per_second"))
                var slot = slots[message.ourNumber] ?? stored
                guard slot.next <= now.epoch else { continue }
                if slot.rate > 0 { slot.next = max(slot.next, now.epoch) + 1 / slot.rate }
                slots[message.ourNumber] = slot
                claimed.append(OutboxMessage(message: message, provider: try row.value("number_provider"),
                                             settings: try Coding.decode([String: JSONValue].self, try row.string("number_settings"))))
            }
            for (id, until) in waiting {
                try await db.raw("UPDATE messages SET due_at = \(bind: until.epoch) WHERE id = \(bind: id)").run()
            }
            var touched: Set<String> = []
            for (message, reason) in canceled {
                try await db.raw("""
                    UPDATE messages SET status = 'canceled', error = \(bind: reason), updated_at = \(bind: now.epoch) WHERE id = \(bind: message.id)
                    """).run()
                if let campaignID = message.campaignID { touched.insert(campaignID) }
            }
            for campaignID in touched { try await completeSMSCampaignIfDone(db, id: campaignID, now: now) }
            for (number, slot) in slots {
                try await db.raw("UPDATE phone_numbers SET sms_next_slot_at = \(bind: slot.next) WHERE phone_number = \(bind: number)").run()
            }
            if !claimed.isEmpty {
                try await db.raw("""
                    UPDATE messages SET status = 'sending', updated_at = \(bind: now.epoch) WHERE id IN (\(binds: claimed.map(\.message.id)))
                    """).run()
            }
            return claimed
        }
    }

    /// The carrier's answer to a send, or a later delivery report; never moves a message
    /// back (a late `sent` after `delivered`).
    public func recordSMSStatus(messageID: Int64, _ result: SMSSendResult, now: Date) async throws {
        try await recordSMSStatuses([(messageID, result)], now: now)
    }

    /// Several answers in one transaction (a pass of the outbox).
    public func recordSMSStatuses(_ results: [(messageID: Int64, result: SMSSendResult)], now: Date) async throws {
        guard !results.isEmpty else { return }
        try await write { db in
            let current = Dictionary(try await db.raw("SELECT id, status FROM messages WHERE id IN (\(binds: results.map(\.messageID)))").all().map {
                (Int64(try $0.int("id")), SMSStatus(rawValue: try $0.string("status")) ?? .failed)
            }, uniquingKeysWith: { first, _ in first })
            var leftOutbox: Set<String> = []
            // One statement for the pass: a row for each message an answer moves forward (of
            // two answers for one message, the furthest).
            var furthest: [Int64: SMSSendResult] = [:]
            for (messageID, result) in results where current[messageID].map({ result.status.rank > $0.rank }) ?? false {
                if furthest[messageID].map({ result.status.rank >= $0.status.rank }) ?? true { furthest[messageID] = result }
            }
            let forward = results.compactMap { messageID, _ in furthest.removeValue(forKey: messageID).map { (messageID, $0) } }
            for chunk in forward.chunked(400) {
                for row in try await db.raw(Self.values("v", ["id", "status", "provider_message_id", "error", "sent_at"], chunk.map { messageID, result in
                    [messageID, result.status.rawValue, result.providerMessageID, result.error, result.status == .failed ? nil : now.epoch]
                }) + """
                     UPDATE messages SET status = v.status, provider_message_id = COALESCE(v.provider_message_id, messages.provider_message_id),
                      error = COALESCE(v.error, messages.error), updated_at = \(literal: now.epoch),
                      sent_at = COALESCE(messages.sent_at, CAST(v.sent_at AS DOUBLE PRECISION))
                    FROM v WHERE messages.id = v.id RETURNING messages.id, messages.campaign_id
                    """).all() {
                    // A text that was still in the outbox (not yet `sent`) has left it.
                    guard let campaignID = try row.optionalString("campaign_id"),
                          let before = current[Int64(try row.int("id"))], before.rank < SMSStatus.sent.rank else { continue }
                    leftOutbox.insert(campaignID)
                }
            }
            // A campaign's last text leaving the outbox may complete it.
            for campaignID in leftOutbox { try await completeSMSCampaignIfDone(db, id: campaignID, now: now) }
        }
    }

    /// Texts left `sending` by a process that died: the carrier may or may not have them, so
    /// they are marked failed, never resent.
    public func reapInDoubtMessages(olderThan cutoff: Date, now: Date) async throws -> Int {
        try await write { db in
            try await db.raw("""
                UPDATE messages SET status = 'failed', error = 'in doubt: the sender stopped before the carrier answered; not resent',
                  updated_at = \(bind: now.epoch) WHERE status = 'sending' AND updated_at < \(bind: cutoff.epoch) RETURNING id
                """).all().count
        }
    }

    @discardableResult
    func insertOutbound(_ db: any SQLDatabase, organizationID: String, campaignID: String?, conversationID: Int64?, from: String, to: String,
                        bodies: [String], kind: MessageKind, status: SMSStatus, mediaURL: String?, now: Date) async throws -> [Int64] {
        guard !bodies.isEmpty else { return [] }
        let rows = Self.outboundRows(organizationID: organizationID, campaignID: campaignID, conversationID: conversationID, from: from, to: to,
                                     bodies: bodies, kind: kind, status: status, mediaURL: mediaURL, now: now)
        return try await db.raw("INSERT INTO messages (\(unsafeRaw: Self.outboundColumns)) " + Self.rows(rows) + " RETURNING id")
            .all().map { Int64(try $0.int("id")) }
    }

    static let outboundColumns = """
        organization_id, campaign_id, conversation_id, direction, our_number, contact_number, body, media_url, kind, status, created_at, updated_at
        """

    /// A row of `outboundColumns` for each of the bodies.
    static func outboundRows(organizationID: String, campaignID: String?, conversationID: Int64?, from: String, to: String, bodies: [String],
                             kind: MessageKind, status: SMSStatus, mediaURL: String?, now: Date) -> [[any SQLBindable]] {
        bodies.map {
            [organizationID, campaignID, conversationID, "outbound", from, to, $0, mediaURL, kind.rawValue, status.rawValue, now.epoch, now.epoch]
        }
    }

    static func message(_ row: any SQLRow) throws -> MessageRecord {
        MessageRecord(
            id: Int64(try row.int("id")), organizationID: try row.string("organization_id"), campaignID: try row.optionalString("campaign_id"),
            conversationID: try row.optionalInt("conversation_id").map(Int64.init), direction: try row.value("direction"),
            ourNumber: try row.string("our_number"), contactNumber: try row.string("contact_number"), body: try row.string("body"),
            mediaURL: try row.optionalString("media_url"), kind: try row.value("kind"),
            status: try row.value("status"), provider: try row.optionalValue("provider"),
            providerMessageID: try row.optionalString("provider_message_id"), error: try row.optionalString("error"),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"), sentAt: try row.optionalDate("sent_at"),
            dueAt: try row.date("due_at"))
    }
}
