import Foundation
import SwitchboardCore

/// The dialer's port in memory, for engine tests where a database adds nothing: the same
/// decisions as the store (`ClaimPlan` for calling hours, `AttemptEnd` for retries, the
/// concurrency cap, claims fenced by their attempt) over dictionaries. Numbers are not
/// paced and attempt caps are off: the store's tests hold those.
actor InMemoryDialQueue: DialQueue {
    struct Lead {
        var id: Int64
        var campaign: String
        var phone: String
        var fields: [String: JSONValue]
        var state = LeadState.queued
        var dueAt: Date
        var attempts = 0
        var claim: Int64?
        var leaseUntil: Date?
        var callID: String?
        var lastOutcome: Outcome?
    }

    struct Attempt {
        var claim: ClaimedAttempt
        var status = AttemptStatus.dialing
        var outcome: Outcome?
    }

    private(set) var campaigns: [String: CampaignRecord] = [:]
    private(set) var leads: [Int64: Lead] = [:]
    private(set) var attempts: [Int64: Attempt] = [:]
    private var nextID: Int64 = 0

    init(_ campaign: CampaignRecord, phones: [String], fields: [String: JSONValue] = [:]) {
        campaigns[campaign.key] = campaign
        for phone in phones {
            nextID += 1
            leads[nextID] = Lead(id: nextID, campaign: campaign.key, phone: phone, fields: fields, dueAt: campaign.beginAt)
        }
    }

    func lead(_ phone: String) -> Lead? { leads.values.first { $0.phone == phone } }

    // MARK: DialQueue

    func liveCampaigns() -> [CampaignRecord] { campaigns.values.filter(\.status.isLive) }

    func endCampaign(id: String, reason: String, now: Date) {
        campaigns[id]?.status = .ended
        campaigns[id]?.statusReason = reason
        for (leadID, lead) in leads where lead.campaign == id && lead.state == .queued { leads[leadID]?.state = .notCalled }
    }

    func claim(_ campaign: CampaignRecord, limits: ClaimLimits, now: Date) -> [ClaimedAttempt] {
        let live = attempts.values.filter { $0.claim.campaignID == campaign.key && $0.status == .dialing }.count
        let free = min(limits.batch, campaign.settings.maxConcurrentCalls - live)
        guard free > 0 else { return [] }
        let due = leads.values.filter { $0.campaign == campaign.key && $0.state == .queued && $0.dueAt <= now }
            .sorted { ($0.dueAt, $0.id) < ($1.dueAt, $1.id) }.prefix(free)
        let plan = ClaimPlan(leads: due.map { DueLead(id: $0.id, phone: $0.phone, fields: nil, attempts: $0.attempts, callID: $0.callID) },
                             suppressed: [], recentDials: [:], caps: AttemptCaps(per24Hours: 0, per7Days: 0),
                             settings: campaign.settings, campaignEnds: campaign.endAt, now: now)
        for lead in plan.deferred { leads[lead.id]?.dueAt = lead.until }
        for lead in plan.notCalled { leads[lead.id]?.state = .notCalled }
        return plan.dial.map { due in
            nextID += 1
            var lead = leads[due.id]!
            lead.attempts += 1
            lead.state = .dialing
            lead.claim = nextID
            lead.leaseUntil = now.addingTimeInterval(limits.lease)
            lead.callID = lead.callID ?? "call_\(lead.id)"
            leads[lead.id] = lead
            let claim = ClaimedAttempt(attemptID: nextID, leadID: lead.id, callID: lead.callID!, campaignID: campaign.key,
                                       attemptNumber: lead.attempts, from: campaign.settings.outboundNumber, provider: .simulator,
                                       carrierSettings: [:], to: lead.phone, dialAt: now, ringTimeout: campaign.settings.ringTimeout,
                                       maxDuration: campaign.settings.maxCallDuration, fields: lead.fields)
            attempts[nextID] = Attempt(claim: claim)
            return claim
        }
    }

    func completeCampaignIfDone(id: String, now: Date) -> Bool {
        guard campaigns[id]?.status == .active,
              !leads.values.contains(where: { $0.campaign == id && ($0.state == .queued || $0.state == .dialing) }) else { return false }
        campaigns[id]?.status = .completed
        return true
    }

    func nextDue(campaignID: String) -> Date? {
        leads.values.filter { $0.campaign == campaignID && $0.state == .queued }.map(\.dueAt).min()
    }

    func complete(_ completions: [AttemptCompletion], progress: [AttemptProgress]) -> Set<String> {
        var touched: Set<String> = []
        for completion in completions where attempts[completion.attempt.attemptID]?.status == .dialing {
            let claim = completion.attempt
            attempts[claim.attemptID]?.status = .ended
            attempts[claim.attemptID]?.outcome = completion.result.outcome
            touched.insert(claim.campaignID)
            let campaign = campaigns[claim.campaignID]
            let end = AttemptEnd(outcome: completion.result.outcome, attempt: claim.attemptNumber, endedAt: completion.result.endedAt,
                                 campaign: campaign.map { ($0.settings, $0.endAt, $0.status) })
            // The fence: the lead moves only while this attempt holds its claim.
            guard var lead = leads[claim.leadID], lead.claim == claim.attemptID, lead.state == .dialing else { continue }
            lead.claim = nil
            lead.leaseUntil = nil
            lead.lastOutcome = completion.result.outcome
            switch end.decision {
            case .retry(let at): lead.state = .queued; lead.dueAt = at
            case .final: lead.state = .done
            }
            leads[lead.id] = lead
        }
        return touched
    }

    func renewLeases(attemptIDs: [Int64], until: Date) {
        for (id, lead) in leads where lead.state == .dialing && lead.claim.map(attemptIDs.contains) == true { leads[id]?.leaseUntil = until }
    }

    func expiredClaims(now: Date, limit: Int) -> [ClaimedAttempt] {
        leads.values.filter { $0.state == .dialing && ($0.leaseUntil ?? .distantFuture) < now }
            .compactMap { $0.claim.flatMap { attempts[$0]?.claim } }.prefix(limit).map { $0 }
    }

    func requeueNeverPlaced(_ attempt: ClaimedAttempt, now: Date) {
        attempts[attempt.attemptID]?.status = .void
        guard leads[attempt.leadID]?.claim == attempt.attemptID else { return }
        leads[attempt.leadID]?.state = .queued
        leads[attempt.leadID]?.claim = nil
        leads[attempt.leadID]?.attempts -= 1
        leads[attempt.leadID]?.dueAt = now
    }

    func reapAbandonedImports(now: Date) -> Int { 0 }
}
