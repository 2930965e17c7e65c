import Foundation

// Campaigns and their leads, as the engine and the API read them.

public struct CampaignRecord: Sendable, Equatable {
    /// What rows are keyed by: the organization's id and the campaign's (`ScopedID`).
    public var key: String
    /// The id its organization knows it by.
    public var id: String { ScopedID.publicID(key) }
    public var organizationID: String
    public var tenantID: String
    public var userID: String
    public var kind: CampaignKind
    public var status: CampaignStatus
    public var statusReason: String?
    public var settings: CampaignSettings
    public var beginAt: Date
    public var endAt: Date
    public var contactsCount: Int
    public var invalidLeadsCount: Int
    public var duplicateLeadsCount: Int
    public var retryCount: Int
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: String, organizationID: String, tenantID: String, userID: String, kind: CampaignKind = .voice,
                status: CampaignStatus = .active, statusReason: String? = nil, settings: CampaignSettings, beginAt: Date, endAt: Date,
                contactsCount: Int = 0, invalidLeadsCount: Int = 0, duplicateLeadsCount: Int = 0, retryCount: Int = 0,
                createdAt: Date, updatedAt: Date) {
        self.key = ScopedID.key(organizationID: organizationID, id: id)
        self.organizationID = organizationID
        self.tenantID = tenantID
        self.userID = userID
        self.kind = kind
        self.status = status
        self.statusReason = statusReason
        self.settings = settings
        self.beginAt = beginAt
        self.endAt = endAt
        self.contactsCount = contactsCount
        self.invalidLeadsCount = invalidLeadsCount
        self.duplicateLeadsCount = duplicateLeadsCount
        self.retryCount = retryCount
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Lead counts of a campaign, derived from the leads themselves.
public struct CampaignProgress: Sendable, Equatable {
    public var total = 0
    public var pending = 0
    public var inProgress = 0
    public var retryScheduled = 0
    public var completed = 0
    /// Terminal without reaching anyone (busy, no answer, voicemail… with no retry left).
    public var failed = 0
    public var notCalled = 0
    /// Leads never called, by what kept them: `calling_hours` (no opening before the end),
    /// `attempt_cap`, `canceled`, or `campaign_ended`.
    public var notCalledReasons: [String: Int] = [:]
    public var suppressed = 0
    /// Leads dialed at least once (the current dial included).
    public var dialed = 0
    /// Terminal leads by their final outcome.
    public var outcomes: [String: Int] = [:]
    /// When the next queued lead is due, and why it waits.
    public var nextDueAt: Date?
    public var nextDueReason: DueReason?
    /// The last change to any of the campaign's calls.
    public var lastCallUpdateAt: Date?
    public init() {}
}

/// One row of failed-numbers.
public struct FailedNumber: Sendable, Equatable {
    public var leadID: Int64
    public var phoneNumber: String
    public var reason: String
    public var callTimestamp: Date?
    public var callID: String?
    /// For a lead never dialed: what kept it (`calling_hours`, `attempt_cap`, `canceled`).
    public var notCalledBecause: String?
    /// For a lead that failed and waits for a redial: when it is due.
    public var nextAttemptAt: Date?

    public init(leadID: Int64, phoneNumber: String, reason: String, callTimestamp: Date? = nil, callID: String? = nil,
                notCalledBecause: String? = nil, nextAttemptAt: Date? = nil) {
        self.leadID = leadID
        self.phoneNumber = phoneNumber
        self.reason = reason
        self.callTimestamp = callTimestamp
        self.callID = callID
        self.notCalledBecause = notCalledBecause
        self.nextAttemptAt = nextAttemptAt
    }
}

/// Where a page of a newest-first list ends: the next page starts after it.
public struct CampaignCursor: Sendable, Equatable {
    public var createdAt: Double
    public var id: String
    public init(createdAt: Double, id: String) {
        self.createdAt = createdAt
        self.id = id
    }
}

public enum RetryResult: Sendable, Equatable {
    case retried(Int)
    case canceled
}

/// A lead as the batch-calling API shows it: a recipient.
public struct RecipientRecord: Sendable, Equatable {
    public var leadID: Int64
    public var phoneNumber: String
    public var fields: [String: JSONValue]
    public var state: LeadState
    public var lastOutcome: Outcome?
    public var attempts: Int
    public var callID: String?
    /// When the attempt in flight is placed; nil unless the lead is being dialed.
    public var dialAt: Date?
    public var callUpdatedAt: Date?

    public init(leadID: Int64, phoneNumber: String, fields: [String: JSONValue], state: LeadState, lastOutcome: Outcome? = nil,
                attempts: Int, callID: String? = nil, dialAt: Date? = nil, callUpdatedAt: Date? = nil) {
        self.leadID = leadID
        self.phoneNumber = phoneNumber
        self.fields = fields
        self.state = state
        self.lastOutcome = lastOutcome
        self.attempts = attempts
        self.callID = callID
        self.dialAt = dialAt
        self.callUpdatedAt = callUpdatedAt
    }
}

/// A streamed lead upload: staged in short transactions, made dialable in one.
public struct LeadImport: Sendable {
    public let id: Int64
    public let campaignID: String
    public static let lease: TimeInterval = 120

    public init(id: Int64, campaignID: String) {
        self.id = id
        self.campaignID = campaignID
    }
}

/// What an upload staged, for the transaction that makes it dialable.
public struct StagedLeads: Sendable {
    public let upload: LeadImport
    /// The valid leads staged, a number sent twice counted twice.
    public let count: Int
    /// False when no number was staged twice (`RepeatSieve`), so the move need not look for
    /// repeats; true when one may have been.
    public let mayRepeat: Bool

    public init(upload: LeadImport, count: Int, mayRepeat: Bool = true) {
        self.upload = upload
        self.count = count
        self.mayRepeat = mayRepeat
    }
}
