import Foundation

// What the dialer claims, dials and writes back.

/// An attempt the engine claimed: committed as `dialing` before any carrier hears of it.
public struct ClaimedAttempt: Sendable, Equatable {
    public var attemptID: Int64
    public var leadID: Int64
    public var callID: String
    /// The campaign's key (`ScopedID`: organization and id), as its rows are keyed.
    public var campaignID: String
    public var attemptNumber: Int
    public var from: String
    public var provider: ProviderName
    /// The settings of the number dialed from (credentials, trunk address): secrets.
    public var carrierSettings: [String: JSONValue]
    public var to: String
    public var dialAt: Date
    public var ringTimeout: TimeInterval
    public var maxDuration: TimeInterval
    public var fields: [String: JSONValue]

    public init(attemptID: Int64, leadID: Int64, callID: String, campaignID: String, attemptNumber: Int, from: String,
                provider: ProviderName, carrierSettings: [String: JSONValue], to: String, dialAt: Date, ringTimeout: TimeInterval,
                maxDuration: TimeInterval, fields: [String: JSONValue]) {
        self.attemptID = attemptID
        self.leadID = leadID
        self.callID = callID
        self.campaignID = campaignID
        self.attemptNumber = attemptNumber
        self.from = from
        self.provider = provider
        self.carrierSettings = carrierSettings
        self.to = to
        self.dialAt = dialAt
        self.ringTimeout = ringTimeout
        self.maxDuration = maxDuration
        self.fields = fields
    }
}

/// A step of an attempt in progress (ringing, answered), announced to webhooks.
public struct AttemptProgress: Sendable {
    public var attempt: ClaimedAttempt
    public var progress: CallProgress
    public init(attempt: ClaimedAttempt, progress: CallProgress) {
        self.attempt = attempt
        self.progress = progress
    }
}

/// An attempt's end, to be written with the retry decision in the same transaction.
public struct AttemptCompletion: Sendable {
    public var attempt: ClaimedAttempt
    public var result: DialResult
    public init(attempt: ClaimedAttempt, result: DialResult) {
        self.attempt = attempt
        self.result = result
    }
}

public struct ClaimLimits: Sendable {
    /// At most this many claims in one transaction.
    public var batch: Int
    /// Claims are paced to start within this many seconds.
    public var horizon: TimeInterval
    /// How long a claim stays ours without a heartbeat.
    public var lease: TimeInterval
    public init(batch: Int = 200, horizon: TimeInterval = 1, lease: TimeInterval = 90) {
        self.batch = batch
        self.horizon = horizon
        self.lease = lease
    }
}

/// The number an attempt dials from, as a carrier callback needs it: whose token signs it.
public struct AttemptCarrier: Sendable, Equatable {
    public var attemptID: Int64
    public var provider: ProviderName
    public var settings: [String: JSONValue]
    public var from: String
    public var to: String

    public init(attemptID: Int64, provider: ProviderName, settings: [String: JSONValue], from: String, to: String) {
        self.attemptID = attemptID
        self.provider = provider
        self.settings = settings
        self.from = from
        self.to = to
    }
}

/// A carrier's report that waits in the database for the dialer whose call it is.
public struct StoredCarrierEvent: Sendable, Equatable {
    public var id: Int64
    public var provider: ProviderName
    public var event: CarrierCallEvent
    public var receivedAt: Date

    public init(id: Int64, provider: ProviderName, event: CarrierCallEvent, receivedAt: Date) {
        self.id = id
        self.provider = provider
        self.event = event
        self.receivedAt = receivedAt
    }
}
