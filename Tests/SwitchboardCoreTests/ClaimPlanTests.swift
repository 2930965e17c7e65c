import Foundation
import SwitchboardCore
import Testing

/// The claim's decisions, without a database: who is dialed now, who waits and why.
@Suite struct ClaimPlanDecisionTests {
    /// Thursday 2026-01-15 15:00 UTC.
    let now = Date(timeIntervalSince1970: 1_768_489_200)

    func settings(_ hours: CallingHours) -> CampaignSettings {
        CampaignSettings(agentID: "a", outboundNumber: "+15175550100", numbers: ["+15175550100"], redialEnabled: false,
                         retry: .noRetries, callingHours: hours, timeZone: "UTC")
    }

    func lead(_ id: Int64, _ phone: String) -> DueLead { DueLead(id: id, phone: phone, fields: nil, attempts: 0, callID: nil) }

    @Test func suppressedNumbersAreSetAsideAndTheRestDialed() {
        let plan = ClaimPlan(leads: [lead(1, "+15175550001"), lead(2, "+15175550002")], suppressed: ["+15175550001"], recentDials: [:],
                             caps: AttemptCaps(per24Hours: 3, per7Days: 7), settings: settings(CallingHours(start: 0, end: 1_440, timeZone: "UTC")),
                             campaignEnds: now.addingTimeInterval(86_400), now: now)
        #expect(plan.suppress == [1])
        #expect(plan.dial.map(\.id) == [2])
        #expect(plan.setAside)
    }

    @Test func outsideItsHoursALeadWaitsForTheOpeningOrIsNotCalled() {
        // 16:00–17:00 UTC: an hour from now.
        let hours = CallingHours(start: 16 * 60, end: 17 * 60, timeZone: "UTC")
        let waits = ClaimPlan(leads: [lead(1, "+15175550001")], suppressed: [], recentDials: [:], caps: AttemptCaps(per24Hours: 0, per7Days: 0),
                              settings: settings(hours), campaignEnds: now.addingTimeInterval(86_400), now: now)
        #expect(waits.dial.isEmpty)
        #expect(waits.deferred.map(\.until) == [now.addingTimeInterval(3_600)])
        #expect(waits.deferred.map(\.reason) == [.callingHours])
        // The campaign ends before the window opens: never called.
        let ends = ClaimPlan(leads: [lead(1, "+15175550001")], suppressed: [], recentDials: [:], caps: AttemptCaps(per24Hours: 0, per7Days: 0),
                             settings: settings(hours), campaignEnds: now.addingTimeInterval(600), now: now)
        #expect(ends.notCalled.map(\.reason) == [.callingHours])
    }

    @Test func aNumberOverItsAttemptCapWaitsUntilTheCapAllowsIt() {
        let dials = [now.addingTimeInterval(-3_600), now.addingTimeInterval(-1_800)]
        let plan = ClaimPlan(leads: [lead(1, "+15175550001")], suppressed: [], recentDials: ["+15175550001": dials],
                             caps: AttemptCaps(per24Hours: 2, per7Days: 7), settings: settings(CallingHours(start: 0, end: 1_440, timeZone: "UTC")),
                             campaignEnds: now.addingTimeInterval(7 * 86_400), now: now)
        #expect(plan.dial.isEmpty)
        #expect(plan.deferred.map(\.reason) == [.attemptCap])
        #expect(plan.deferred.first.map { $0.until > now } == true)
    }

    @Test func eachLeadWaitsForItsOwnZonesOpening() {
        // 09:00–20:00 local, at 15:00 UTC: 10:00 in New York (open), 07:00 in Los Angeles
        // (opens at 17:00 UTC). Leads of both zones, interleaved, each get their zone's answer.
        let hours = CallingHours(start: 9 * 60, end: 20 * 60)
        let leads = [lead(1, "+12125550001"), lead(2, "+12135550002"), lead(3, "+12125550003"), lead(4, "+12135550004")]
        let plan = ClaimPlan(leads: leads, suppressed: [], recentDials: [:], caps: AttemptCaps(per24Hours: 0, per7Days: 0),
                             settings: settings(hours), campaignEnds: now.addingTimeInterval(86_400), now: now)
        #expect(plan.dial.map(\.id) == [1, 3])
        #expect(plan.deferred.map(\.id) == [2, 4])
        #expect(plan.deferred.map(\.until) == [now.addingTimeInterval(2 * 3_600), now.addingTimeInterval(2 * 3_600)])
    }
}
