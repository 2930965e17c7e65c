import Foundation
import Store
import SwitchboardCore

/// The store's delivery; inside `Schemas`, `WebhookDelivery` is the response's.
typealias StoredDelivery = WebhookDelivery

extension Schemas {
    /// `Webhook`: an endpoint; its secret only in the response that created it.
    struct Webhook: Encodable, Sendable {
        var id: String
        var url: String
        var events: [String]
        @Nullable var description: String?
        var status: WebhookEndpointStatus
        @Nullable var status_reason: String?
        var created_at: String
        var secret: String?

        init(_ endpoint: WebhookEndpoint, secret: String? = nil) {
            id = endpoint.id
            url = endpoint.url
            events = endpoint.events.map(\.rawValue)
            description = endpoint.description
            status = endpoint.status
            status_reason = endpoint.statusReason
            created_at = Timestamps.teli(endpoint.createdAt)
            self.secret = secret
        }
    }

    /// `WebhookCreated`'s and `WebhookReplay`'s payloads.
    struct WebhookEnvelope: Encodable, Sendable { var webhook: Webhook }
    struct DeliveryEnvelope: Encodable, Sendable { var delivery: WebhookDelivery }

    /// `WebhookList`'s payload.
    struct WebhookList: Encodable, Sendable {
        var count: Int
        var webhooks: [Webhook]
    }

    struct WebhookDeleted: Encodable, Sendable {
        var webhook_id: String
        var message = "Webhook deleted"
    }

    /// `WebhookDelivery`: one event's delivery to an endpoint, with the payload it carries.
    struct WebhookDelivery: Encodable, Sendable {
        var id: Int
        var webhook_id: String
        var event_type: WebhookEventType
        var status: DeliveryStatus
        var attempts: Int
        @Nullable var last_status_code: Int?
        @Nullable var last_error: String?
        @Nullable var next_attempt_at: String?
        var created_at: String
        @Nullable var delivered_at: String?
        /// The event as sent (free-form: `{type, timestamp, data}`).
        var payload: JSONValue

        init(_ delivery: StoredDelivery) {
            id = Int(delivery.id)
            webhook_id = delivery.messageID
            event_type = delivery.eventType
            status = delivery.status
            attempts = delivery.attempts
            last_status_code = delivery.lastStatusCode
            last_error = delivery.lastError
            next_attempt_at = delivery.status == .pending ? Timestamps.teli(delivery.nextAttemptAt) : nil
            created_at = Timestamps.teli(delivery.createdAt)
            delivered_at = delivery.deliveredAt.map(Timestamps.teli)
            payload = (try? JSONDecoder().decode(JSONValue.self, from: Data(delivery.payload.utf8))) ?? .string(delivery.payload)
        }
    }

    /// `WebhookDeliveryList`'s payload.
    struct WebhookDeliveryList: Encodable, Sendable {
        var count: Int
        var deliveries: [WebhookDelivery]
        @Nullable var next_before: Int?
    }
}
