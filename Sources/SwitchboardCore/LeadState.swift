/// Where a lead stands in its campaign. Stored as its raw value.
public enum LeadState: String, Sendable, Codable, CaseIterable {
    /// Waiting for its due time: never dialed (`pending`) or waiting for a retry.
    case queued
    /// Claimed by a dialer; its current attempt is in flight.
    case dialing
    /// Terminal: its last outcome is final (completed, or failed with no retry left).
    case done
    /// Terminal: the campaign ended or was canceled before the lead could be reached.
    case notCalled = "not_called"
    /// Terminal: on the organization's suppression list; never dialed.
    case suppressed

    public var isTerminal: Bool { self == .done || self == .notCalled || self == .suppressed }
}

/// The status a client sees for a lead, derived from its state, attempts and last outcome.
public enum LeadStatus: String, Sendable, Codable {
    case pending
    case inProgress = "in_progress"
    case retryScheduled = "retry_scheduled"
    case completed
    case exhausted
    case notCalled = "not_called"
    case suppressed

    public init(state: LeadState, attempts: Int, lastOutcome: Outcome?) {
        switch state {
        case .queued: self = attempts == 0 ? .pending : .retryScheduled
        case .dialing: self = .inProgress
        case .done: self = lastOutcome == .completed ? .completed : .exhausted
        case .notCalled: self = .notCalled
        case .suppressed: self = .suppressed
        }
    }
}
