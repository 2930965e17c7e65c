import Foundation
import Logging
import SQLKit
import SwitchboardCore

extension Store {
    /// What every `call.*` event says about its attempt.
    static func callEventData(_ attempt: ClaimedAttempt) -> [String: JSONValue] {
        [
            "call_id": .string(attempt.callID), "campaign_id": .string(ScopedID.publicID(attempt.campaignID)), "attempt": JSONValue(attempt.attemptNumber),
            "from_number": .string(attempt.from), "to_number": .string(attempt.to), "provider": .string(attempt.provider.rawValue),
        ]
    }

    /// Writes outcomes and the retry planner's decisions in one transaction. A completion whose
    /// claim was fenced off (its lease expired and the lead moved on) records the attempt but
    /// leaves the lead alone. Returns the campaigns touched.
    @discardableResult
    public func complete(_ completions: [AttemptCompletion], progress: [AttemptProgress] = []) async throws -> Set<String> {
        guard !completions.isEmpty || !progress.isEmpty else { return [] }
        return try await writeCounting { db, counts in
            var touched: Set<String> = []
            var events: [WebhookEvent] = []
            let ids = Set(completions.map(\.attempt.campaignID) + progress.map(\.attempt.campaignID))
            var campaigns: [String: CampaignRecord] = [:]
            for row in try await db.raw("SELECT * FROM campaigns WHERE id IN (\(binds: Array(ids)))").all() {
                let campaign = try Self.campaign(row)
                campaigns[campaign.key] = campaign
            }
            let subscribers = try await webhookSubscribers(db, organizations: Set(campaigns.values.map(\.organizationID)))
            for chunk in completions.chunked(400) {
                // Only attempts still `dialing` end here; one already settled (by a reaper) is left.
                // A transfer the carrier took was marked on the attempt while the call went on
                // (`transferred_to`): the carrier's `completed` is then `transferred`.
                let ended = try await db.raw(Self.values("v", ["id", "outcome", "detail", "provider_call_id", "answered_at", "ended_at", "duration_sec",
                                                                "voicemail_left", "transferred_to"], chunk.map {
                    [$0.attempt.attemptID, $0.result.outcome.rawValue, $0.result.detail, $0.result.providerCallID, $0.result.answeredAt?.epoch,
                     $0.result.endedAt.epoch, $0.result.duration, $0.result.voicemailLeft ? 1 : 0, $0.result.transferredTo]
                }) + """
                     UPDATE attempts SET status = 'ended', detail = v.detail, provider_call_id = v.provider_call_id,
                      answered_at = CAST(v.answered_at AS DOUBLE PRECISION), ended_at = v.ended_at, duration_sec = v.duration_sec,
                      voicemail_left = v.voicemail_left, transferred_to = COALESCE(attempts.transferred_to, v.transferred_to),
                      outcome = CASE WHEN v.outcome = 'completed' AND attempts.transferred_to IS NOT NULL THEN 'transferred' ELSE v.outcome END
                    FROM v WHERE attempts.id = v.id AND attempts.status = 'dialing' RETURNING attempts.id, attempts.outcome
                    """).all()
                var live: [Int64: Outcome] = [:]
                for row in ended { live[Int64(try row.int("id"))] = try row.value("outcome") }
                var retries: [[any SQLBindable]] = []
                var finals: [[any SQLBindable]] = []
                var calls: [[any SQLBindable]] = []
                for completion in chunk {
                    guard let outcome = live[completion.attempt.attemptID] else { continue }
                    let attempt = completion.attempt
                    var result = completion.result
                    result.outcome = outcome
                    touched.insert(attempt.campaignID)
                    let campaign = campaigns[attempt.campaignID]
                    let end = AttemptEnd(outcome: result.outcome, attempt: attempt.attemptNumber, endedAt: result.endedAt,
                                         campaign: campaign.map { ($0.settings, $0.endAt, $0.status) })
                    switch end.decision {
                    case .retry(let at): retries.append([attempt.leadID, attempt.attemptID, at.epoch, result.outcome.rawValue])
                    case .final(let outcome): finals.append([attempt.leadID, attempt.attemptID, outcome.rawValue])
                    }
                    if let organizationID = campaign?.organizationID, subscribers.want(end.event, from: organizationID) {
                        var data = Self.callEventData(attempt)
                        data["outcome"] = .string(result.outcome.rawValue)
                        data["duration_sec"] = JSONValue(result.duration)
                        data["detail"] = JSONValue(result.detail)
                        data["retry_scheduled"] = .bool(end.retrying)
                        events.append(WebhookEvent(organizationID: organizationID, type: end.event, occurredAt: result.endedAt, data: data))
                    }
                    calls.append([attempt.callID, end.callStatus.rawValue, result.outcome.rawValue, attempt.attemptNumber,
                                  result.duration, result.detail, result.endedAt.epoch])
                }
                // The fence: a lead moves only if this attempt still holds its claim.
                if !retries.isEmpty {
                    for row in try await db.raw(Self.values("v", ["id", "claim_id", "due_at", "outcome"], retries) + """
                         UPDATE leads SET state = 'queued', due_at = v.due_at, due_reason = 'retry', last_outcome = v.outcome, claim_id = NULL, lease_until = NULL
                        FROM v WHERE leads.id = v.id AND leads.claim_id = v.claim_id AND leads.state = 'dialing' RETURNING leads.campaign_id
                        """).all() {
                        counts.move(try row.string("campaign_id"), from: LeadCounts.dialing, to: LeadCounts.queued(attempts: 1))
                    }
                }
                if !finals.isEmpty {
                    for row in try await db.raw(Self.values("v", ["id", "claim_id", "outcome"], finals) + """
                         UPDATE leads SET state = 'done', last_outcome = v.outcome, claim_id = NULL, lease_until = NULL
                        FROM v WHERE leads.id = v.id AND leads.claim_id = v.claim_id AND leads.state = 'dialing'
                        RETURNING leads.campaign_id, leads.last_outcome
                        """).all() {
                        counts.move(try row.string("campaign_id"), from: LeadCounts.dialing, to: LeadCounts.done(try row.string("last_outcome")))
                    }
                }
                if !calls.isEmpty {
                    try await db.raw(Self.values("v", ["id", "status", "outcome", "attempts", "duration", "detail", "updated_at"], calls) + """
                         UPDATE calls SET status = v.status, outcome = v.outcome, attempts = v.attempts, duration_sec = duration_sec + v.duration,
                          detail = v.detail, updated_at = v.updated_at
                        FROM v WHERE calls.id = v.id
                        """).run()
                }
            }
            for step in progress {
                guard let organizationID = campaigns[step.attempt.campaignID]?.organizationID else { continue }
                let (type, at): (WebhookEventType, Date) = switch step.progress {
                case .ringing(let at): (.callRinging, at)
                case .answered(let at): (.callAnswered, at)
                }
                guard subscribers.want(type, from: organizationID) else { continue }
                events.append(WebhookEvent(organizationID: organizationID, type: type, occurredAt: at, data: Self.callEventData(step.attempt)))
            }
            events.sort { $0.occurredAt < $1.occurredAt }
            // The breaker can only trip on a new failure.
            let failing = Set(completions.filter { CircuitBreaker.failures.contains($0.result.outcome) }.map(\.attempt.campaignID))
            for id in failing {
                guard let campaign = campaigns[id], campaign.status == .active,
                      let now = completions.filter({ $0.attempt.campaignID == id }).map(\.result.endedAt).max() else { continue }
                events += try await tripBreakerIfNeeded(db, campaign, now: now)
            }
            try await emit(db, events, to: subscribers)
            return touched
        }
    }

    /// Pauses the campaign when too many of its recent calls failed at the carrier, and says
    /// why. Calls before its last status change (a resume) do not count again; of the window's
    /// calls, the latest `CircuitBreaker.sample` are read, so the check costs the same however
    /// fast the campaign dials.
    private func tripBreakerIfNeeded(_ db: any SQLDatabase, _ campaign: CampaignRecord, now: Date) async throws -> [WebhookEvent] {
        let breaker = campaign.settings.breaker
        guard breaker.enabled else { return [] }
        let since = max(now.addingTimeInterval(-breaker.windowSeconds), campaign.updatedAt)
        let failures = CircuitBreaker.failures.map(\.rawValue)
        guard let row = try await db.raw("""
            SELECT COUNT(*) AS n, COALESCE(SUM(CASE WHEN outcome IN (\(binds: failures)) THEN 1 ELSE 0 END), 0) AS f FROM (
              SELECT outcome FROM attempts WHERE campaign_id = \(bind: campaign.key) AND status = 'ended' AND ended_at >= \(bind: since.epoch)
              ORDER BY ended_at DESC LIMIT \(literal: CircuitBreaker.sample)) AS recent
            """).first() else { return [] }
        let (calls, failed) = (try row.int("n"), try row.int("f"))
        guard breaker.trips(calls: calls, failures: failed) else { return [] }
        let reason = breaker.reason(calls: calls, failures: failed)
        let paused = try await db.raw("""
            UPDATE campaigns SET status = 'paused', status_reason = \(bind: reason), updated_at = \(bind: now.epoch)
            WHERE id = \(bind: campaign.key) AND status = 'active' RETURNING id
            """).first() != nil
        guard paused else { return [] }
        logger.warning("campaign paused by its circuit breaker", metadata: ["campaign_id": "\(campaign.id)", "calls": "\(calls)", "failed": "\(failed)"])
        return [WebhookEvent(organizationID: campaign.organizationID, type: .campaignPaused, occurredAt: now, data: [
            "campaign_id": .string(campaign.id), "reason": .string(reason), "by": "circuit_breaker",
        ])]
    }

    /// Keeps the engine's in-flight claims alive. On PostgreSQL a lead another transaction
    /// holds is skipped, not waited for: that transaction is ending its call or reaping it, and
    /// a renewal that waited while holding the rows it had renewed deadlocked with the same
    /// dialer's completions, which take their leads in another order. A skipped lead is
    /// renewed at the next heartbeat, well inside its lease.
    public func renewLeases(attemptIDs: [Int64], until: Date) async throws {
        guard !attemptIDs.isEmpty else { return }
        let postgres = database.flavor == .postgres
        try await write { db in
            for chunk in attemptIDs.chunked(500) {
                let ids = Array(chunk)
                if postgres {
                    try await db.raw("""
                        UPDATE leads SET lease_until = \(bind: until.epoch) WHERE id IN (
                          SELECT id FROM leads WHERE state = 'dialing' AND claim_id IN (\(binds: ids)) FOR UPDATE SKIP LOCKED)
                        """).run()
                } else {
                    try await db.raw("UPDATE leads SET lease_until = \(bind: until.epoch) WHERE state = 'dialing' AND claim_id IN (\(binds: ids))").run()
                }
            }
        }
    }

    /// Claims whose lease ran out: their dialer died or lost the database. Each is marked
    /// in doubt, to be reconciled with its carrier before anything else happens to its lead.
    /// A claim that was never recorded (its dialer died between a claim's two transactions)
    /// has no attempt to reconcile and no carrier was asked: its lead is put back as it was.
    public func expiredClaims(now: Date, limit: Int = 500) async throws -> [ClaimedAttempt] {
        try await writeCounting { db, counts in
            try await requeueUnrecorded(db, now: now, limit: limit, counts: &counts)
            let rows = try await db.raw("""
                SELECT a.id, a.lead_id, a.call_id, a.campaign_id, a.attempt, a.from_number, a.provider, a.to_number, a.dial_at, l.fields,
                  p.settings
                FROM leads l JOIN attempts a ON a.id = l.claim_id LEFT JOIN phone_numbers p ON p.phone_number = a.from_number
                WHERE l.state = 'dialing' AND l.lease_until < \(bind: now.epoch) AND a.status = 'dialing'
                ORDER BY l.lease_until LIMIT \(literal: limit)
                """).all()
            var claims: [ClaimedAttempt] = []
            for row in rows {
                let fields = try row.optionalString("fields").map { try Coding.decode([String: JSONValue].self, $0) } ?? [:]
                claims.append(ClaimedAttempt(
                    attemptID: Int64(try row.int("id")), leadID: Int64(try row.int("lead_id")), callID: try row.string("call_id"),
                    campaignID: try row.string("campaign_id"), attemptNumber: try row.int("attempt"), from: try row.string("from_number"),
                    provider: try row.value("provider"), carrierSettings: try NumberCarrier.settings(row), to: try row.string("to_number"),
                    dialAt: try row.date("dial_at"),
                    ringTimeout: CampaignSettings.defaultRingTimeout, maxDuration: CampaignSettings.defaultMaxCallDuration, fields: fields))
            }
            if !claims.isEmpty {
                let ids = claims.map(\.attemptID)
                try await db.raw("UPDATE attempts SET in_doubt = 1 WHERE id IN (\(binds: ids))").run()
                // Hold them while they are reconciled, so no second reaper takes them.
                try await db.raw("UPDATE leads SET lease_until = \(bind: now.epoch + 60) WHERE state = 'dialing' AND claim_id IN (\(binds: ids))").run()
            }
            return claims
        }
    }

    /// Leads whose lease ran out while their claim's attempt was never written. The attempt's
    /// row is written within the dialer's database deadline (10 s) of its lead being taken, far
    /// inside the lead's lease (90 s): a lead still without one when the lease runs out was
    /// lost with its dialer.
    private func requeueUnrecorded(_ db: any SQLDatabase, now: Date, limit: Int, counts: inout LeadCounts) async throws {
        var lost: SQLQueryString = """
            SELECT id FROM leads WHERE state = 'dialing' AND lease_until < \(bind: now.epoch)
              AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.id = leads.claim_id) LIMIT \(literal: limit)
            """
        // Another reaper may be putting back the same leads: skip what it holds.
        if database.flavor == .postgres { lost += " FOR UPDATE SKIP LOCKED" }
        let requeued = try await putBack(db, "id IN (\(lost))", now: now, counts: &counts)
        if requeued > 0 { logger.notice("claims lost before they were recorded; leads re-queued", metadata: ["leads": "\(requeued)"]) }
    }

    /// The carrier never received this attempt: void it and put the lead back, uncounted.
    public func requeueNeverPlaced(_ attempt: ClaimedAttempt, now: Date) async throws {
        try await writeCounting { db, counts in
            let voided = try await db.raw("""
                UPDATE attempts SET status = 'void', detail = 'never reached the carrier', ended_at = \(bind: now.epoch)
                WHERE id = \(bind: attempt.attemptID) AND status = 'dialing' RETURNING id
                """).first()
            guard voided != nil else { return }
            try await putBack(db, "id = \(bind: attempt.leadID) AND claim_id = \(bind: attempt.attemptID) AND state = 'dialing'",
                              now: now, counts: &counts)
        }
    }

    /// Puts the leads `which` selects back in the queue, due now, as if their claim had never
    /// been: the attempt uncounted, and a call id that no call row has (a first call whose
    /// claim was never recorded) forgotten. Returns how many.
    @discardableResult
    func putBack(_ db: any SQLDatabase, _ which: SQLQueryString, now: Date, counts: inout LeadCounts) async throws -> Int {
        let rows = try await db.raw("""
            UPDATE leads SET state = 'queued', attempts = attempts - 1, claim_id = NULL, lease_until = NULL, due_at = \(bind: now.epoch),
              call_id = CASE WHEN EXISTS (SELECT 1 FROM calls c WHERE c.id = leads.call_id) THEN leads.call_id END
            WHERE
            """ + " " + which + " RETURNING campaign_id, attempts").all()
        for row in rows {
            let (campaignID, attempts) = (try row.string("campaign_id"), try row.int("attempts"))
            counts.move(campaignID, from: LeadCounts.dialing, to: LeadCounts.queued(attempts: attempts))
            if attempts == 0 { counts.add(campaignID, LeadCounts.dialed, -1) }
        }
        return rows.count
    }

    /// Campaigns the engine looks after: active or paused, not deleted.
    public func liveCampaigns() async throws -> [CampaignRecord] {
        try await database.read { db in
            try await db.raw("SELECT * FROM campaigns WHERE deleted_at IS NULL AND status IN ('active', 'paused')").all().map(Self.campaign)
        }
    }

    /// Past its end time: leads still waiting become `not_called`; calls in flight finish.
    public func endCampaign(id: String, reason: String, now: Date) async throws {
        try await writeCounting { db, counts in
            let moved = try await db.raw("""
                UPDATE leads SET state = 'not_called', due_reason = 'campaign_ended' WHERE campaign_id = \(bind: id) AND state = 'queued' RETURNING attempts
                """).all().map { try $0.int("attempts") }
            counts.moveQueued(id, attempts: moved, to: LeadCounts.notCalled("campaign_ended"))
            try await db.raw("""
                UPDATE campaigns SET status = 'ended', status_reason = \(bind: reason), updated_at = \(bind: now.epoch)
                WHERE id = \(bind: id) AND status IN ('active', 'paused')
                """).run()
        }
    }

    /// `completed` once every lead is terminal; true when it changed. Asked whenever a claim
    /// finds nothing, so both halves are one probe: a queued lead (ordered by `due_at`, which
    /// makes the partial index `leads_queue` the index to read) or the campaign's count of
    /// leads dialing, which a claim moves when it takes its leads, before (on PostgreSQL) its
    /// attempts are written.
    public func completeCampaignIfDone(id: String, now: Date) async throws -> Bool {
        try await write { db in
            let open = try await db.raw("""
                SELECT 1 AS ok FROM (SELECT 1 FROM leads WHERE campaign_id = \(bind: id) AND state = 'queued' ORDER BY due_at LIMIT 1) AS queued
                UNION ALL SELECT 1 FROM campaign_lead_counts
                  WHERE campaign_id = \(bind: id) AND bucket = \(bind: LeadCounts.dialing) AND n > 0
                """).first()
            guard open == nil else { return false }
            guard let row = try await db.raw("""
                UPDATE campaigns SET status = 'completed', status_reason = NULL, updated_at = \(bind: now.epoch)
                WHERE id = \(bind: id) AND status = 'active' RETURNING organization_id
                """).first() else { return false }
            try await emit(db, [WebhookEvent(organizationID: try row.string("organization_id"), type: .campaignCompleted, occurredAt: now,
                                             data: ["campaign_id": .string(ScopedID.publicID(id))])])
            return true
        }
    }

    /// When the campaign's next queued lead is due.
    public func nextDue(campaignID: String) async throws -> Date? {
        try await database.read { db in
            try await db.raw("SELECT MIN(due_at) AS due FROM leads WHERE campaign_id = \(bind: campaignID) AND state = 'queued'")
                .first()?.optionalDate("due")
        }
    }
}

/// The carrier of a number, as the claim reads it.
struct NumberCarrier {
    var provider: ProviderName
    var settings: [String: JSONValue]

    init(_ row: any SQLRow) throws {
        provider = try row.value("provider")
        settings = try Self.settings(row)
    }

    static func settings(_ row: any SQLRow) throws -> [String: JSONValue] {
        try row.optionalString("settings").map { try Coding.decode([String: JSONValue].self, $0) } ?? [:]
    }
}

/// What `/metrics` reads of the queue at a scrape.
public struct QueueHealth: Sendable, Equatable {
    /// Queued leads of active campaigns that are due.
    public var due: Int
    /// Seconds the oldest of them has waited past its due time.
    public var lag: Double
    public var webhookBacklog: Int
}

extension Store {
    /// One read over the queue's index (due leads of active campaigns) and the webhook outbox.
    public func queueHealth(now: Date) async throws -> QueueHealth {
        try await database.read(.scan) { db in
            let queue = try await db.raw("""
                SELECT COUNT(*) AS n, MIN(l.due_at) AS oldest FROM leads l JOIN campaigns c ON c.id = l.campaign_id
                WHERE c.status = 'active' AND l.state = 'queued' AND l.due_at <= \(bind: now.epoch)
                """).first()
            let backlog = try await db.raw("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'pending'").first()
            let oldest = try queue?.optionalDouble("oldest")
            return QueueHealth(due: try queue?.int("n") ?? 0, lag: oldest.map { max(0, now.epoch - $0) } ?? 0,
                               webhookBacklog: try backlog?.int("n") ?? 0)
        }
    }
}
