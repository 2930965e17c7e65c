import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Store
import SwitchboardCore

/// The console's pages for what campaigns use: agents, numbers, the suppression list (add,
/// import a CSV, remove), webhooks with their deliveries (and replay), and API keys (admins:
/// create, shown once; list; revoke). A form is the API request it stands for, handled by the
/// API's own route, so its rules (and its admin checks) are the API's.
struct ConsoleAdminPages {
    let api: APIEnvironment
    let pages: ConsolePages
    let uploads: ConsoleUploads

    func register(on router: some RouterMethods<SwitchboardContext>) {
        router.get("agents", use: agents)
        router.get("numbers", use: numbers)
        router.get("suppressions", use: suppressions)
        router.post("suppressions", use: addSuppression)
        router.post("suppressions/import", use: importSuppressions)
        router.post("suppressions/:value/remove", use: removeSuppression)
        router.get("webhooks", use: webhooks)
        router.get("webhooks/:webhook_id", use: webhook)
        router.post("webhooks/:webhook_id/deliveries/:delivery_id/replay", use: replay)
        router.get("keys", use: keys)
        router.post("keys", use: createKey)
        router.post("keys/:key_id/revoke", use: revokeKey)
    }

    // MARK: Agents and numbers

    @Sendable func agents(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let principal = try context.caller()
        struct Row { var id: String; var name: String; var type: String; var owner: String; var created: String }
        let rows = try await api.store.agents(organizationID: principal.organizationID, userID: principal.readScope, type: nil, limit: 500).map {
            Row(id: $0.id, name: $0.name, type: $0.type.rawValue, owner: $0.userID, created: ConsoleController.shown($0.createdAt))
        }
        return pages.render("agents", title: "Agents", context: context, page: ["agents": rows])
    }

    @Sendable func numbers(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let principal = try context.caller()
        struct Row { var number: String; var provider: String; var capabilities: String; var nickname: String?; var inboundAgent: String? }
        let rows = try await api.store.phoneNumbers(organizationID: principal.organizationID, userID: principal.readScope).map {
            Row(number: $0.phoneNumber, provider: $0.provider.rawValue, capabilities: $0.capabilities.map(\.rawValue).joined(separator: ", "),
                nickname: $0.nickname, inboundAgent: $0.inboundAgentID)
        }
        return pages.render("numbers", title: "Numbers", context: context, page: ["numbers": rows])
    }

    // MARK: Suppressions

    @Sendable func suppressions(_ request: Request, context: SwitchboardContext) async throws -> Response {
        try await suppressionsPage(request, context: context)
    }

    private func suppressionsPage(_ request: Request, context: SwitchboardContext, notice: String? = nil, error: String? = nil,
                                  status: HTTPResponse.Status = .ok) async throws -> Response {
        let principal = try context.caller()
        let after = request.uri.queryParameters.get("after")
        let page = try await api.store.suppressions(organizationID: principal.organizationID, after: after, limit: 100)
        struct Row { var value: String; var path: String; var kind: String; var reason: String?; var source: String; var added: String }
        struct Page { var rows: [Row]; var next: String?; var isAdmin: Bool }
        let rows = page.map {
            Row(value: $0.value, path: ConsoleController.path($0.value), kind: $0.kind.rawValue, reason: $0.reason, source: $0.source.rawValue,
                added: ConsoleController.shown($0.createdAt))
        }
        return pages.render("suppressions", title: "Suppressions", context: context,
                            page: Page(rows: rows, next: page.count == 100 ? page.last?.value : nil, isAdmin: principal.isAdmin),
                            error: error, notice: notice, status: status)
    }

    @Sendable func addSuppression(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let form = context.form
        var body: [String: JSONValue] = [:]
        body[form["kind"] == "prefix" ? "prefix" : "phone_number"] = form.text("value").map(JSONValue.string)
        body["reason"] = form.text("reason").map(JSONValue.string)
        return try await outcome(request, context) {
            let added = try await SuppressionsController(api: api).add(try Self.jsonRequest(request, body), context: context).body.payload
            let value = added.suppression.phone_number ?? added.suppression.prefix ?? ""
            return added.created ? "\(value) added." : "\(value) was already listed."
        }
    }

    @Sendable func importSuppressions(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let principal = try context.caller()
        return try await outcome(request, context) {
            let draft = try await uploads.receive(request, principal: principal, api: api)
            defer { uploads.remove(draft.id, principal: principal) }
            let path = try uploads.path(draft.id, principal: principal)
            let csv = Request(head: HTTPRequest(method: .post, scheme: nil, authority: nil, path: "/v1/suppressions/import",
                                                headerFields: [.contentType: "text/csv"]),
                              body: RequestBody(asyncSequence: FileChunks(path: path)))
            let result = try await SuppressionsController(api: api).importCSV(csv, context: context).body.payload
            return "Imported \(result.received) rows: \(result.added_count) added, \(result.already_listed_count) already listed, "
                + "\(result.invalid_count) invalid."
        }
    }

    @Sendable func removeSuppression(_ request: Request, context: SwitchboardContext) async throws -> Response {
        try await outcome(request, context) {
            let removed = try await SuppressionsController(api: api).remove(request, context: context).body.payload
            return "\(removed.phone_number) removed."
        }
    }

    /// Runs a suppression form's API request and shows the list again with what it did.
    private func outcome(_ request: Request, _ context: SwitchboardContext, _ action: () async throws -> String) async throws -> Response {
        let listing = Request(head: HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/suppressions"), body: RequestBody(buffer: ByteBuffer()))
        do {
            return try await suppressionsPage(listing, context: context, notice: try await action())
        } catch let error as APIError {
            return try await suppressionsPage(listing, context: context, error: error.message, status: error.status)
        }
    }

    // MARK: Webhooks

    @Sendable func webhooks(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let principal = try context.admin("webhooks carry the whole organization's events: an admin key is required")
        struct Row { var id: String; var url: String; var events: String; var status: String; var reason: String? }
        let rows = try await api.store.webhookEndpoints(organizationID: principal.organizationID).map {
            Row(id: $0.id, url: $0.url, events: $0.events.map(\.rawValue).sorted().joined(separator: ", "), status: $0.status.rawValue,
                reason: $0.statusReason)
        }
        return pages.render("webhooks", title: "Webhooks", context: context, page: ["webhooks": rows])
    }

    @Sendable func webhook(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let principal = try context.admin("webhooks carry the whole organization's events: an admin key is required")
        guard let endpoint = try await api.store.webhookEndpoint(id: try context.parameter("webhook_id"), organizationID: principal.organizationID) else {
            throw APIError.notFound("Webhook")
        }
        let before = try request.query.int("before", in: 1...Int.max).map(Int64.init)
        let deliveries = try await api.store.deliveries(endpointID: endpoint.id, before: before, limit: 50)
        struct Row { var id: Int64; var event: String; var status: String; var attempts: Int; var code: String; var error: String?; var updated: String }
        struct Page { var id: String; var url: String; var status: String; var active: Bool; var rows: [Row]; var next: Int64? }
        let rows = deliveries.map {
            Row(id: $0.id, event: $0.eventType.rawValue, status: $0.status.rawValue, attempts: $0.attempts, code: $0.lastStatusCode.map { "\($0)" } ?? "",
                error: $0.lastError, updated: ConsoleController.shown($0.deliveredAt ?? $0.createdAt))
        }
        return pages.render("webhook", title: "Webhook \(endpoint.id)", context: context,
                            page: Page(id: endpoint.id, url: endpoint.url, status: endpoint.status.rawValue, active: endpoint.status == .active,
                                       rows: rows, next: deliveries.count == 50 ? deliveries.last?.id : nil))
    }

    @Sendable func replay(_ request: Request, context: SwitchboardContext) async throws -> Response {
        _ = try await WebhooksController(api: api).replay(request, context: context)
        return .redirect(to: "/webhooks/\(ConsoleController.path(try context.parameter("webhook_id")))", type: .normal)
    }

    // MARK: API keys

    @Sendable func keys(_ request: Request, context: SwitchboardContext) async throws -> Response {
        try await keysPage(context)
    }

    private func keysPage(_ context: SwitchboardContext, created: String? = nil, error: String? = nil,
                          status: HTTPResponse.Status = .ok) async throws -> Response {
        let listed = try await APIKeysController(api: api).list(Self.emptyRequest, context: context).body.payload
        struct Row { var id: String; var user: String; var tenant: String; var role: String; var created: String; var current: Bool }
        struct Page { var rows: [Row]; var created: String? }
        let current = try context.caller().keyID
        let rows = listed.api_keys.map {
            Row(id: $0.key_id, user: $0.user_id, tenant: $0.tenant_id, role: $0.role.rawValue, created: $0.created_at, current: $0.key_id == current)
        }
        return pages.render("keys", title: "API keys", context: context, page: Page(rows: rows, created: created), error: error, status: status)
    }

    @Sendable func createKey(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let form = context.form
        var body: [String: JSONValue] = ["role": .string(form["role"] == "admin" ? "admin" : "member")]
        body["user_id"] = form.text("user_id").map(JSONValue.string)
        body["tenant_id"] = form.text("tenant_id").map(JSONValue.string)
        do {
            let created = try await APIKeysController(api: api).create(try Self.jsonRequest(request, body), context: context).body.payload
            return try await keysPage(context, created: created.key)
        } catch let error as APIError where error.status != .forbidden {
            return try await keysPage(context, error: error.message, status: error.status)
        }
    }

    @Sendable func revokeKey(_ request: Request, context: SwitchboardContext) async throws -> Response {
        _ = try await APIKeysController(api: api).revoke(request, context: context)
        return .redirect(to: "/keys", type: .normal)
    }

    // MARK: Requests for the API's routes

    /// The API request a form stands for: its fields as the JSON body.
    static func jsonRequest(_ request: Request, _ body: [String: JSONValue]) throws -> Request {
        var head = request.head
        head.headerFields[.contentType] = "application/json"
        return Request(head: head, body: RequestBody(buffer: ByteBuffer(string: JSONValue.object(body).jsonText)))
    }

    static var emptyRequest: Request {
        Request(head: HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/"), body: RequestBody(buffer: ByteBuffer()))
    }
}
