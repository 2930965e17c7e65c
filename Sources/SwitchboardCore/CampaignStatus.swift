/// A voice campaign's life. Teli's `active|paused|completed|ended`, plus `canceled` for a
/// batch canceled through the batch-calling API.
public enum CampaignStatus: String, Sendable, Codable {
    case active, paused, completed, ended, canceled

    /// Statuses in which leads may still be dialed later.
    public var isLive: Bool { self == .active || self == .paused }
}

/// Why a lead's next dial waits: the reason a campaign reports when nothing is dialing.
public enum DueReason: String, Sendable, Codable {
    /// Not dialed yet: waits for the campaign window to open (or for capacity).
    case new
    /// Waits for its retry interval.
    case retry
    /// Outside calling hours in the recipient's time zone.
    case callingHours = "calling_hours"
    /// The number was dialed as often as the organization allows for now (across campaigns).
    case attemptCap = "attempt_cap"
}
