import Foundation
import Hummingbird
import Logging
import Store
import SwitchboardCore

/// Teli's SMS campaigns: create (`POST /v1/campaigns`), the organization's list, one
/// campaign with its counts, pause, resume and end.
struct SMSCampaignsController {
    let api: APIEnvironment

    func register(on router: some RouterMethods<SwitchboardContext>) {
        router.post("v1/campaigns", use: create)
        router.get("v1/organizations/:organization_id/campaigns", use: list)
        router.get("v1/campaigns/:campaign_id", use: get)
        router.post("v1/campaigns/:campaign_id/pause", use: pause)
        router.post("v1/campaigns/:campaign_id/resume", use: resume)
        router.post("v1/campaigns/:campaign_id/end", use: end)
    }

    @Sendable func create(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let principal = try context.caller()
        let body = try await JSONObjectReader.read(request, limit: api.maxBodyBytes)
        let parsed = try await SMSCampaignRequest.parse(body, principal: principal, store: api.store, now: api.clock.now())
        let campaign = try await api.store.createSMSCampaign(parsed.campaign, contacts: parsed.contacts)
        api.wake.messaging()
        context.logger.info("sms campaign created", metadata: [
            "campaign_id": "\(campaign.id)", "contacts": "\(campaign.contactsCount)", "invalid": "\(parsed.invalid.count)",
        ])
        return api.teli([
            "campaign_id": .string(campaign.id),
            "status": "processing",
            "campaign_status": .string(campaign.status.rawValue),
            "message": "Campaign upload started successfully",
            "agent": ["agent_id": .string(parsed.agent.id), "agent_name": .string(parsed.agent.name)],
            "contacts_count": JSONValue(campaign.contactsCount),
            "invalid_leads_count": JSONValue(parsed.invalid.count),
            "duplicate_leads_count": JSONValue(parsed.contacts.count - campaign.contactsCount),
            "invalid_leads": .array(parsed.invalid.map(VoiceCampaignsController.json)),
            "details": [
                "total_contacts": JSONValue(campaign.contactsCount),
                "invalid_leads_count": JSONValue(parsed.invalid.count),
                "estimated_processing_seconds": JSONValue(Double(campaign.contactsCount) / 1_000),
                "has_drips": campaign.body["drip_enabled"] ?? false,
                "voice_transfer_enabled": campaign.body["enable_sms_to_voice"] ?? false,
            ],
            "agent_mode": api.agentMode.json,
        ])
    }

    /// Seed `teli-list-sms-campaigns.txt`: `user_id` is required; `is_admin=true` (admin keys
    /// only) lists the whole organization.
    @Sendable func list(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let principal = try context.caller()
        guard try context.parameter("organization_id") == principal.organizationID else {
            throw APIError.forbidden("organization_id does not match your API key")
        }
        guard request.query.string("user_id") != nil else { throw APIError.badRequest("user_id required", field: "user_id") }
        // Checks the key may list this user (and the whole organization, for is_admin=true).
        var scope = try principal.listScope(request.query)
        if try request.query.bool("is_admin") == true { scope = nil }
        let limit = try request.query.int("limit", in: 1...500) ?? 100
        let offset = try request.query.int("offset", in: 0...Int(Int32.max)) ?? 0
        let campaigns = try await api.store.smsCampaigns(organizationID: principal.organizationID, userID: scope, limit: limit, offset: offset)
        // `count` is every campaign that matches (the seed: "Total number of campaigns"), not the page.
        let total = try await api.store.smsCampaignCount(organizationID: principal.organizationID, userID: scope)
        return api.teli(["count": JSONValue(total), "has_more": .bool(offset + campaigns.count < total),
                         "campaigns": .array(campaigns.map { .object(Self.json($0)) })])
    }

    /// One campaign (an extension): its fields, what its conversations and texts are doing, and
    /// whether its agent answers with a language model or sends scripted texts only.
    @Sendable func get(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let campaign = try await load(request, context)
        let counts = try await api.store.smsCampaignCounts(id: campaign.key)
        var fields = Self.json(campaign)
        fields["status_reason"] = JSONValue(campaign.statusReason)
        fields["contacts_count"] = JSONValue(campaign.contactsCount)
        fields["invalid_leads_count"] = JSONValue(campaign.invalidLeadsCount)
        fields["progress"] = .object(counts.mapValues { JSONValue($0) })
        fields["agent_mode"] = api.agentMode.json
        return api.teli(fields)
    }

    @Sendable func pause(_ request: Request, context: SwitchboardContext) async throws -> Response {
        try await move(request, context, from: [.active], to: .paused, message: "Campaign paused")
    }

    @Sendable func resume(_ request: Request, context: SwitchboardContext) async throws -> Response {
        try await move(request, context, from: [.paused], to: .active, message: "Campaign resumed")
    }

    /// Ends the campaign for good: queued texts, starting messages and drips are canceled.
    /// Contacts' texts are still stored and their STOPs honoured.
    @Sendable func end(_ request: Request, context: SwitchboardContext) async throws -> Response {
        try await move(request, context, from: [.active, .paused, .completed], to: .ended, message: "Campaign ended")
    }

    private func move(_ request: Request, _ context: SwitchboardContext, from: [SMSCampaignRecord.Status], to: SMSCampaignRecord.Status,
                      message: String) async throws -> Response {
        let campaign = try await load(request, context)
        let reason = to == .active ? nil : "\(to.rawValue.lowercased()) by user"
        guard try await api.store.setSMSCampaignStatus(id: campaign.key, from: from, to: to, reason: reason, now: api.clock.now()) else {
            throw APIError.conflict("Campaign is \(campaign.status.rawValue); it cannot become \(to.rawValue)")
        }
        api.wake.messaging()
        context.logger.info("sms campaign status", metadata: ["campaign_id": "\(campaign.id)", "status": "\(to.rawValue)"])
        return api.teli(["campaign_id": .string(campaign.id), "status": .string(to.rawValue), "message": .string(message)])
    }

    func load(_ request: Request, _ context: SwitchboardContext) async throws -> SMSCampaignRecord {
        let id = try context.parameter("campaign_id")
        return try await context.owned("Campaign") { try await api.store.smsCampaign(id: id, organizationID: $0) }
    }

    /// Every field of the seed's campaign object.
    static func json(_ campaign: SMSCampaignRecord) -> [String: JSONValue] {
        var fields = campaign.body
        fields["campaign_id"] = .string(campaign.id)
        fields["campaign_id_pk"] = .string(campaign.id)
        fields["campaign_name"] = .string(campaign.name)
        fields["campaign_type"] = "OUTBOUND"
        fields["status"] = .string(campaign.status.rawValue)
        fields["campaign_create_time"] = .string(Timestamps.teliOffset(campaign.createdAt))
        fields["sms_agent_id"] = .string(campaign.agentID)
        fields["teli_sms_number"] = .string(campaign.fromNumber)
        fields["organization_id"] = .string(campaign.organizationID)
        fields["user_id"] = .string(campaign.userID)
        fields["created_by_user_id"] = .string(campaign.createdByUserID)
        fields["tenant_id"] = .string(campaign.tenantID)
        fields["calling_hours"] = campaign.schedule.callingHours.json
        fields["timezone"] = .string(campaign.schedule.timeZone)
        return fields
    }
}

extension AgentMode {
    /// `{"ai": false, "notice": …}` when no language model is configured: agents send their
    /// scripted texts only, and replies wait for a person.
    var json: JSONValue {
        switch self {
        case .scripted:
            ["ai": false, "model": nil,
             "notice": "No language model is configured (SWITCHBOARD_LLM_BASE_URL): only scripted messages (starting message, custom drips) are sent; replies are stored, not answered."]
        case .ai(let model):
            ["ai": true, "model": .string(model), "notice": nil]
        }
    }
}
