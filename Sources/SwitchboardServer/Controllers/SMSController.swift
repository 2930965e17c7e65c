import Foundation
import Hummingbird
import Logging
import Store
import SwitchboardCore

/// Texts: the SMS-capable numbers, a thread's messages, a person's message (taking the
/// conversation over from the agent), extracted fields by phone, and the simulator's inbound.
struct SMSController {
    let api: APIEnvironment

    func register(on router: some RouterMethods<SwitchboardContext>) {
        router.get("v1/sms/phone-numbers", use: phoneNumbers)
        router.get("v1/sms/messages", use: messages)
        router.post("v1/sms/send", use: send)
        router.get("v1/sms/extractions/phone/:phone_number", use: extractions)
        router.post("v1/simulator/inbound-sms", use: simulatorInbound)
    }

    /// Teli's shape: a bare array. A number a running SMS campaign sends from is assigned;
    /// `include_assigned=true` lists those too.
    @Sendable func phoneNumbers(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<[Schemas.SMSPhoneNumber]> {
        let principal = try context.caller()
        let scope = try principal.listScope(request.query)
        let includeAssigned = try request.query.bool("include_assigned") ?? false
        let inUse = try await api.store.smsNumbersInUse(organizationID: principal.organizationID)
        let numbers = try await api.store.phoneNumbers(organizationID: principal.organizationID, userID: scope)
            .filter { $0.capabilities.contains(.sms) && (includeAssigned || inUse[$0.phoneNumber] == nil) }
        return JSONBody(body: numbers.map { Schemas.SMSPhoneNumber($0, assignedTo: inUse[$0.phoneNumber]) })
    }

    /// A thread in order: `phone_number` (the contact) and/or `campaign_id`; pages by `after`.
    /// With `format=csv` (or `Accept: text/csv`): every message of the selection from `after` on,
    /// one row each, streamed 1,000 at a time.
    @Sendable func messages(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let principal = try context.caller()
        let contact = try request.query.string("phone_number").map { try PhoneNumber($0, field: "phone_number").e164 }
        let campaignID = request.query.string("campaign_id")
        guard contact != nil || campaignID != nil else { throw APIError.badRequest("campaign_id or phone_number required", field: "phone_number") }
        if let campaignID {
            _ = try await context.owned("Campaign") { try await api.store.smsCampaign(id: campaignID, organizationID: $0) }
        }
        let limit = try request.query.int("limit", in: 1...1000) ?? 200
        let after = try request.query.int("after", in: 0...Int.max).map(Int64.init) ?? 0
        if let format = request.query.string("format"), format != "csv", format != "json" {
            throw APIError.badRequest("format must be json or csv", field: "format")
        }
        let (store, scope) = (api.store, principal.readScope)
        if StreamedCSV.wanted(request) {
            return StreamedCSV.response(columns: ["message_id", "campaign_id", "conversation_id", "direction", "from", "to", "body", "media_url", "kind",
                                                  "status", "error", "created_at", "sent_at"], filename: "sms-messages.csv") { (cursor: Int64?) in
                let page = try await store.messages(organizationID: principal.organizationID, userID: scope, contact: contact, campaignID: campaignID,
                                                    afterID: cursor ?? after, limit: 1_000)
                let rows = page.map { message -> [String] in
                    let shown = Schemas.SMSMessage(message)
                    return [shown.message_id, shown.campaign_id ?? "", shown.conversation_id ?? "", shown.direction.rawValue, shown.from, shown.to,
                            shown.body, shown.media_url ?? "", shown.kind.rawValue, shown.status, shown.error ?? "", shown.created_at, shown.sent_at ?? ""]
                }
                return (rows, page.last?.id)
            }
        }
        let page = try await store.messages(organizationID: principal.organizationID, userID: scope, contact: contact, campaignID: campaignID,
                                            afterID: after, limit: limit)
        return try api.teli(Schemas.SMSMessageList(count: page.count, messages: page.map(Schemas.SMSMessage.init),
                                                   next_after: page.count == limit ? page.last.map { Int($0.id) } ?? 0 : nil))
            .response(from: request, context: context)
    }

    /// A person writes: the text is queued now and the thread is theirs from here on (the
    /// agent stops answering, drips stop).
    @Sendable func send(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.SMSSent>> {
        let principal = try context.caller()
        let body = try await JSONObjectReader.read(request, limit: api.maxBodyBytes)
        let rawTo = try body.string("to") ?? body.string("phone_number")
        guard let rawTo else { throw APIError.badRequest("to required", field: "to") }
        let to = try PhoneNumber(rawTo, field: "to")
        let text = try body.string("message") ?? body.string("body")
        guard let text, !text.isEmpty else { throw APIError.badRequest("message required", field: "message") }
        guard text.count <= 1_600 else { throw APIError.badRequest("message must be at most 1600 characters", field: "message") }
        let from = try await SMSCampaignRequest.number(body, body.has("from") ? "from" : "teli_sms_number", capability: .sms,
                                                       principal: principal, store: api.store, required: false)
        let campaignID = try body.string("campaign_id")
        if let campaignID {
            _ = try await context.owned("Campaign") { try await api.store.smsCampaign(id: campaignID, organizationID: $0) }
        }
        guard try await !api.store.isSuppressed(to.e164, organizationID: principal.organizationID) else {
            throw APIError.conflict("\(to.e164) has opted out; it can only be texted again after it replies START")
        }
        guard let message = try await api.store.sendByHuman(organizationID: principal.organizationID, userID: principal.readScope, from: from, to: to.e164, campaignID: campaignID,
                                                           body: text, mediaURL: try body.string("media_url"), now: api.clock.now()) else {
            throw APIError.badRequest("from required: no conversation with \(to.e164) names the number to send from", field: "from")
        }
        api.wake.messaging()
        context.logger.info("sms sent by a person", metadata: ["message_id": "\(message.id)", "conversation_id": "\(message.conversationID.map(String.init) ?? "none")"])
        return api.teli(Schemas.SMSSent(sms: Schemas.SMSMessage(message), message_id: "\(message.id)", status: message.status.rawValue))
    }

    /// What the agents extracted from each conversation with this number, and the lead's outcome.
    @Sendable func extractions(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.SMSExtractions>> {
        let principal = try context.caller()
        let raw = try context.parameter("phone_number").removingPercentEncoding ?? ""
        let phone = try PhoneNumber(raw, field: "phone_number")
        let conversations = try await api.store.conversations(organizationID: principal.organizationID, userID: principal.readScope,
                                                                 phoneNumber: phone.e164)
        guard let latest = conversations.first else { throw APIError.notFound("Conversation with \(phone.e164)") }
        var items: [Schemas.SMSExtractions.Extraction] = []
        for conversation in conversations {
            let call = try await conversation.voiceCampaignID.asyncMap { try await api.store.voiceCallID(campaignID: $0, phoneNumber: phone.e164) }
            items.append(.init(campaign_id: ScopedID.publicID(conversation.campaignID), conversation_id: "\(conversation.id)",
                               extracted_fields: conversation.extracted, lead_outcome: conversation.leadOutcome.rawValue,
                               conversation_state: conversation.state, voice_campaign_id: conversation.voiceCampaignID.map(ScopedID.publicID),
                               voice_call_id: call ?? nil, updated_at: Timestamps.teli(conversation.updatedAt)))
        }
        return api.teli(Schemas.SMSExtractions(phone_number: phone.e164, lead_outcome: latest.leadOutcome.rawValue,
                                               extracted_fields: latest.extracted, count: items.count, extractions: items))
    }

    /// The simulator's contact writes back: `{from, to, body}`, `to` being one of the
    /// organization's simulator numbers.
    @Sendable func simulatorInbound(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.SimulatedInbound>> {
        let principal = try context.caller()
        let body = try await JSONObjectReader.read(request, limit: api.maxBodyBytes)
        let from = try PhoneNumber(try body.requiredString("from"), field: "from")
        guard let toNumber = try? PhoneNumber(parsing: try body.requiredString("to")),
              let number = try await api.store.phoneNumbers([toNumber.e164], organizationID: principal.organizationID).first,
              number.provider == .simulator, principal.mayAccess(userID: number.userID) else {
            throw APIError.badRequest("to must be one of your simulator numbers", field: "to")
        }
        let text = try body.string("body") ?? ""
        let result = try await InboundTexts(store: api.store, clock: api.clock, wake: api.wake.messaging)
            .receive(on: number, from: from.e164, body: text, providerMessageID: nil, logger: context.logger)
        return api.teli(Schemas.SimulatedInbound(message_id: result.messageID.map { "\($0)" },
                                                 conversation_id: result.conversationID.map { "\($0)" }, effect: result.effect.rawValue))
    }
}
