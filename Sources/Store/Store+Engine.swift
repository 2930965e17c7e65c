import Foundation
import Logging
import SQLKit
import SwitchboardCore

extension Store {
    /// Claims the campaign's due leads that fit its concurrency cap, its numbers' caps and
    /// calls-per-second, and their calling hours, in one transaction. Due leads outside their
    /// hours get their next opening as due time instead, so nothing spins.
    public func claim(_ campaign: CampaignRecord, limits: ClaimLimits, now: Date) async throws -> [ClaimedAttempt] {
        let settings = campaign.settings
        // The leads' fields are decoded once the transaction is over: the writer's thread is
        // what every write waits for, and decoding JSON need not happen on it.
        let claimed: [(attempt: ClaimedAttempt, fields: String?)] = try await writeCounting { db, counts in
            // Dialers in other processes claim too. Caps and pacing are global because every
            // claim for a campaign, or from one of its numbers, holds these row locks (taken on
            // PostgreSQL; SQLite's writes take turns anyway) until it commits: the counts below
            // are exact, and `next_slot_at` never races. The engine read the campaign before
            // this transaction, so a pause, cancel or delete may have committed since.
            var lockCampaign: SQLQueryString = "SELECT status FROM campaigns WHERE id = \(bind: campaign.key) AND deleted_at IS NULL"
            if database.flavor == .postgres { lockCampaign += " FOR UPDATE" }
            guard try await db.raw(lockCampaign).first()?.string("status") == CampaignStatus.active.rawValue else { return [] }
            if database.flavor == .postgres {
                try await db.raw("SELECT id FROM phone_numbers WHERE phone_number IN (\(binds: settings.numbers)) ORDER BY phone_number FOR UPDATE").run()
            }
            // In flight: the campaign's leads dialing, as kept with the leads (a lead is dialing
            // exactly while its attempt is): one row. Counting the live attempts walked their
            // index, on PostgreSQL past every entry an ended attempt leaves there until vacuum
            // (~1 ms a claim at 100k leads), and grew with the calls in flight.
            let live = try await db.raw("""
                SELECT n FROM campaign_lead_counts WHERE campaign_id = \(bind: campaign.key) AND bucket = \(bind: LeadCounts.dialing)
                """).first()
            let free = min(limits.batch, settings.maxConcurrentCalls - (try live?.int("n") ?? 0))
            guard free > 0 else { return [] }

            var (loads, carriers) = try await numberLoads(db, numbers: settings.numbers, callsPerSecond: settings.callsPerSecond)
            var probe = loads
            let capacity = Pacer.assign(count: free, numbers: &probe, now: now, horizon: limits.horizon).count
            guard capacity > 0 else { return [] }

            var eligible: [DueLead] = []
            let caps = try await organizationSettings(db, campaign.organizationID).attemptCaps
            // A few rounds: leads set aside (suppressed, outside their hours, over a cap) leave
            // room for the next ones.
            for _ in 0..<4 where eligible.count < capacity {
                let rows = try await db.raw(dueLeads(campaignID: campaign.key, now: now, excluding: eligible.map(\.id),
                                                     limit: capacity - eligible.count)).all()
                if rows.isEmpty { break }
                let leads = try rows.map { row in
                    DueLead(id: Int64(try row.int("id")), phone: try row.string("phone_number"), fields: try row.optionalString("fields"),
                            attempts: try row.int("attempts"), callID: try row.optionalString("call_id"))
                }
                let phones = leads.map(\.phone)
                let plan = ClaimPlan(
                    leads: leads, suppressed: try await suppressed(db, organizationID: campaign.organizationID, numbers: phones),
                    recentDials: try await recentDials(db, organizationID: campaign.organizationID, numbers: phones,
                                                       since: now.addingTimeInterval(-AttemptCaps.lookBack), caps: caps),
                    caps: caps, settings: settings, campaignEnds: campaign.endAt, now: now)
                eligible += plan.dial
                try await setAside(db, plan, campaignID: campaign.key, counts: &counts)
                if !plan.setAside { break }
            }

            var claimed: [(attempt: ClaimedAttempt, fields: String?)] = []
            let assignments = Pacer.assign(count: eligible.count, numbers: &loads, now: now, horizon: limits.horizon)
            guard !eligible.isEmpty else { return [] }
            // Set-based writes: one statement per step for the whole batch.
            struct Claim { var lead: DueLead; var from: String; var dialAt: Date; var callID: String }
            let claims = zip(eligible, assignments).map { lead, slot in
                Claim(lead: lead, from: loads[slot.numberIndex].number, dialAt: slot.dialAt, callID: lead.callID ?? Identifier.ordered("call_", at: now))
            }
            for chunk in claims.chunked(500) {
                let new = chunk.filter { $0.lead.callID == nil }
                if !new.isEmpty {
                    try await db.raw("""
                        INSERT INTO calls (id, organization_id, tenant_id, user_id, campaign_id, lead_id, agent_id, from_number, to_number,
                          status, attempts, created_at, updated_at)
                        """ + Self.rows(new.map {
                            [$0.callID, campaign.organizationID, campaign.tenantID, campaign.userID, campaign.key, $0.lead.id, settings.agentID,
                             $0.from, $0.lead.phone, "ongoing", 0, now.epoch, now.epoch]
                        })).run()
                }
                let again = chunk.filter { $0.lead.callID != nil }
                if !again.isEmpty {
                    try await db.raw(Self.values("v", ["id", "from_number"], again.map { [$0.callID, $0.from] }) + """
                         UPDATE calls SET status = 'ongoing', from_number = v.from_number, updated_at = \(literal: now.epoch) FROM v WHERE calls.id = v.id
                        """).run()
                }
                let insert: SQLQueryString = "INSERT INTO attempts (call_id, campaign_id, lead_id, attempt, from_number, to_number, provider, status, claimed_at, dial_at) "
                    + Self.rows(chunk.map {
                        [$0.callID, campaign.key, $0.lead.id, $0.lead.attempts + 1, $0.from, $0.lead.phone, (carriers[$0.from]?.provider ?? .simulator).rawValue,
                         "dialing", now.epoch, $0.dialAt.epoch]
                    }) + " RETURNING id, lead_id"
                var attemptIDs: [Int64: Int64] = [:]
                for row in try await db.raw(insert).all() { attemptIDs[Int64(try row.int("lead_id"))] = Int64(try row.int("id")) }
                try await db.raw(Self.values("v", ["id", "claim_id", "lease_until", "call_id"], chunk.map {
                    [$0.lead.id, attemptIDs[$0.lead.id], $0.dialAt.epoch + limits.lease, $0.callID]
                }) + """
                     UPDATE leads SET state = 'dialing', claim_id = v.claim_id, lease_until = v.lease_until, attempts = attempts + 1, call_id = v.call_id
                    FROM v WHERE leads.id = v.id
                    """).run()
                for c in chunk {
                    counts.move(campaign.key, from: LeadCounts.queued(attempts: c.lead.attempts), to: LeadCounts.dialing)
                    if c.lead.attempts == 0 { counts.add(campaign.key, LeadCounts.dialed) }
                }
                for c in chunk {
                    claimed.append((ClaimedAttempt(attemptID: attemptIDs[c.lead.id]!, leadID: c.lead.id, callID: c.callID, campaignID: campaign.key,
                                                   attemptNumber: c.lead.attempts + 1, from: c.from, provider: carriers[c.from]?.provider ?? .simulator,
                                                   carrierSettings: carriers[c.from]?.settings ?? [:], to: c.lead.phone, dialAt: c.dialAt, ringTimeout: settings.ringTimeout,
                                                   maxDuration: settings.maxCallDuration, fields: [:]), c.lead.fields))
                }
            }
            let subscribers = try await webhookSubscribers(db, organizations: [campaign.organizationID])
            if subscribers.want(.callInitiated, from: campaign.organizationID) {
                try await emit(db, claimed.map { attempt, _ in
                    WebhookEvent(organizationID: campaign.organizationID, type: .callInitiated, occurredAt: attempt.dialAt,
                                 data: Self.callEventData(attempt))
                }, to: subscribers)
            }
            let used = Set(claimed.map(\.attempt.from))
            for load in loads where used.contains(load.number) {
                try await db.raw("""
                    UPDATE phone_numbers SET next_slot_at = \(bind: load.nextSlotAt.epoch), last_used_at = \(bind: load.lastUsedAt.epoch)
                    WHERE phone_number = \(bind: load.number)
                    """).run()
            }
            return claimed
        }
        return try claimed.map { claim in
            var attempt = claim.attempt
            attempt.fields = try claim.fields.map { try Coding.decode([String: JSONValue].self, $0) } ?? [:]
            return attempt
        }
    }

    /// Writes what a claim plan set aside: suppressed leads, leads due again later, leads that
    /// will not be called.
    private func setAside(_ db: any SQLDatabase, _ plan: ClaimPlan, campaignID: String, counts: inout LeadCounts) async throws {
        if !plan.suppress.isEmpty {
            let moved = try await db.raw("""
                UPDATE leads SET state = 'suppressed', last_outcome = 'suppressed', due_reason = NULL WHERE id IN (\(binds: plan.suppress))
                RETURNING attempts
                """).all().map { try $0.int("attempts") }
            counts.moveQueued(campaignID, attempts: moved, to: LeadCounts.suppressed)
        }
        for lead in plan.deferred {
            try await db.raw("""
                UPDATE leads SET due_at = \(bind: lead.until.epoch), due_reason = \(bind: lead.reason.rawValue) WHERE id = \(bind: lead.id)
                """).run()
        }
        for lead in plan.notCalled {
            let moved = try await db.raw("""
                UPDATE leads SET state = 'not_called', due_reason = \(bind: lead.reason.rawValue) WHERE id = \(bind: lead.id) RETURNING attempts
                """).all().map { try $0.int("attempts") }
            counts.moveQueued(campaignID, attempts: moved, to: LeadCounts.notCalled(lead.reason.rawValue))
        }
    }

    /// The claim's read of the queue: served in order by the partial index `leads_queue`, no
    /// sort (a test checks the plan). On PostgreSQL, rows another transaction holds are skipped.
    public func dueLeads(campaignID: String, now: Date, excluding chosen: [Int64], limit: Int) -> SQLQueryString {
        var select: SQLQueryString = """
            SELECT id, phone_number, fields, attempts, call_id FROM leads
            WHERE campaign_id = \(bind: campaignID) AND state = 'queued' AND due_at <= \(bind: now.epoch)
            """
        // Leads chosen in an earlier round are still `queued` until the claim writes them.
        if !chosen.isEmpty { select += " AND id NOT IN (\(binds: chosen))" }
        select += " ORDER BY due_at LIMIT \(literal: limit)"
        if database.flavor == .postgres { select += " FOR UPDATE SKIP LOCKED" }
        return select
    }

    /// When each number was dialed since `since` by any of the organization's campaigns;
    /// nothing to read when no cap is set.
    ///
    /// On PostgreSQL each number is its own probe of `attempts_to_number` (`OFFSET 0` keeps the
    /// planner from folding the probes back into one join). As one `IN` list, the planner judged
    /// `attempts`, which grows while dialing, by statistics from when it was small, and scanned
    /// all of it: ~20 ms a claim at 100k, growing with the table, inside the campaign's lock.
    private func recentDials(_ db: any SQLDatabase, organizationID: String, numbers: [String], since: Date,
                             caps: AttemptCaps) async throws -> [String: [Date]] {
        guard caps.per24Hours > 0 || caps.per7Days > 0, !numbers.isEmpty else { return [:] }
        let query: SQLQueryString = database.flavor == .postgres ? """
            SELECT n.number AS to_number, d.dial_at FROM unnest(\(bind: numbers)::text[]) AS n(number) CROSS JOIN LATERAL (
              SELECT a.dial_at FROM attempts a
              WHERE a.to_number = n.number AND a.dial_at > \(bind: since.epoch) AND a.status <> 'void'
                AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = a.campaign_id AND c.organization_id = \(bind: organizationID))
              OFFSET 0) AS d
            """ : """
            SELECT a.to_number, a.dial_at FROM attempts a JOIN campaigns c ON c.id = a.campaign_id
            WHERE a.to_number IN (\(binds: numbers)) AND a.dial_at > \(bind: since.epoch) AND a.status <> 'void'
              AND c.organization_id = \(bind: organizationID)
            """
        var dials: [String: [Date]] = [:]
        for row in try await db.raw(query).all() {
            dials[try row.string("to_number"), default: []].append(try row.date("dial_at"))
        }
        return dials
    }

    /// What every `call.*` event says about its attempt.
    static func callEventData(_ attempt: ClaimedAttempt) -> [String: JSONValue] {
        [
            "call_id": .string(attempt.callID), "campaign_id": .string(ScopedID.publicID(attempt.campaignID)), "attempt": JSONValue(attempt.attemptNumber),
            "from_number": .string(attempt.from), "to_number": .string(attempt.to), "provider": .string(attempt.provider.rawValue),
        ]
    }

    /// The numbers' current load, and the carrier of each, read inside the claim's transaction.
    private func numberLoads(_ db: any SQLDatabase, numbers: [String], callsPerSecond: Double?) async throws -> ([NumberLoad], carriers: [String: NumberCarrier]) {
        var live: [String: Int] = [:]
        for row in try await db.raw("""
            SELECT from_number, COUNT(*) AS n FROM attempts WHERE status = 'dialing' AND from_number IN (\(binds: numbers)) GROUP BY from_number
            """).all() {
            live[try row.string("from_number")] = try row.int("n")
        }
        let rows = try await db.raw("""
            SELECT phone_number, provider, settings, max_concurrent_calls, calls_per_second, next_slot_at, last_used_at FROM phone_numbers
            WHERE phone_number IN (\(binds: numbers))
            """).all()
        var byNumber: [String: NumberLoad] = [:]
        var carriers: [String: NumberCarrier] = [:]
        for row in rows {
            let number = try row.string("phone_number")
            carriers[number] = try NumberCarrier(row)
            byNumber[number] = NumberLoad(number: number, inFlight: live[number] ?? 0, maxConcurrent: try row.int("max_concurrent_calls"),
                                          callsPerSecond: try callsPerSecond ?? row.double("calls_per_second"),
                                          nextSlotAt: try row.date("next_slot_at"), lastUsedAt: try row.date("last_used_at"))
        }
        // Keep the campaign's order so ties go to the outbound number first.
        return (numbers.compactMap { byNumber[$0] }, carriers)
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
    public func expiredClaims(now: Date, limit: Int = 500) async throws -> [ClaimedAttempt] {
        try await write { db in
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

    /// The carrier never received this attempt: void it and put the lead back, uncounted.
    public func requeueNeverPlaced(_ attempt: ClaimedAttempt, now: Date) async throws {
        try await writeCounting { db, counts in
            let voided = try await db.raw("""
                UPDATE attempts SET status = 'void', detail = 'never reached the carrier', ended_at = \(bind: now.epoch)
                WHERE id = \(bind: attempt.attemptID) AND status = 'dialing' RETURNING id
                """).first()
            guard voided != nil else { return }
            guard let lead = try await db.raw("""
                UPDATE leads SET state = 'queued', attempts = attempts - 1, claim_id = NULL, lease_until = NULL, due_at = \(bind: now.epoch)
                WHERE id = \(bind: attempt.leadID) AND claim_id = \(bind: attempt.attemptID) AND state = 'dialing' RETURNING campaign_id, attempts
                """).first() else { return }
            let (campaignID, attempts) = (try lead.string("campaign_id"), try lead.int("attempts"))
            counts.move(campaignID, from: LeadCounts.dialing, to: LeadCounts.queued(attempts: attempts))
            if attempts == 0 { counts.add(campaignID, LeadCounts.dialed, -1) }
        }
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
    /// finds nothing, so both halves are a probe of a partial index: a queued lead (ordered by
    /// `due_at`, which makes `leads_queue` the index to read) or a lead dialing, found through
    /// its live attempt (a lead is `dialing` exactly while its claim's attempt is).
    public func completeCampaignIfDone(id: String, now: Date) async throws -> Bool {
        try await write { db in
            let open = try await db.raw("""
                SELECT 1 AS ok FROM (SELECT 1 FROM leads WHERE campaign_id = \(bind: id) AND state = 'queued' ORDER BY due_at LIMIT 1) AS queued
                UNION ALL SELECT 1 FROM (
                  SELECT 1 FROM attempts a JOIN leads l ON l.id = a.lead_id
                  WHERE a.campaign_id = \(bind: id) AND a.status = 'dialing' AND l.state = 'dialing' LIMIT 1) AS dialing
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
