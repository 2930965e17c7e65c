import Foundation

/// The events an organization's webhook endpoints may subscribe to.
public enum WebhookEventType: String, Sendable, CaseIterable, Codable {
    case callInitiated = "call.initiated"
    case callRinging = "call.ringing"
    case callAnswered = "call.answered"
    case callCompleted = "call.completed"
    case callFailed = "call.failed"
    case callAnalyzed = "call.analyzed"
    case campaignCompleted = "campaign.completed"
    case campaignPaused = "campaign.paused"
    case smsReceived = "sms.received"
    case contactOptedOut = "contact.opted_out"
}

/// Something that happened, for the endpoints of one organization that subscribe to its type.
public struct WebhookEvent: Sendable, Equatable {
    public var organizationID: String
    public var type: WebhookEventType
    public var occurredAt: Date
    public var data: [String: JSONValue]

    public init(organizationID: String, type: WebhookEventType, occurredAt: Date, data: [String: JSONValue]) {
        self.organizationID = organizationID
        self.type = type
        self.occurredAt = occurredAt
        self.data = data
    }

    /// The body every delivery of it carries: Standard Webhooks' `type`, `timestamp`, `data`.
    public var payload: String {
        let stamp = Self.timestamp.format(occurredAt)
        return JSONValue.object(["type": .string(type.rawValue), "timestamp": .string(stamp), "data": .object(data)]).jsonText
    }

    private static let timestamp = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}

/// When a failed delivery is tried again: Standard Webhooks' schedule, ten tries over about
/// three days (at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h).
public enum WebhookSchedule {
    public static let delays: [TimeInterval] = [0, 5, 300, 1_800, 7_200, 18_000, 36_000, 50_400, 72_000, 86_400]

    /// The delay before try number `attempt + 1` after `attempt` tries failed, with ±10% jitter
    /// so endpoints that failed together are not hit together; nil when no try is left.
    public static func delay(afterAttempt attempt: Int, jitter: Double = Double.random(in: -0.1...0.1)) -> TimeInterval? {
        guard attempt >= 1, attempt < delays.count else { return nil }
        return delays[attempt] * (1 + jitter)
    }
}
