import Foundation

/// One dial, as the engine hands it to a carrier.
public struct DialRequest: Sendable {
    /// Our attempt id: the provider's idempotency key and the handle for reconciliation.
    public var attemptID: Int64
    public var callID: String
    public var attemptNumber: Int
    public var from: String
    public var to: String
    /// When the attempt was due: no call for it can have started before.
    public var dialAt: Date
    /// The settings of the number dialed from (credentials, trunk address).
    public var settings: [String: JSONValue]
    public var ringTimeout: TimeInterval
    public var maxDuration: TimeInterval
    /// Lead fields, for the agent's templates (and `simulate` for the simulator).
    public var fields: [String: JSONValue]
    /// Told as the call rings and is answered, while `dial` is still under way.
    public var progress: @Sendable (CallProgress) -> Void

    public init(attemptID: Int64, callID: String, attemptNumber: Int, from: String, to: String, dialAt: Date,
                settings: [String: JSONValue] = [:], ringTimeout: TimeInterval, maxDuration: TimeInterval, fields: [String: JSONValue],
                progress: @escaping @Sendable (CallProgress) -> Void = { _ in }) {
        self.attemptID = attemptID
        self.callID = callID
        self.attemptNumber = attemptNumber
        self.from = from
        self.to = to
        self.dialAt = dialAt
        self.settings = settings
        self.ringTimeout = ringTimeout
        self.maxDuration = maxDuration
        self.fields = fields
        self.progress = progress
    }
}

/// A step of a call in progress, with when it happened.
public enum CallProgress: Sendable, Equatable {
    case ringing(at: Date)
    case answered(at: Date)
}

/// How a dial ended, already in our vocabulary.
public struct DialResult: Sendable, Equatable {
    public var outcome: Outcome
    public var providerCallID: String?
    public var answeredAt: Date?
    public var endedAt: Date
    /// Connected seconds; 0 when never answered.
    public var duration: TimeInterval
    /// The carrier's own words for it (`SIP 486 Busy Here`, `Twilio 21211`), kept for history.
    public var detail: String?
    /// A machine answered and the agent's voicemail message was played to it.
    public var voicemailLeft: Bool
    /// The agent handed the call to this number, and the carrier took it (outcome `transferred`).
    public var transferredTo: String?

    public init(outcome: Outcome, providerCallID: String? = nil, answeredAt: Date? = nil, endedAt: Date,
                duration: TimeInterval = 0, detail: String? = nil, voicemailLeft: Bool = false, transferredTo: String? = nil) {
        self.voicemailLeft = voicemailLeft
        self.transferredTo = transferredTo
        self.outcome = outcome
        self.providerCallID = providerCallID
        self.answeredAt = answeredAt
        self.endedAt = endedAt
        self.duration = duration
        self.detail = detail
    }
}

/// What a carrier knows of an attempt we may or may not have placed (after a crash).
public enum ProviderCallStatus: Sendable, Equatable {
    /// The carrier never received it: safe to dial again.
    case unknown
    case inProgress
    case ended(DialResult)
}

/// The port every carrier implements. `dial` returns when the call is over and never throws:
/// a carrier error is an outcome (`failed`, with the reason in `detail`). `status` answers for
/// an attempt whose dialer died, from the same request the dial was given.
public protocol TelephonyProvider: Sendable {
    var name: ProviderName { get }
    func dial(_ request: DialRequest) async -> DialResult
    func status(of attempt: DialRequest) async -> ProviderCallStatus
}

/// How a conversation on our voice pipeline ended, for the call's outcome.
public struct ConversationEnd: Sendable, Equatable {
    /// Why, in words for the call's history.
    public var reason: String?
    /// Answering-machine detection heard a machine: the attempt's outcome is `voicemail`.
    public var answeredByMachine: Bool
    public var voicemailLeft: Bool
    /// The agent transferred the call here (the carrier took it): the outcome is `transferred`.
    public var transferredTo: String?

    public init(reason: String?, answeredByMachine: Bool = false, voicemailLeft: Bool = false, transferredTo: String? = nil) {
        self.transferredTo = transferredTo
        self.reason = reason
        self.answeredByMachine = answeredByMachine
        self.voicemailLeft = voicemailLeft
    }
}

/// Told what the engines do as they do it (the server counts it for `/metrics`): each dial as it
/// is placed and as it ends, each claim, each text sent, each webhook delivery tried.
public protocol EngineObserver: Sendable {
    func dialStarted(carrier: ProviderName)
    func dialEnded(carrier: ProviderName, outcome: Outcome)
    func claimed(count: Int, duration: Duration)
    func textSent(carrier: ProviderName, status: SMSStatus)
    func webhookTried(_ result: DeliveryResult)
}

extension EngineObserver {
    public func dialStarted(carrier: ProviderName) {}
    public func dialEnded(carrier: ProviderName, outcome: Outcome) {}
    public func claimed(count: Int, duration: Duration) {}
    public func textSent(carrier: ProviderName, status: SMSStatus) {}
    public func webhookTried(_ result: DeliveryResult) {}
}
