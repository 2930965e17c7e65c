import Foundation

// Webhook endpoints and the deliveries of their events.

public struct WebhookEndpoint: Sendable, Equatable {
    public var id: String
    public var organizationID: String
    public var url: String
    public var events: [WebhookEventType]
    /// `whsec_…`: never shown again after creation.
    public var secret: String
    public var description: String?
    /// `disabled` when the endpoint answered 410 Gone.
    public var status: WebhookEndpointStatus
    public var statusReason: String?
    public var createdAt: Date

    public init(id: String, organizationID: String, url: String, events: [WebhookEventType], secret: String, description: String?,
                status: WebhookEndpointStatus = .active, statusReason: String? = nil, createdAt: Date) {
        self.id = id
        self.organizationID = organizationID
        self.url = url
        self.events = events
        self.secret = secret
        self.description = description
        self.status = status
        self.statusReason = statusReason
        self.createdAt = createdAt
    }
}

/// One event on its way to one endpoint.
public struct WebhookDelivery: Sendable, Equatable {
    public var id: Int64
    public var endpointID: String
    public var messageID: String
    public var eventType: WebhookEventType
    public var payload: String
    /// `pending` (waiting for its next try), `delivered`, or `failed` (no try left, or the
    /// endpoint was disabled or deleted).
    public var status: DeliveryStatus
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastStatusCode: Int?
    public var lastError: String?
    public var createdAt: Date
    public var deliveredAt: Date?

    public init(id: Int64, endpointID: String, messageID: String, eventType: WebhookEventType, payload: String, status: DeliveryStatus,
                attempts: Int, nextAttemptAt: Date, lastStatusCode: Int? = nil, lastError: String? = nil, createdAt: Date,
                deliveredAt: Date? = nil) {
        self.id = id
        self.endpointID = endpointID
        self.messageID = messageID
        self.eventType = eventType
        self.payload = payload
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastStatusCode = lastStatusCode
        self.lastError = lastError
        self.createdAt = createdAt
        self.deliveredAt = deliveredAt
    }
}

/// A delivery being sent, with where to and how to sign it.
public struct OutgoingDelivery: Sendable {
    public var delivery: WebhookDelivery
    public var url: String
    public var secret: String

    public init(delivery: WebhookDelivery, url: String, secret: String) {
        self.delivery = delivery
        self.url = url
        self.secret = secret
    }
}

/// What one try of a delivery came to.
public enum DeliveryResult: Sendable, Equatable {
    case delivered(status: Int)
    case retry(at: Date, status: Int?, error: String)
    case failed(status: Int?, error: String)
    /// 410 Gone: the endpoint asked to receive nothing more.
    case gone
}
