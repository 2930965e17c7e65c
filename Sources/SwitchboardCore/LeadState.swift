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
}
