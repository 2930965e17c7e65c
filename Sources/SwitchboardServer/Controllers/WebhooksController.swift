import Foundation
import Hummingbird
import Logging
import Store
import SwitchboardCore
import Webhooks

/// Webhook endpoints and their deliveries. An endpoint receives the organization's events of
/// the types it lists, so only admin keys manage them.
struct WebhooksController {
    let api: APIEnvironment

    func register(on router: some RouterMethods<SwitchboardContext>) {
        router.post("v1/webhooks", use: create)
        router.get("v1/webhooks", use: list)
        router.delete("v1/webhooks/:webhook_id", use: delete)
        router.get("v1/webhooks/:webhook_id/deliveries", use: deliveries)
        router.post("v1/webhooks/:webhook_id/deliveries/:delivery_id/replay", use: replay)
    }

    @Sendable func create(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.WebhookEnvelope>> {
        let principal = try admin(context)
        let body = try await JSONObjectReader.read(request, limit: api.maxBodyBytes)
        let url = try body.requiredString("url")
        guard let parts = URLComponents(string: url), ["http", "https"].contains(parts.scheme?.lowercased() ?? ""), parts.host?.isEmpty == false else {
            throw APIError.badRequest("url must be an http or https URL", field: "url")
        }
        if let refusal = WebhookSender.refusal(url: url, allowPrivateTargets: api.allowPrivateWebhooks) {
            throw APIError.badRequest("url is refused: \(refusal) (the operator sets SWITCHBOARD_ALLOW_PRIVATE_WEBHOOKS=1 to allow private receivers)",
                                      field: "url")
        }
        guard let names = try body.array("events"), !names.isEmpty else {
            throw APIError.badRequest("events required: a list of \(Self.eventNames)", field: "events")
        }
        let events = try names.map { name in
            guard let type = name.stringValue.flatMap(WebhookEventType.init(rawValue:)) else {
                throw APIError.badRequest("events may list \(Self.eventNames)", field: "events")
            }
            return type
        }
        let secret = try body.string("secret") ?? WebhookSignature.newSecret()
        guard secret.utf8.count >= 24, secret.utf8.count <= 128 else {
            throw APIError.badRequest("secret must be 24 to 128 characters (whsec_ and base64, or any text)", field: "secret")
        }
        let endpoint = WebhookEndpoint(id: Identifier.make("whk_", bytes: 10), organizationID: principal.organizationID, url: url,
                                       events: Array(Set(events)).sorted { $0.rawValue < $1.rawValue }, secret: secret,
                                       description: try body.string("description"), createdAt: api.clock.now())
        try await api.store.insertWebhookEndpoint(endpoint)
        context.logger.info("webhook endpoint created", metadata: ["webhook_id": "\(endpoint.id)"])
        return api.teli(Schemas.WebhookEnvelope(webhook: Schemas.Webhook(endpoint, secret: secret)))  // the secret shown this once
    }

    @Sendable func list(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.WebhookList>> {
        let principal = try admin(context)
        let endpoints = try await api.store.webhookEndpoints(organizationID: principal.organizationID)
        return api.teli(Schemas.WebhookList(count: endpoints.count, webhooks: endpoints.map { Schemas.Webhook($0) }))
    }

    @Sendable func delete(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.WebhookDeleted>> {
        let endpoint = try await load(context)
        try await api.store.deleteWebhookEndpoint(id: endpoint.id, now: api.clock.now())
        return api.teli(Schemas.WebhookDeleted(webhook_id: endpoint.id))
    }

    @Sendable func deliveries(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.WebhookDeliveryList>> {
        let endpoint = try await load(context)
        let limit = try request.query.int("limit", in: 1...500) ?? 100
        let before = try request.query.int("before", in: 1...Int.max).map(Int64.init)
        let page = try await api.store.deliveries(endpointID: endpoint.id, before: before, limit: limit)
        return api.teli(Schemas.WebhookDeliveryList(count: page.count, deliveries: page.map(Schemas.WebhookDelivery.init),
                                                    next_before: page.count == limit ? page.last.map { Int($0.id) } : nil))
    }

    @Sendable func replay(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.DeliveryEnvelope>> {
        let endpoint = try await load(context)
        guard endpoint.status == .active else { throw APIError.conflict("webhook \(endpoint.id) is disabled: \(endpoint.statusReason ?? "")") }
        guard let id = Int64(try context.parameter("delivery_id")),
              let delivery = try await api.store.replayDelivery(id: id, endpointID: endpoint.id, now: api.clock.now()) else {
            throw APIError.notFound("Delivery")
        }
        api.wake.webhooks()
        return api.teli(Schemas.DeliveryEnvelope(delivery: Schemas.WebhookDelivery(delivery)))
    }

    private func admin(_ context: SwitchboardContext) throws -> Principal {
        try context.admin("webhooks carry the whole organization's events: an admin key is required")
    }

    private func load(_ context: SwitchboardContext) async throws -> WebhookEndpoint {
        let principal = try admin(context)
        guard let endpoint = try await api.store.webhookEndpoint(id: try context.parameter("webhook_id"), organizationID: principal.organizationID) else {
            throw APIError.notFound("Webhook")
        }
        return endpoint
    }

    static let eventNames = WebhookEventType.allCases.map(\.rawValue).joined(separator: ", ")
}
