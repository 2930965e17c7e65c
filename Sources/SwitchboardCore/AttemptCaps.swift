import Foundation

/// How often one number may be dialed by an organization, across all its campaigns: at most
/// `per24Hours` dials in any 24 hours and `per7Days` in any 7 days (0 = no cap). Defaults follow
/// the common rule of three a day and Regulation F's seven a week.
public struct AttemptCaps: Sendable, Codable, Equatable {
    public var per24Hours: Int
    public var per7Days: Int

    public static let `default` = AttemptCaps(per24Hours: 3, per7Days: 7)
    /// The longest window a cap looks back over.
    public static let lookBack: TimeInterval = 7 * 86_400

    public init(per24Hours: Int, per7Days: Int) {
        self.per24Hours = max(0, per24Hours)
        self.per7Days = max(0, per7Days)
    }

    /// The earliest instant at or after `now` at which one more dial keeps both caps, given
    /// when the number was dialed before.
    public func nextAllowed(after dials: [Date], now: Date) -> Date {
        let sorted = dials.sorted()
        var at = now
        // Moving past one window's oldest dial never adds dials to the other: two passes settle.
        for _ in 0..<3 {
            var moved = false
            for (cap, window) in [(per24Hours, 86_400.0), (per7Days, 7 * 86_400.0)] where cap > 0 {
                let recent = sorted.filter { $0 > at.addingTimeInterval(-window) && $0 <= at }
                if recent.count >= cap {
                    // The dial that must age out of the window before one more fits.
                    at = recent[recent.count - cap].addingTimeInterval(window)
                    moved = true
                }
            }
            if !moved { break }
        }
        return at
    }
}

/// A campaign pauses itself when too many of its recent calls fail at the carrier: at least
/// `failureThreshold` of the calls that ended in the last `windowSeconds`, once there are
/// `minCalls` of them. Dograh's shape.
public struct CircuitBreaker: Sendable, Codable, Equatable {
    public var enabled: Bool
    public var failureThreshold: Double
    public var windowSeconds: Double
    public var minCalls: Int

    public static let `default` = CircuitBreaker(enabled: true, failureThreshold: 0.5, windowSeconds: 120, minCalls: 5)
    /// Outcomes that count as failures: the carrier or the network failed, not the callee.
    public static let failures: [Outcome] = [.failed]
    /// The most calls of the window judged at once: the latest ones (a campaign dialing hundreds
    /// a second has tens of thousands in two minutes; the latest 200 tell as much).
    public static let sample = 200

    public init(enabled: Bool, failureThreshold: Double, windowSeconds: Double, minCalls: Int) {
        self.enabled = enabled
        self.failureThreshold = failureThreshold
        self.windowSeconds = windowSeconds
        self.minCalls = minCalls
    }

    public func trips(calls: Int, failures: Int) -> Bool {
        enabled && calls >= max(1, minCalls) && Double(failures) >= failureThreshold * Double(calls)
    }

    /// What the campaign's status says when it trips.
    public func reason(calls: Int, failures: Int) -> String {
        "circuit breaker: \(failures) of the last \(calls) calls failed at the carrier within \(Int(windowSeconds)) s"
    }
}

/// Per-organization compliance settings.
public struct OrganizationSettings: Sendable, Codable, Equatable {
    public var attemptCaps: AttemptCaps
    public static let `default` = OrganizationSettings(attemptCaps: .default)
    public init(attemptCaps: AttemptCaps) { self.attemptCaps = attemptCaps }
}
