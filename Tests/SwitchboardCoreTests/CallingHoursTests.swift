import Foundation
import Testing
@testable import SwitchboardCore

@Suite struct CallingHoursTests {
    let newYork = TimeZone(identifier: "America/New_York")!
    let losAngeles = TimeZone(identifier: "America/Los_Angeles")!

    func utc(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        return formatter.date(from: text)!
    }

    @Test func insideTheWindowIsNow() {
        let now = utc("2026-01-15T15:00:00Z") // 10:00 in New York
        #expect(CallingHours.default.nextOpening(from: now, zones: [newYork]) == now)
    }

    @Test func lateEveningWaitsForEightNextMorning() {
        let now = utc("2026-01-16T03:00:00Z") // 22:00 Thursday in New York
        #expect(CallingHours.default.nextOpening(from: now, zones: [newYork]) == utc("2026-01-16T13:00:00Z"))
    }

    @Test func endIsExclusive() {
        let nine = utc("2026-01-16T02:00:00Z") // 21:00 in New York
        #expect(CallingHours.default.nextOpening(from: nine, zones: [newYork]) == utc("2026-01-16T13:00:00Z"))
    }

    @Test func daylightSavingKeepsLocalEight() {
        // 2026-03-08 02:00 New York springs forward: 08:00 is 12:00Z after, 13:00Z before.
        let night = utc("2026-03-08T05:00:00Z") // 00:00 EST, before the change
        #expect(CallingHours.default.nextOpening(from: night, zones: [newYork]) == utc("2026-03-08T12:00:00Z"))
        // And back: 2026-11-01 08:00 EST is 13:00Z.
        #expect(CallingHours.default.nextOpening(from: utc("2026-11-01T05:30:00Z"), zones: [newYork]) == utc("2026-11-01T13:00:00Z"))
    }

    @Test func severalZonesMustAllBeOpen() {
        // 08:00 in New York is 05:00 in Los Angeles; both open at 08:00 Pacific = 16:00Z.
        let now = utc("2026-01-15T13:00:00Z")
        #expect(CallingHours.default.nextOpening(from: now, zones: [newYork, losAngeles]) == utc("2026-01-15T16:00:00Z"))
        // 20:30 in New York is open there, but closes at 21:00 before Los Angeles… both open now.
        #expect(CallingHours.default.nextOpening(from: utc("2026-01-16T01:30:00Z"), zones: [newYork, losAngeles]) == utc("2026-01-16T01:30:00Z"))
    }

    @Test func weekdaysOnly() {
        let hours = CallingHours(start: 9 * 60, end: 17 * 60, days: [1, 2, 3, 4, 5])
        let saturday = utc("2026-01-17T15:00:00Z")
        #expect(hours.nextOpening(from: saturday, zones: [newYork]) == utc("2026-01-19T14:00:00Z"))
    }

    @Test func alwaysAndNeverOverlapping() {
        let always = CallingHours(start: 0, end: 1440)
        let now = utc("2026-01-16T03:00:00Z")
        #expect(always.nextOpening(from: now, zones: [newYork]) == now)
        // Office hours 12 hours apart never overlap: 09:00–17:00 in New York and in Manila.
        let office = CallingHours(start: 9 * 60, end: 17 * 60)
        #expect(office.nextOpening(from: now, zones: [newYork, TimeZone(identifier: "Asia/Manila")!]) == nil)
    }

    @Test func parsesClockTimes() {
        #expect(CallingHours.minutes("08:00") == 480)
        #expect(CallingHours.minutes("24:00") == 1440)
        #expect(CallingHours.minutes("24:01") == nil)
        #expect(CallingHours.minutes("8:0") == nil)
        #expect(CallingHours.minutes("noon") == nil)
    }

    @Test func unknownZoneFallsBackToTheCampaignZone() throws {
        let zones = CallingHours.default.zones(for: try PhoneNumber(parsing: "+15551234567"), fallback: "Asia/Tokyo")
        #expect(zones.map(\.identifier) == ["Asia/Tokyo"])
    }
}
