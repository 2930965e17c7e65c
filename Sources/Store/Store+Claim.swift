import Foundation
import SQLKit
import SwitchboardCore

/// One lead a claim took: the number and slot it dials from, and the ids its attempt and call
/// are recorded under.
struct LeadClaim: Sendable {
    var lead: DueLead
    var from: String
    var dialAt: Date
    var callID: String
    var attemptID: Int64
}

/// What a claim's locked part took, for its second part to record.
struct Reservation: Sendable {
    var claims: [LeadClaim] = []
    var carriers: [String: NumberCarrier] = [:]

    /// The carrier a claim dials through.
    func provider(_ number: String) -> ProviderName { carriers[number]?.provider ?? .simulator }

    /// The claims as the engine dials them, their leads' fields not yet decoded.
    func attempts(of campaign: CampaignRecord) -> [ClaimedAttempt] {
        claims.map { claim in
            ClaimedAttempt(attemptID: claim.attemptID, leadID: claim.lead.id, callID: claim.callID, campaignID: campaign.key,
                           attemptNumber: claim.lead.attempts + 1, from: claim.from, provider: provider(claim.from),
                           carrierSettings: carriers[claim.from]?.settings ?? [:], to: claim.lead.phone, dialAt: claim.dialAt,
                           ringTimeout: campaign.settings.ringTimeout, maxDuration: campaign.settings.maxCallDuration, fields: [:])
        }
    }
}

extension Store {
    /// Claims the campaign's due leads that fit its concurrency cap, its numbers' caps and
    /// calls-per-second, and their calling hours. Due leads outside their hours get their next
    /// opening as due time instead, so nothing spins.
    ///
    /// A claim is two steps: `reserve` takes the leads and the capacity under the campaign's
    /// lock, and `record` inserts their calls and attempts. On PostgreSQL they are two
    /// transactions, so the other dialers' claims wait only for the first: the lock was held
    /// through the inserts too, and two dialers' claims took turns on it (44–49 ms waited a
    /// claim; 6 ms since). A second transaction that fails puts its leads back at once
    /// (`release`); a claim lost between them (its process died) leaves leads dialing under an
    /// attempt id no row has, which `expiredClaims` puts back when their lease runs out.
    /// SQLite's writes take turns anyway, so there both steps are one transaction.
    public func claim(_ campaign: CampaignRecord, limits: ClaimLimits, now: Date) async throws -> [ClaimedAttempt] {
        let reservation: Reservation
        if database.flavor == .postgres {
            reservation = try await writeCounting { db, counts in try await reserve(db, campaign, limits: limits, now: now, counts: &counts) }
            if !reservation.claims.isEmpty {
                do {
                    try await write { db in try await record(db, campaign, reservation, now: now) }
                } catch {
                    try? await release(reservation, now: now)
                    throw error
                }
            }
        } else {
            reservation = try await writeCounting { db, counts in
                let reservation = try await reserve(db, campaign, limits: limits, now: now, counts: &counts)
                try await record(db, campaign, reservation, now: now)
                return reservation
            }
        }
        // The leads' fields are decoded once the transactions are over: the writer's thread is
        // what every write waits for, and decoding JSON need not happen on it.
        return try zip(reservation.attempts(of: campaign), reservation.claims).map { attempt, claim in
            var attempt = attempt
            attempt.fields = try claim.lead.fields.map { try Coding.decode([String: JSONValue].self, $0) } ?? [:]
            return attempt
        }
    }

    /// Puts a reservation's leads back at once when its record failed, not when their lease
    /// runs out. A lead whose attempt was written after all (the commit landed, its answer did
    /// not) is left to the reaper, which asks its carrier.
    private func release(_ reservation: Reservation, now: Date) async throws {
        let (leads, attempts) = (reservation.claims.map(\.lead.id), reservation.claims.map(\.attemptID))
        _ = try await writeCounting { db, counts in
            try await putBack(db, """
                id IN (\(binds: leads)) AND claim_id IN (\(binds: attempts)) AND state = 'dialing'
                  AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.id = leads.claim_id)
                """, now: now, counts: &counts)
        }
    }

    /// A claim's locked part: the leads that fit, moved to dialing under the ids their attempts
    /// and calls will have, and the numbers' next slots.
    private func reserve(_ db: any SQLDatabase, _ campaign: CampaignRecord, limits: ClaimLimits, now: Date,
                         counts: inout LeadCounts) async throws -> Reservation {
        let settings = campaign.settings
        // Dialers in other processes claim too. Caps and pacing are global because every
        // claim for a campaign, or from one of its numbers, holds these row locks (taken on
        // PostgreSQL; SQLite's writes take turns anyway) until it commits: the counts below
        // are exact, and `next_slot_at` never races. The engine read the campaign before
        // this transaction, so a pause, cancel or delete may have committed since.
        var lockCampaign: SQLQueryString = "SELECT status FROM campaigns WHERE id = \(bind: campaign.key) AND deleted_at IS NULL"
        if database.flavor == .postgres { lockCampaign += " FOR UPDATE" }
        guard try await db.raw(lockCampaign).first()?.string("status") == CampaignStatus.active.rawValue else { return Reservation() }
        if database.flavor == .postgres {
            try await db.raw("SELECT id FROM phone_numbers WHERE phone_number IN (\(binds: settings.numbers)) ORDER BY phone_number FOR UPDATE").run()
        }
        // In flight: the campaign's leads dialing, as kept with the leads (a lead is dialing
        // exactly while its claim is): one row. Counting the live attempts walked their index,
        // on PostgreSQL past every entry an ended attempt leaves there until vacuum (~1 ms a
        // claim at 100k leads), grew with the calls in flight, and would miss a claim not yet
        // recorded.
        let live = try await db.raw("""
            SELECT n FROM campaign_lead_counts WHERE campaign_id = \(bind: campaign.key) AND bucket = \(bind: LeadCounts.dialing)
            """).first()
        let free = min(limits.batch, settings.maxConcurrentCalls - (try live?.int("n") ?? 0))
        guard free > 0 else { return Reservation() }

        var (loads, carriers) = try await numberLoads(db, numbers: settings.numbers, callsPerSecond: settings.callsPerSecond)
        var probe = loads
        let capacity = Pacer.assign(count: free, numbers: &probe, now: now, horizon: limits.horizon).count
        guard capacity > 0 else { return Reservation() }

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
        guard !eligible.isEmpty else { return Reservation() }

        let assignments = Pacer.assign(count: eligible.count, numbers: &loads, now: now, horizon: limits.horizon)
        let attemptIDs = try await nextAttemptIDs(db, count: eligible.count)
        let claims = zip(eligible, zip(assignments, attemptIDs)).map { lead, slot in
            LeadClaim(lead: lead, from: loads[slot.0.numberIndex].number, dialAt: slot.0.dialAt,
                      callID: lead.callID ?? Identifier.ordered("call_", at: now), attemptID: slot.1)
        }
        // Set-based writes: one statement per step for the whole batch.
        for chunk in claims.chunked(500) {
            try await db.raw(Self.values("v", ["id", "claim_id", "lease_until", "call_id"], chunk.map {
                [$0.lead.id, $0.attemptID, $0.dialAt.epoch + limits.lease, $0.callID]
            }) + """
                 UPDATE leads SET state = 'dialing', claim_id = v.claim_id, lease_until = v.lease_until, attempts = attempts + 1, call_id = v.call_id
                FROM v WHERE leads.id = v.id
                """).run()
        }
        for claim in claims {
            counts.move(campaign.key, from: LeadCounts.queued(attempts: claim.lead.attempts), to: LeadCounts.dialing)
            if claim.lead.attempts == 0 { counts.add(campaign.key, LeadCounts.dialed) }
        }
        let used = Set(claims.map(\.from))
        for load in loads where used.contains(load.number) {
            try await db.raw("""
                UPDATE phone_numbers SET next_slot_at = \(bind: load.nextSlotAt.epoch), last_used_at = \(bind: load.lastUsedAt.epoch)
                WHERE phone_number = \(bind: load.number)
                """).run()
        }
        return Reservation(claims: claims, carriers: carriers)
    }

    /// Ids for a claim's attempts, taken before their rows are written so the leads can name
    /// them. On PostgreSQL from the identity column's sequence, by its name: a constant, where
    /// `pg_get_serial_sequence` was looked up again for every id (2.7 ms for 500 against 0.5).
    /// On SQLite this runs in the transaction that inserts them, where nothing else writes.
    private func nextAttemptIDs(_ db: any SQLDatabase, count: Int) async throws -> [Int64] {
        if database.flavor == .postgres {
            return try await db.raw("""
                SELECT nextval('attempts_id_seq') AS id FROM generate_series(1, \(literal: count))
                """).all().map { Int64(try $0.int("id")) }
        }
        let last = Int64(try await db.raw("SELECT COALESCE(MAX(id), 0) AS id FROM attempts").first()?.int("id") ?? 0)
        return (1...Int64(count)).map { last + $0 }
    }

    /// A claim's second part: its calls and attempts, and `call.initiated` for each.
    private func record(_ db: any SQLDatabase, _ campaign: CampaignRecord, _ reservation: Reservation, now: Date) async throws {
        let settings = campaign.settings
        for chunk in reservation.claims.chunked(500) {
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
            try await db.raw("""
                INSERT INTO attempts (id, call_id, campaign_id, lead_id, attempt, from_number, to_number, provider, status, claimed_at, dial_at)
                """ + Self.rows(chunk.map {
                    [$0.attemptID, $0.callID, campaign.key, $0.lead.id, $0.lead.attempts + 1, $0.from, $0.lead.phone,
                     reservation.provider($0.from).rawValue, "dialing", now.epoch, $0.dialAt.epoch]
                })).run()
        }
        let subscribers = try await webhookSubscribers(db, organizations: [campaign.organizationID])
        if subscribers.want(.callInitiated, from: campaign.organizationID) {
            try await emit(db, reservation.attempts(of: campaign).map { attempt in
                WebhookEvent(organizationID: campaign.organizationID, type: .callInitiated, occurredAt: attempt.dialAt,
                             data: Self.callEventData(attempt))
            }, to: subscribers)
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

}
