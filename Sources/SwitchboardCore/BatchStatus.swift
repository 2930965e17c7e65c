import Foundation

/// A voice campaign seen through the batch-calling API (ElevenLabs/ThreeTone): its status is
/// derived from the campaign's and its recipients', never stored twice.
public enum BatchStatus: String, Sendable, CaseIterable {
    case pending
    case inProgress = "in_progress"
    case completed
    case failed
    case cancelled

    /// - Parameters:
    ///   - dispatched: recipients dialed at least once, or being dialed now.
    ///   - finalOutcomes: terminal recipients by their last outcome.
    public init(campaign: CampaignStatus, recipients: Int, dispatched: Int, finalOutcomes: [String: Int]) {
        switch campaign {
        case .canceled: self = .cancelled
        case .active, .paused: self = dispatched == 0 && recipients > 0 ? .pending : .inProgress
        case .completed, .ended:
            // "Failed" when nobody could be dialed: no valid recipient, or every call ended
            // before reaching the network (invalid number, carrier error), or none was
            // placed before the campaign's end.
            let unreachable: Set<String> = [Outcome.invalidNumber.rawValue, Outcome.failed.rawValue]
            let reached = finalOutcomes.contains { !unreachable.contains($0.key) && $0.value > 0 }
            self = recipients == 0 || !reached ? .failed : .completed
        }
    }
}

/// One recipient's status in the batch-calling API's vocabulary.
public enum RecipientStatus: String, Sendable, CaseIterable {
    case pending, dispatched, initiated
    case inProgress = "in_progress"
    case completed, failed, cancelled, voicemail

    /// - Parameters:
    ///   - dialAt: when the current attempt is (or was) placed, for a lead being dialed.
    public init(state: LeadState, lastOutcome: Outcome?, dialAt: Date?, now: Date) {
        switch state {
        case .queued: self = .pending
        case .dialing: self = (dialAt.map { $0 > now } ?? false) ? .dispatched : .initiated
        case .done:
            switch lastOutcome {
            case .completed?, .transferred?: self = .completed
            case .voicemail?: self = .voicemail
            case .canceled?: self = .cancelled
            default: self = .failed
            }
        case .notCalled: self = .cancelled
        case .suppressed: self = .failed
        }
    }

    /// Outcomes that `POST /{batch_id}/retry` dials again: the callee was not reached.
    /// `call_declined` is left alone (a person said no), and so is `invalid_number`.
    public static let retriedOutcomes: [Outcome] = [.failed, .noAnswer, .busy, .voicemail]
}
