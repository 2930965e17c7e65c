import Foundation

/// One report from a callback-driven carrier (Twilio, Vobiz) about a call, already read from
/// its wire format: a status callback, or the answer to a status poll.
public struct CarrierCallEvent: Sendable, Equatable, Codable {
    public enum Stage: Int, Sendable, Comparable, Codable {
        case queued, initiated, ringing, answered, ended
        public static func < (a: Stage, b: Stage) -> Bool { a.rawValue < b.rawValue }
    }

    public var attemptID: Int64
    public var stage: Stage
    /// The outcome, for `ended` events.
    public var outcome: Outcome?
    public var providerCallID: String?
    /// Connected seconds, as the carrier counted them.
    public var duration: TimeInterval?
    /// The carrier's own words, kept in the call's history (`Twilio busy`, `Vobiz USER_BUSY`).
    public var detail: String?
    /// Identifies this report among duplicates (Twilio's `SequenceNumber`, an idempotency token).
    public var deliveryKey: String?
    public var at: Date
    /// Answering-machine detection said a machine answered: the call ends as `voicemail`.
    public var answeredByMachine: Bool

    public init(attemptID: Int64, stage: Stage, outcome: Outcome? = nil, providerCallID: String? = nil, duration: TimeInterval? = nil,
                detail: String? = nil, deliveryKey: String? = nil, at: Date, answeredByMachine: Bool = false) {
        self.attemptID = attemptID
        self.stage = stage
        self.outcome = outcome
        self.providerCallID = providerCallID
        self.duration = duration
        self.detail = detail
        self.deliveryKey = deliveryKey
        self.at = at
        self.answeredByMachine = answeredByMachine
    }
}

/// What a callback-driven call has become, moved only forward: callbacks arrive duplicated,
/// late and out of order (a `ringing` after `completed`), and none of those may move a call
/// back or end it twice.
public struct CarrierCallTimeline: Sendable {
    public private(set) var stage: CarrierCallEvent.Stage = .queued
    public private(set) var providerCallID: String?
    public private(set) var ringingAt: Date?
    public private(set) var answeredAt: Date?
    public private(set) var ended: CarrierCallEvent?
    public private(set) var machine = false
    private var seen: Set<String> = []

    public init() {}

    /// Applies a report; false when it was a duplicate or came too late to matter.
    public mutating func apply(_ event: CarrierCallEvent) -> Bool {
        if let key = event.deliveryKey, !seen.insert(key).inserted { return false }
        if event.providerCallID != nil, providerCallID == nil { providerCallID = event.providerCallID }
        // Detection may report on the answer and not again at the end: remember it.
        if event.answeredByMachine { machine = true }
        guard event.stage > stage else { return false }
        stage = event.stage
        switch event.stage {
        case .ringing: ringingAt = event.at
        case .answered: answeredAt = event.at
        case .ended:
            ended = event
            // A call that talked was answered, even when the `answered` report was lost.
            if answeredAt == nil, let duration = event.duration, duration > 0 { answeredAt = event.at.addingTimeInterval(-duration) }
        case .queued, .initiated: break
        }
        return true
    }

    /// The end of the call in our vocabulary, once it has ended.
    public var result: DialResult? {
        guard let ended, var outcome = ended.outcome else { return nil }
        if machine, outcome == .completed { outcome = .voicemail }
        let answered = outcome == .completed || outcome == .voicemail
        return DialResult(outcome: outcome, providerCallID: providerCallID ?? ended.providerCallID, answeredAt: answered ? answeredAt : nil,
                          endedAt: ended.at, duration: answered ? (ended.duration ?? answeredAt.map { ended.at.timeIntervalSince($0) } ?? 0) : 0,
                          detail: ended.detail)
    }
}
