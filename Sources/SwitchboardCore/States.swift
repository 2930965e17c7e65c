/// The states, kinds and names records carry, as the database stores them (their raw values)
/// and the API writes them. Nothing compares these as strings outside the store's row mapping.

/// Which API a campaign row belongs to: a voice campaign (Teli's, or a batch seen through the
/// batch-calling API) or an SMS campaign's companion.
public enum CampaignKind: String, Sendable, Codable, CaseIterable {
    case voice
}

/// The carriers a number can be on.
public enum ProviderName: String, Sendable, Codable, CaseIterable, Comparable {
    case simulator, twilio, vobiz
    case sipTrunk = "sip_trunk"

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

public enum AgentType: String, Sendable, Codable, CaseIterable {
    case voice, sms
}

/// What a number can be used for.
public enum Capability: String, Sendable, Codable, CaseIterable {
    case voice, sms
}

/// A call (all its attempts) as the calls API shows it.
public enum CallStatus: String, Sendable, Codable, CaseIterable {
    case ongoing
    case retryScheduled = "retry_scheduled"
    case ended
}

/// One dial: placed (`dialing`), finished, or voided (its lead put back, never placed); or a
/// call-back the agent holds (`live`: inbound, never counted as a dial in flight).
public enum AttemptStatus: String, Sendable, Codable, CaseIterable {
    case dialing, ended, void, live
}

/// Who said a line of a call's transcript.
public enum TranscriptRole: String, Sendable, Codable, CaseIterable {
    case agent, user
}

/// Which way a text or a call went: to the contact (outbound) or from them (inbound).
public enum Direction: String, Sendable, Codable, CaseIterable {
    case inbound, outbound
}

/// Why a text was written: a campaign's starting message, a drip, the agent's reply, a
/// person's text, a keyword's answer (`system`), or the contact's own (`inbound`).
public enum MessageKind: String, Sendable, Codable, CaseIterable {
    case start, drip, agent, human, system, inbound
}

/// One contact's thread in an SMS campaign: `queued` (starting message not yet written),
/// `open`, `human` (a person took over: no agent, no drips), `ended`, `optedOut`.
public enum ConversationState: String, Sendable, Codable, CaseIterable {
    case queued, open, human, ended
    case optedOut = "opted_out"
}

/// What a conversation is due for next.
public enum ConversationDue: String, Sendable, Codable, CaseIterable {
    case start, drip, reply

    /// The kind of text it writes.
    public var messageKind: MessageKind {
        switch self {
        case .start: .start
        case .drip: .drip
        case .reply: .agent
        }
    }
}

public enum WebhookEndpointStatus: String, Sendable, Codable, CaseIterable {
    case active, disabled
}

public enum DeliveryStatus: String, Sendable, Codable, CaseIterable {
    case pending, delivered, failed
}
