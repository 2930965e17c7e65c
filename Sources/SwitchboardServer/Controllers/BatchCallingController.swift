import Foundation
import Hummingbird
import Logging
import Store
import SwitchboardCore

/// The batch-calling API (ElevenLabs, mirrored by ThreeTone): a batch is a voice campaign
/// seen through it, dialed by the same engine. Errors answer in its own style
/// (`ErrorMiddleware`: 422 `{"detail": [...]}`, `{"detail": "…"}` otherwise).
struct BatchCallingController {
    let api: APIEnvironment
    /// ThreeTone's base, and ElevenLabs' own: an ElevenLabs client changes only its base URL.
    static let bases = ["v1/voiceai/batch-calling", "v1/convai/batch-calling"]
    /// How long a retried batch stays open to dial, at least.
    static let retryWindow: TimeInterval = CampaignSettings.defaultCampaignLength

    func register(on router: some RouterMethods<SwitchboardContext>) {
        for base in Self.bases {
            router.post("\(base)/submit", use: submit)
            router.get("\(base)/workspace", use: list)
            router.get("\(base)/:batch_id", use: get)
            router.delete("\(base)/:batch_id", use: delete)
            router.post("\(base)/:batch_id/cancel", use: cancel)
            router.post("\(base)/:batch_id/retry", use: retry)
        }
    }

    @Sendable func submit(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Schemas.BatchCall> {
        let principal = try context.caller()
        let id = Identifier.make("btcal_", bytes: 12)
        let batch: CampaignRecord
        let invalid: [InvalidLead]
        if request.headers[.contentType]?.lowercased().hasPrefix("multipart/form-data") == true {
            (batch, invalid) = try await BatchCSVSubmit(api: api).submit(request, id: id, principal: principal)
        } else {
            let body = try await JSONObjectReader.read(request, limit: api.maxBodyBytes)
            guard body.has("recipients") else { throw APIError.badRequest("recipients required", field: "recipients") }
            let parsed = try await BatchSubmitRequest.parse(body, id: id, principal: principal, store: api.store, now: api.clock.now())
            batch = try await api.store.createCampaign(parsed.campaign, leads: parsed.leads)
            invalid = parsed.invalid
        }
        api.wakeDialer()
        context.logger.info("batch submitted", metadata: [
            "batch_id": "\(batch.id)", "recipients": "\(batch.contactsCount)", "invalid": "\(batch.invalidLeadsCount)",
        ])
        var view = try await view(batch)
        view.invalid_recipients_count = batch.invalidLeadsCount
        view.duplicate_recipients_count = batch.duplicateLeadsCount
        view.invalid_recipients = invalid.map(Schemas.InvalidLead.init)
        return JSONBody(body: view)
    }

    /// Newest first; `last_doc` is the `next_doc` of the page before.
    @Sendable func list(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Schemas.BatchCallList> {
        let principal = try context.caller()
        let scope = try principal.listScope(request.query)
        let limit = try request.query.int("limit", in: 1...500) ?? 100
        let cursor = try request.query.string("last_doc").map { text in
            guard let cursor = Self.cursor(text) else { throw APIError(.badRequest, "last_doc is not a cursor this API returned", location: ["query", "last_doc"]) }
            return cursor
        }
        let page = try await api.store.campaigns(organizationID: principal.organizationID, userID: scope, kind: .voice,
                                                 agentID: request.query.string("agent_id"), after: cursor, limit: limit + 1)
        let shown = Array(page.prefix(limit))
        let views = try await views(shown)
        let next = page.count > limit ? shown.last.map { Self.cursor(CampaignCursor(createdAt: $0.createdAt.timeIntervalSince1970, id: $0.key)) } : nil
        return JSONBody(body: Schemas.BatchCallList(batch_calls: views, next_doc: next, has_more: next != nil))
    }

    /// The batch and every recipient, streamed page by page; with `format=csv` (or
    /// `Accept: text/csv`) the recipients alone, one row each, their variables as JSON.
    @Sendable func get(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let batch = try await load(context)
        let (store, clock) = (api.store, api.clock)
        if let format = request.query.string("format"), format != "csv", format != "json" {
            throw APIError.badRequest("format must be json or csv", field: "format")
        }
        if StreamedCSV.wanted(request) {
            return StreamedCSV.response(columns: ["id", "phone_number", "status", "outcome", "attempts", "conversation_id", "updated_at_unix",
                                                  "conversation_initiation_client_data"],
                                        filename: "\(batch.id)-recipients.csv") { (after: Int64?) in
                let page = try await store.recipients(campaignID: batch.key, afterLeadID: after ?? 0, limit: 1000)
                let now = clock.now()
                let rows = page.map { lead -> [String] in
                    let shown = Schemas.BatchRecipient(lead, batch: batch, now: now)
                    return [shown.id, shown.phone_number, shown.status, shown.outcome?.rawValue ?? "", "\(shown.attempts)", shown.conversation_id ?? "",
                            "\(shown.updated_at_unix)", shown.conversation_initiation_client_data.jsonText]
                }
                return (rows, page.last?.leadID)
            }
        }
        let view = try await view(batch)
        return try StreamedJSON.response(head: view, arrayKey: "recipients", trailer: { _ in NoTrailer?.none }) { after in
            let page = try await store.recipients(campaignID: batch.key, afterLeadID: after, limit: 1000)
            let now = clock.now()
            return (page.map { Schemas.BatchRecipient($0, batch: batch, now: now) }, page.last?.leadID)
        }
    }

    /// Queued recipients are cancelled; calls in flight finish. Cancelling twice is fine.
    @Sendable func cancel(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Schemas.BatchCall> {
        let batch = try await load(context)
        if batch.status != .canceled, try await !api.store.cancelCampaign(id: batch.key, now: api.clock.now()) {
            throw APIError.conflict("batch is \(batch.status == .completed ? "completed" : batch.status.rawValue); there is nothing left to cancel")
        }
        context.logger.info("batch cancelled", metadata: ["batch_id": "\(batch.id)"])
        return try await current(batch.id, context)
    }

    /// Dials again every recipient whose call ended unreached (failed, no answer, busy,
    /// voicemail); completed ones are untouched. Each new dial joins its call's retry history.
    @Sendable func retry(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Schemas.BatchCall> {
        let batch = try await load(context)
        let now = api.clock.now()
        switch try await api.store.retryCampaign(id: batch.key, outcomes: RecipientStatus.retriedOutcomes,
                                                  until: now.addingTimeInterval(Self.retryWindow), now: now) {
        case .canceled:
            throw APIError.conflict("a cancelled batch cannot be retried")
        case .retried(let count):
            context.logger.info("batch retried", metadata: ["batch_id": "\(batch.id)", "recipients": "\(count)"])
            if count > 0 { api.wakeDialer() }
        }
        return try await current(batch.id, context)
    }

    @Sendable func delete(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let batch = try await load(context)
        try await api.store.deleteCampaign(id: batch.key, now: api.clock.now())
        context.logger.info("batch deleted", metadata: ["batch_id": "\(batch.id)"])
        return Response(status: .ok)
    }

    // MARK: - Views

    private func load(_ context: SwitchboardContext) async throws -> CampaignRecord {
        let id = try context.parameter("batch_id")
        return try await context.owned("Batch") { try await api.store.campaign(id: id, organizationID: $0).flatMap { $0.kind == .voice ? $0 : nil } }
    }

    private func current(_ id: String, _ context: SwitchboardContext) async throws -> JSONBody<Schemas.BatchCall> {
        guard let batch = try await api.store.campaign(id: id, organizationID: try context.caller().organizationID) else {
            throw APIError.notFound("Batch")
        }
        return JSONBody(body: try await view(batch))
    }

    private func view(_ batch: CampaignRecord) async throws -> Schemas.BatchCall {
        try await views([batch])[0]
    }

    /// BatchCallResponse for each campaign, with a handful of queries for the whole page.
    private func views(_ batches: [CampaignRecord]) async throws -> [Schemas.BatchCall] {
        guard let first = batches.first else { return [] }
        let organization = first.organizationID
        let progress = try await api.store.progress(campaignIDs: batches.map(\.key))
        var agents: [String: AgentRecord] = [:]
        for id in Set(batches.map(\.settings.agentID)) { agents[id] = try await api.store.agent(id: id, organizationID: organization) }
        var numbers: [String: PhoneNumberRecord] = [:]
        for number in try await api.store.phoneNumbers(Array(Set(batches.map(\.settings.outboundNumber))), organizationID: organization) {
            numbers[number.phoneNumber] = number
        }
        let now = api.clock.now()
        return batches.map { batch in
            Schemas.BatchCall(batch, progress[batch.key] ?? CampaignProgress(), agent: agents[batch.settings.agentID],
                              number: numbers[batch.settings.outboundNumber], now: now)
        }
    }

    /// `next_doc`: where the page ended, opaque to clients (base64url, safe in a query).
    static func cursor(_ cursor: CampaignCursor) -> String {
        Data("\(cursor.createdAt)|\(cursor.id)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func cursor(_ text: String) -> CampaignCursor? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let plain = String(data: data, encoding: .utf8) else { return nil }
        let parts = plain.split(separator: "|", maxSplits: 1)
        guard parts.count == 2, let createdAt = Double(parts[0]) else { return nil }
        return CampaignCursor(createdAt: createdAt, id: String(parts[1]))
    }
}
