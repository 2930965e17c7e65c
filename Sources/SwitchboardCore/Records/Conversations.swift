import Foundation

// SMS campaigns, their conversations and texts.

/// An SMS campaign: Teli's statuses, and its fields as the client sent them (resolved with
/// the agent's defaults) in `body`.
public struct SMSCampaignRecord: Sendable, Equatable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        case active = "ACTIVE", paused = "PAUSED", completed = "COMPLETED", ended = "ENDED"
    }

    /// What rows are keyed by: the organization's id and the campaign's (`ScopedID`).
    public var key: String
    /// The id its organization knows it by.
    public var id: String { ScopedID.publicID(key) }
    public var organizationID: String
    public var tenantID: String
    public var userID: String
    public var createdByUserID: String
    public var name: String
    public var status: Status
    public var statusReason: String?
    public var agentID: String
    public var fromNumber: String
    public var body: [String: JSONValue]
    /// When starting messages and drips may go out (replies go at once), and the zone for
    /// numbers whose own is unknown; its SMS→voice calls keep the same hours.
    public var schedule: TextSchedule
    public var contactsCount: Int
    public var invalidLeadsCount: Int
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: String, organizationID: String, tenantID: String, userID: String, createdByUserID: String, name: String,
                status: Status = .active, statusReason: String? = nil, agentID: String, fromNumber: String, body: [String: JSONValue],
                schedule: TextSchedule = TextSchedule(), contactsCount: Int = 0, invalidLeadsCount: Int = 0, createdAt: Date, updatedAt: Date) {
        self.key = ScopedID.key(organizationID: organizationID, id: id)
        self.organizationID = organizationID
        self.tenantID = tenantID
        self.userID = userID
        self.createdByUserID = createdByUserID
        self.name = name
        self.status = status
        self.statusReason = statusReason
        self.agentID = agentID
        self.fromNumber = fromNumber
        self.body = body
        self.schedule = schedule
        self.contactsCount = contactsCount
        self.invalidLeadsCount = invalidLeadsCount
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    public var dryRun: Bool { body["dry_run"] == .bool(true) }
}

/// One contact's thread in one SMS campaign.
public struct ConversationRecord: Sendable, Equatable {
    public var id: Int64
    public var organizationID: String
    /// The campaign's key (`ScopedID`: organization and id), as its rows are keyed.
    public var campaignID: String
    public var phoneNumber: String
    public var fromNumber: String
    public var fields: [String: JSONValue]
    public var state: ConversationState
    public var dueAt: Date?
    public var dueKind: ConversationDue?
    public var dripIndex: Int
    public var startedAt: Date?
    public var claimID: Int
    public var extracted: [String: JSONValue]
    public var leadOutcome: LeadOutcome
    public var voiceCampaignID: String?
    public var updatedAt: Date

    public init(id: Int64, organizationID: String, campaignID: String, phoneNumber: String, fromNumber: String,
                fields: [String: JSONValue], state: ConversationState, dueAt: Date? = nil, dueKind: ConversationDue? = nil,
                dripIndex: Int, startedAt: Date? = nil, claimID: Int, extracted: [String: JSONValue], leadOutcome: LeadOutcome,
                voiceCampaignID: String? = nil, updatedAt: Date) {
        self.id = id
        self.organizationID = organizationID
        self.campaignID = campaignID
        self.phoneNumber = phoneNumber
        self.fromNumber = fromNumber
        self.fields = fields
        self.state = state
        self.dueAt = dueAt
        self.dueKind = dueKind
        self.dripIndex = dripIndex
        self.startedAt = startedAt
        self.claimID = claimID
        self.extracted = extracted
        self.leadOutcome = leadOutcome
        self.voiceCampaignID = voiceCampaignID
        self.updatedAt = updatedAt
    }
}

/// What a worker decided for a conversation it claimed; written with the messages it queues.
public struct ConversationTurn: Sendable {
    public var messages: [String] = []
    public var kind = MessageKind.agent
    public var mediaURL: String?
    public var state: ConversationState?
    /// The next thing due, or nil for nothing.
    public var next: (at: Date, kind: ConversationDue)?
    public var dripIndex: Int?
    public var startedAt: Date?
    public var extracted: [String: JSONValue]?
    public var outcome: LeadOutcome?
    /// The agent heard an opt-out in other words: suppress the contact like a STOP.
    public var optOut = false
    public var voiceCall: VoiceEscalation?
    public init() {}
}

/// An SMS conversation handing over to a voice call.
public struct VoiceEscalation: Sendable, Equatable {
    public var at: Date
    public var agentID: String
    public var outboundNumber: String
    public var reason: String
    public init(at: Date, agentID: String, outboundNumber: String, reason: String) {
        self.at = at
        self.agentID = agentID
        self.outboundNumber = outboundNumber
        self.reason = reason
    }
}

/// A text, in or out.
public struct MessageRecord: Sendable, Equatable {
    public var id: Int64
    public var organizationID: String
    /// The campaign's key (`ScopedID`), for a text of an SMS campaign.
    public var campaignID: String?
    public var conversationID: Int64?
    public var direction: Direction
    public var ourNumber: String
    public var contactNumber: String
    public var body: String
    public var mediaURL: String?
    public var kind: MessageKind
    public var status: SMSStatus
    public var provider: ProviderName?
    public var providerMessageID: String?
    public var error: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var sentAt: Date?
    /// A queued text goes out no earlier than this (quiet hours); 1970 when at once.
    public var dueAt: Date = Date(timeIntervalSince1970: 0)

    public var from: String { direction == .inbound ? contactNumber : ourNumber }
    public var to: String { direction == .inbound ? ourNumber : contactNumber }

    public init(id: Int64, organizationID: String, campaignID: String? = nil, conversationID: Int64? = nil,
                direction: Direction, ourNumber: String, contactNumber: String, body: String, mediaURL: String? = nil,
                kind: MessageKind, status: SMSStatus, provider: ProviderName? = nil, providerMessageID: String? = nil,
                error: String? = nil, createdAt: Date, updatedAt: Date, sentAt: Date? = nil,
                dueAt: Date = Date(timeIntervalSince1970: 0)) {
        self.id = id
        self.organizationID = organizationID
        self.campaignID = campaignID
        self.conversationID = conversationID
        self.direction = direction
        self.ourNumber = ourNumber
        self.contactNumber = contactNumber
        self.body = body
        self.mediaURL = mediaURL
        self.kind = kind
        self.status = status
        self.provider = provider
        self.providerMessageID = providerMessageID
        self.error = error
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.sentAt = sentAt
        self.dueAt = dueAt
    }
}

/// An outbox message claimed for sending, with its number's carrier.
public struct OutboxMessage: Sendable {
    public var message: MessageRecord
    public var provider: ProviderName
    public var settings: [String: JSONValue]

    public init(message: MessageRecord, provider: ProviderName, settings: [String: JSONValue]) {
        self.message = message
        self.provider = provider
        self.settings = settings
    }
}

/// What an inbound text did.
public struct InboundResult: Sendable, Equatable {
    public typealias Effect = InboundPlan.Effect
    public var effect: Effect
    public var messageID: Int64?
    public var conversationID: Int64?

    public init(effect: Effect, messageID: Int64? = nil, conversationID: Int64? = nil) {
        self.effect = effect
        self.messageID = messageID
        self.conversationID = conversationID
    }
}
