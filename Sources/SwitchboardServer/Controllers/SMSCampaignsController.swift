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

    @Sendable func create(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.SMSCampaignCreated>> {
        let principal = try context.caller()
        let body = try await JSONObjectReader.read(request, limit: api.maxBodyBytes)
        let parsed = try await SMSCampaignRequest.parse(body, principal: principal, store: api.store, now: api.clock.now())
        let campaign = try await api.store.createSMSCampaign(parsed.campaign, contacts: parsed.contacts)
        api.wake.messaging()
        context.logger.info("sms campaign created", metadata: [
            "campaign_id": "\(campaign.id)", "contacts": "\(campaign.contactsCount)", "invalid": "\(parsed.invalid.count)",
        ])
        return api.teli(Schemas.SMSCampaignCreated(
            campaign_id: campaign.id, campaign_status: campaign.status.rawValue,
            agent: ["agent_id": parsed.agent.id, "agent_name": parsed.agent.name],
            contacts_count: campaign.contactsCount, invalid_leads_count: parsed.invalid.count,
            duplicate_leads_count: parsed.contacts.count - campaign.contactsCount,
            invalid_leads: parsed.invalid.map(Schemas.InvalidLead.init),
            details: .init(total_contacts: campaign.contactsCount, invalid_leads_count: parsed.invalid.count,
                           estimated_processing_seconds: Double(campaign.contactsCount) / 1_000,
                           has_drips: campaign.body["drip_enabled"] ?? false,
                           voice_transfer_enabled: campaign.body["enable_sms_to_voice"] ?? false),
            agent_mode: Schemas.AgentModeBody(api.agentMode)))
    }

    /// Seed `teli-list-sms-campaigns.txt`: `user_id` is required; `is_admin=true` (admin keys
    /// only) lists the whole organization.
    @Sendable func list(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.SMSCampaignList>> {
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
        return api.teli(Schemas.SMSCampaignList(count: total, has_more: offset + campaigns.count < total,
                                                campaigns: campaigns.map(Schemas.smsCampaign)))
    }

    /// One campaign (an extension): its fields, what its conversations and texts are doing, and
    /// whether its agent answers with a language model or sends scripted texts only.
    @Sendable func get(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.SMSCampaignDetail>> {
        let campaign = try await load(request, context)
        let counts = try await api.store.smsCampaignCounts(id: campaign.key)
        return api.teli(Merged(Schemas.smsCampaign(campaign), .init(
            status_reason: campaign.statusReason, contacts_count: campaign.contactsCount, invalid_leads_count: campaign.invalidLeadsCount,
            progress: counts, agent_mode: Schemas.AgentModeBody(api.agentMode))))
    }

    @Sendable func pause(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.SMSCampaignAction>> {
        try await move(request, context, from: [.active], to: .paused, message: "Campaign paused")
    }

    @Sendable func resume(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.SMSCampaignAction>> {
        try await move(request, context, from: [.paused], to: .active, message: "Campaign resumed")
    }

    /// Ends the campaign for good: queued texts, starting messages and drips are canceled.
    /// Contacts' texts are still stored and their STOPs honoured.
    @Sendable func end(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.SMSCampaignAction>> {
        try await move(request, context, from: [.active, .paused, .completed], to: .ended, message: "Campaign ended")
    }

    private func move(_ request: Request, _ context: SwitchboardContext, from: [SMSCampaignRecord.Status], to: SMSCampaignRecord.Status,
                      message: String) async throws -> JSONBody<Teli<Schemas.SMSCampaignAction>> {
        let campaign = try await load(request, context)
        let reason = to == .active ? nil : "\(to.rawValue.lowercased()) by user"
        guard try await api.store.setSMSCampaignStatus(id: campaign.key, from: from, to: to, reason: reason, now: api.clock.now()) else {
            throw APIError.conflict("Campaign is \(campaign.status.rawValue); it cannot become \(to.rawValue)")
        }
        api.wake.messaging()
        context.logger.info("sms campaign status", metadata: ["campaign_id": "\(campaign.id)", "status": "\(to.rawValue)"])
        return api.teli(Schemas.SMSCampaignAction(campaign_id: campaign.id, status: to.rawValue, message: message))
    }

    func load(_ request: Request, _ context: SwitchboardContext) async throws -> SMSCampaignRecord {
        let id = try context.parameter("campaign_id")
        return try await context.owned("Campaign") { try await api.store.smsCampaign(id: id, organizationID: $0) }
    }
}
