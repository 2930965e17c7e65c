import Foundation
import Testing
@testable import SwitchboardCore

@Suite struct PacerTests {
    let now = Date(timeIntervalSince1970: 1_000_000)

    func load(_ number: String, inFlight: Int = 0, max: Int = 10, cps: Double = 1, lastUsed: Double = 0) -> NumberLoad {
        NumberLoad(number: number, inFlight: inFlight, maxConcurrent: max, callsPerSecond: cps, nextSlotAt: .distantPast,
                   lastUsedAt: Date(timeIntervalSince1970: lastUsed))
    }

    @Test func rotatesLeastRecentlyUsedFirst() {
        var numbers = [load("+1a", cps: 100, lastUsed: 5), load("+1b", cps: 100, lastUsed: 1), load("+1c", cps: 100, lastUsed: 3)]
        let picks = Pacer.assign(count: 6, numbers: &numbers, now: now, horizon: 1).map { numbers[$0.numberIndex].number }
        #expect(picks == ["+1b", "+1c", "+1a", "+1b", "+1c", "+1a"])
    }

    @Test func spacesCallsByCallsPerSecond() {
        var numbers = [load("+1a", cps: 2)]
        let slots = Pacer.assign(count: 10, numbers: &numbers, now: now, horizon: 2).map(\.dialAt)
        #expect(slots == [0, 0.5, 1, 1.5].map { now.addingTimeInterval($0) })
        // The bucket carries over: the next pass starts where this one stopped.
        #expect(numbers[0].nextSlotAt == now.addingTimeInterval(2))
    }

    @Test func zeroRateMeansNoLimit() {
        var numbers = [load("+1a", cps: 0)]
        let slots = Pacer.assign(count: 3, numbers: &numbers, now: now, horizon: 1).map(\.dialAt)
        #expect(slots == [now, now, now])
    }

    @Test func respectsConcurrencyCaps() {
        var numbers = [load("+1a", inFlight: 2, max: 3, cps: 100), load("+1b", inFlight: 3, max: 3, cps: 100)]
        let assigned = Pacer.assign(count: 5, numbers: &numbers, now: now, horizon: 1)
        #expect(assigned.count == 1)
        #expect(assigned.first?.numberIndex == 0)
    }
}
