import Foundation

/// A campaign's redial policy: which outcomes are retried, how long to wait, how many dials.
public struct RetryPolicy: Sendable, Equatable, Codable {
    /// Total dials allowed for one lead, the first included (Teli's `retry_limit` + 1).
    public var maxAttempts: Int
    /// Wait between a failed attempt and the next one.
    public var interval: TimeInterval
    public var retryOn: Set<Outcome>

    public static let defaultRetryOn: Set<Outcome> = [.noAnswer, .busy, .voicemail, .failed]
    public static let noRetries = RetryPolicy(maxAttempts: 1, interval: 0, retryOn: [])

    public init(maxAttempts: Int, interval: TimeInterval, retryOn: Set<Outcome> = defaultRetryOn) {
        self.maxAttempts = max(1, maxAttempts)
        self.interval = max(0, interval)
        self.retryOn = retryOn.filter(\.isRetryable)
    }

    public enum Decision: Sendable, Equatable {
        /// The lead is finished with this outcome.
        case final(Outcome)
        /// Dial again, not before this time.
        case retry(at: Date)
    }

    /// What happens after attempt number `attempt` (1-based) ended with `outcome` at `now`.
    public func decide(outcome: Outcome, attempt: Int, now: Date) -> Decision {
        guard outcome != .completed, retryOn.contains(outcome), attempt < maxAttempts else {
            return .final(outcome)
        }
        return .retry(at: now.addingTimeInterval(interval))
    }
}
