import Foundation

/// One outbound number as the pacer sees it: how busy it is and when it may dial next.
public struct NumberLoad: Sendable, Equatable {
    public var number: String
    public var inFlight: Int
    public var maxConcurrent: Int
    public var callsPerSecond: Double
    /// The earliest instant its next call may start (its calls-per-second bucket).
    /// A rate of 0 means no limit (the simulator's lines).
    public var nextSlotAt: Date
    public var lastUsedAt: Date

    public init(number: String, inFlight: Int, maxConcurrent: Int, callsPerSecond: Double, nextSlotAt: Date, lastUsedAt: Date) {
        self.number = number
        self.inFlight = inFlight
        self.maxConcurrent = maxConcurrent
        self.callsPerSecond = callsPerSecond
        self.nextSlotAt = nextSlotAt
        self.lastUsedAt = lastUsedAt
    }
}

/// Assigns calls to a campaign's numbers: the least recently used number with capacity, each
/// call at a start time that keeps the number under its calls-per-second.
public enum Pacer {
    public struct Assignment: Sendable, Equatable {
        public var numberIndex: Int
        public var dialAt: Date
    }

    /// Up to `count` assignments whose start times fall before `now + horizon`. `numbers` is
    /// updated with the load it will carry, so the caller can write it back.
    public static func assign(count: Int, numbers: inout [NumberLoad], now: Date, horizon: TimeInterval) -> [Assignment] {
        var out: [Assignment] = []
        out.reserveCapacity(count)
        let limit = now.addingTimeInterval(horizon)
        while out.count < count {
            var best: Int?
            for (i, n) in numbers.enumerated() where n.inFlight < n.maxConcurrent && max(now, n.nextSlotAt) < limit {
                if let b = best, numbers[b].lastUsedAt <= n.lastUsedAt { continue }
                best = i
            }
            guard let i = best else { break }
            let slot = max(now, numbers[i].nextSlotAt)
            if numbers[i].callsPerSecond > 0 { numbers[i].nextSlotAt = slot.addingTimeInterval(1 / numbers[i].callsPerSecond) }
            // Strictly after every earlier use, so calls placed in the same instant still rotate.
            let latest = numbers.map(\.lastUsedAt).max() ?? slot
            numbers[i].lastUsedAt = max(slot, latest.addingTimeInterval(0.000_001))
            numbers[i].inFlight += 1
            out.append(Assignment(numberIndex: i, dialAt: slot))
        }
        return out
    }
}
