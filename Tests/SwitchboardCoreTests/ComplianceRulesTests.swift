import Foundation
import SwitchboardCore
import Testing

/// Calling hours for a number whose area code spans two zones, around DST and midnight;
/// holidays; attempt caps; the circuit breaker's rule.
@Suite struct ComplianceRulesTests {
    func utc(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    /// Idaho's 208: Boise (Mountain) and, in the north, Los Angeles (Pacific).
    func idahoZones() throws -> [TimeZone] {
        let number = try PhoneNumber(parsing: "+12082000000")
        let zones = CallingHours.default.zones(for: number, fallback: "UTC")
        #expect(Set(zones.map(\.identifier)) == ["America/Boise", "America/Los_Angeles"])
        return zones
    }

    @Test func splitZoneNumberWaitsForTheLaterZoneAcrossDST() throws {
        let zones = try idahoZones()
        // Saturday 2026-03-07, standard time: 08:00 Pacific (16:00Z) is when both are open.
        #expect(CallingHours.default.nextOpening(from: utc("2026-03-07T15:00:00Z"), zones: zones) == utc("2026-03-07T16:00:00Z"))
        // Sunday 2026-03-08, clocks sprang forward at 02:00: 08:00 PDT is 15:00Z.
        #expect(CallingHours.default.nextOpening(from: utc("2026-03-08T14:30:00Z"), zones: zones) == utc("2026-03-08T15:00:00Z"))
        #expect(CallingHours.default.nextOpening(from: utc("2026-03-08T15:00:00Z"), zones: zones) == utc("2026-03-08T15:00:00Z"))
        // Back in November: 2026-11-01 08:00 PST is 16:00Z again.
        #expect(CallingHours.default.nextOpening(from: utc("2026-11-01T15:30:00Z"), zones: zones) == utc("2026-11-01T16:00:00Z"))
    }

    @Test func splitZoneNumberAroundMidnight() throws {
        let zones = try idahoZones()
        // 20:59 in Boise is 19:59 in Los Angeles: both open. 21:00 Boise closes: wait for the morning.
        #expect(CallingHours.default.nextOpening(from: utc("2026-01-16T03:59:00Z"), zones: zones) == utc("2026-01-16T03:59:00Z"))
        #expect(CallingHours.default.nextOpening(from: utc("2026-01-16T04:00:00Z"), zones: zones) == utc("2026-01-16T16:00:00Z"))
        // Midnight in Boise, 23:00 the day before in Los Angeles: next is 08:00 Pacific the same UTC day.
        #expect(CallingHours.default.nextOpening(from: utc("2026-01-16T07:00:00Z"), zones: zones) == utc("2026-01-16T16:00:00Z"))
        // Every instant before that opening is closed in at least one zone.
        var t = utc("2026-01-16T04:00:00Z")
        while t < utc("2026-01-16T16:00:00Z") {
            #expect(!zones.allSatisfy { CallingHours.default.isOpen(at: t, in: $0) })
            t = t.addingTimeInterval(900)
        }
    }

    @Test func holidaysAreSkippedInTheRecipientsZone() {
        let newYork = TimeZone(identifier: "America/New_York")!
        var hours = CallingHours.default
        hours.holidays = ["2026-12-25"]
        // 10:00 on Christmas in New York: closed all day; 08:00 the 26th is 13:00Z.
        #expect(hours.nextOpening(from: utc("2026-12-25T15:00:00Z"), zones: [newYork]) == utc("2026-12-26T13:00:00Z"))
        #expect(!hours.isOpen(at: utc("2026-12-25T15:00:00Z"), in: newYork))
        #expect(CallingHours.isDate("2026-02-28") && !CallingHours.isDate("2026-02-30") && !CallingHours.isDate("26-12-25"))
    }

    @Test func attemptCapsGiveTheNextAllowedTime() {
        let now = utc("2026-01-15T15:00:00Z")
        let caps = AttemptCaps.default
        let hour: TimeInterval = 3_600
        #expect(caps.nextAllowed(after: [], now: now) == now)
        // Two dials today: a third fits now.
        #expect(caps.nextAllowed(after: [now - 2 * hour, now - hour], now: now) == now)
        // Three today: the oldest must age out of the 24 hours.
        #expect(caps.nextAllowed(after: [now - 3 * hour, now - 2 * hour, now - hour], now: now) == now - 3 * hour + 86_400)
        // Seven this week, spread out: the oldest must age out of the 7 days.
        let week = (1...7).map { now - Double($0) * 86_400 + hour }
        #expect(caps.nextAllowed(after: week, now: now) == week.min()! + 7 * 86_400)
        #expect(AttemptCaps(per24Hours: 0, per7Days: 0).nextAllowed(after: week, now: now) == now)
    }

    @Test func circuitBreakerTripsOnHalfOfFiveOrMore() {
        let breaker = CircuitBreaker.default
        #expect(!breaker.trips(calls: 4, failures: 4))
        #expect(breaker.trips(calls: 5, failures: 3))
        #expect(!breaker.trips(calls: 10, failures: 4))
        #expect(breaker.trips(calls: 10, failures: 5))
        #expect(!CircuitBreaker(enabled: false, failureThreshold: 0.5, windowSeconds: 120, minCalls: 5).trips(calls: 10, failures: 10))
    }

    @Test func webhookScheduleCoversAboutThreeDays() {
        let total = WebhookSchedule.delays.reduce(0, +)
        #expect(total > 2.5 * 86_400 && total < 3.5 * 86_400)
        #expect(WebhookSchedule.delay(afterAttempt: 1, jitter: 0) == 5)
        #expect(WebhookSchedule.delay(afterAttempt: WebhookSchedule.delays.count, jitter: 0) == nil)
    }
}
