import Foundation

/// What an attempt's end means for its lead and its call, decided without the database: the
/// store applies it (fenced by the claim) in the transaction that records the attempt.
public struct AttemptEnd: Sendable, Equatable {
    /// Dial the lead again (and when), or it is finished with this outcome.
    public var decision: RetryPolicy.Decision
    /// What the call shows now.
    public var callStatus: CallStatus
    /// The webhook event the end announces.
    public var event: WebhookEventType

    public var retrying: Bool { if case .retry = decision { true } else { false } }

    /// - Parameters:
    ///   - campaign: the campaign's settings, end and status; nil for a deleted campaign,
    ///     whose leads are gone (its attempts and calls remain history).
    public init(outcome: Outcome, attempt: Int, endedAt: Date,
                campaign: (settings: CampaignSettings, endAt: Date, status: CampaignStatus)?) {
        var decision = (campaign?.settings.effectiveRetry ?? .noRetries).decide(outcome: outcome, attempt: attempt, now: endedAt)
        // No redial past the campaign's end, or once it stopped.
        if case .retry(let at) = decision, let campaign, at >= campaign.endAt || !campaign.status.isLive { decision = .final(outcome) }
        self.decision = decision
        callStatus = if case .retry = decision { .retryScheduled } else { .ended }
        event = outcome == .completed ? .callCompleted : .callFailed
    }
}
