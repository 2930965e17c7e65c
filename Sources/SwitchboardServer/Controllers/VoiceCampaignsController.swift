import Foundation
import Hummingbird
import Logging
import Store
import SwitchboardCore

/// Teli's voice campaigns: create (and start), list, get with progress, pause, resume,
/// delete, failed-numbers; plus streamed lead uploads.
struct VoiceCampaignsController {
    let api: APIEnvironment

    func register(on router: some RouterMethods<SwitchboardContext>) {
        router.post("v1/voice/campaigns", use: create)
        router.get("v1/voice/campaigns", use: list)
        router.get("v1/voice/campaigns/:campaign_id", use: get)
        router.delete("v1/voice/campaigns/:campaign_id", use: delete)
        router.post("v1/voice/campaigns/:campaign_id/pause", use: pause)
        router.post("v1/voice/campaigns/:campaign_id/resume", use: resume)
        router.get("v1/voice/campaigns/:campaign_id/failed-numbers", use: failedNumbers)
        router.post("v1/voice/campaigns/:campaign_id/leads", use: LeadUpload(api: api).upload)
    }

    @Sendable func create(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.VoiceCampaignCreated>> {
        let principal = try context.caller()
        let body = try await JSONObjectReader.read(request, limit: api.maxBodyBytes)
        let parsed = try await VoiceCampaignRequest.parse(body, principal: principal, store: api.store, now: api.clock.now())
        let campaign = try await api.store.createCampaign(parsed.campaign, leads: parsed.leads)
        api.wakeDialer()
        context.logger.info("campaign created", metadata: [
            "campaign_id": "\(campaign.id)", "contacts": "\(campaign.contactsCount)", "invalid": "\(parsed.invalid.count)",
        ])
        return api.teli(Schemas.VoiceCampaignCreated(
            campaign_id: campaign.id, contacts_count: campaign.contactsCount, invalid_leads_count: parsed.invalid.count,
            duplicate_leads_count: campaign.duplicateLeadsCount, invalid_leads: parsed.invalid.map(Schemas.InvalidLead.init),
            campaign_begin_time: Timestamps.teli(campaign.beginAt), campaign_end_time: Timestamps.teli(campaign.endAt),
            status: campaign.status.rawValue))
    }

    @Sendable func list(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.VoiceCampaignList>> {
        let principal = try context.caller()
        let scope = try principal.listScope(request.query)
        let limit = try request.query.int("limit", in: 1...500) ?? 100
        let offset = try request.query.int("offset", in: 0...Int(Int32.max)) ?? 0
        let campaigns = try await api.store.campaigns(organizationID: principal.organizationID, userID: scope, kind: .voice, limit: limit, offset: offset)
        return api.teli(Schemas.VoiceCampaignList(count: campaigns.count, campaigns: campaigns.map { Schemas.VoiceCampaign($0) }))
    }

    @Sendable func get(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.VoiceCampaignDetail>> {
        // The most frequent request: the campaign and its progress in one read.
        let id = try context.parameter("campaign_id")
        var progress = CampaignProgress()
        let campaign = try await context.owned("Campaign") { organizationID -> CampaignRecord? in
            guard let (campaign, read) = try await api.store.campaignWithProgress(id: id, organizationID: organizationID),
                  campaign.kind == .voice else { return nil }
            progress = read
            return campaign
        }
        return api.teli(Schemas.VoiceCampaign.detail(campaign, progress: progress, now: api.clock.now()))
    }

    @Sendable func pause(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.CampaignAction>> {
        let campaign = try await load(request, context)
        guard try await api.store.setCampaignStatus(id: campaign.key, from: [.active, .paused], to: .paused, reason: "paused by user", now: api.clock.now()) else {
            throw APIError.conflict("Campaign is \(campaign.status.rawValue); only an active campaign can be paused")
        }
        return api.teli(Schemas.CampaignAction(campaign_id: campaign.id, status: "paused", message: "Campaign paused"))
    }

    @Sendable func resume(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.CampaignAction>> {
        let campaign = try await load(request, context)
        guard try await api.store.setCampaignStatus(id: campaign.key, from: [.paused, .active], to: .active, reason: nil, now: api.clock.now()) else {
            throw APIError.conflict("Campaign is \(campaign.status.rawValue); only a paused campaign can be resumed")
        }
        api.wakeDialer()
        return api.teli(Schemas.CampaignAction(campaign_id: campaign.id, status: "active", message: "Campaign resumed"))
    }

    @Sendable func delete(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.CampaignAction>> {
        let campaign = try await load(request, context)
        try await api.store.deleteCampaign(id: campaign.key, now: api.clock.now())
        context.logger.info("campaign deleted", metadata: ["campaign_id": "\(campaign.id)"])
        return api.teli(Schemas.CampaignAction(campaign_id: campaign.id, message: "Campaign \(campaign.id) deleted"))
    }

    /// Streams the export page by page, so a million failures never sit in memory at once.
    @Sendable func failedNumbers(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let campaign = try await load(request, context)
        let format = request.query.string("format") ?? "simple"
        guard ["simple", "detailed", "csv"].contains(format) else { throw APIError.badRequest("format must be simple, detailed or csv", field: "format") }
        let includeVoicemail = try request.query.bool("include_voicemail") ?? true
        let includeNotCalled = try request.query.bool("include_not_called") ?? false
        let includeRetryScheduled = try request.query.bool("include_retry_scheduled") ?? false
        let store = api.store
        if StreamedCSV.wanted(request) {
            return StreamedCSV.response(columns: ["phone_number", "failure_reason", "call_timestamp", "call_id", "not_called_reason",
                                                  "retry_scheduled", "next_attempt_at"],
                                        filename: "\(campaign.id)-failed-numbers.csv") { (after: Int64?) in
                let page = try await store.failedNumbers(campaignID: campaign.key, includeVoicemail: includeVoicemail,
                                                         includeNotCalled: includeNotCalled, includeRetryScheduled: includeRetryScheduled,
                                                         afterLeadID: after ?? 0, limit: 1000)
                let rows = page.map { item in
                    [item.phoneNumber, item.reason, item.callTimestamp.map(Timestamps.teli) ?? "", item.callID ?? "", item.notCalledBecause ?? "",
                     "\(item.nextAttemptAt != nil)", item.nextAttemptAt.map(Timestamps.teli) ?? ""]
                }
                return (rows, page.last?.leadID)
            }
        }
        let poweredBy = api.poweredBy
        return try StreamedJSON.response(head: FailedNumbersHead(campaign_id: campaign.id), arrayKey: "failed_numbers",
                                         trailer: { FailedNumbersTail(count: $0, powered_by: poweredBy) }) { after in
            let page = try await store.failedNumbers(campaignID: campaign.key, includeVoicemail: includeVoicemail,
                                                     includeNotCalled: includeNotCalled, includeRetryScheduled: includeRetryScheduled,
                                                     afterLeadID: after, limit: 1000)
            let items = page.map { item -> Schemas.FailedNumber in
                format == "simple" ? .number(item.phoneNumber) : .detail(Schemas.FailedNumberDetail(
                    phone_number: item.phoneNumber, failure_reason: item.reason,
                    call_timestamp: item.callTimestamp.map(Timestamps.teli), call_id: item.callID,
                    not_called_reason: item.notCalledBecause, retry_scheduled: item.nextAttemptAt != nil,
                    next_attempt_at: item.nextAttemptAt.map(Timestamps.teli)))
            }
            return (items, page.last?.leadID)
        }
    }

    /// `FailedNumbers` around its streamed array.
    private struct FailedNumbersHead: Encodable, Sendable {
        var success = true
        var campaign_id: String
    }

    private struct FailedNumbersTail: Encodable, Sendable {
        var count: Int
        var powered_by: String
    }

    /// The campaign named in the path, if this key may see it (another organization's: 404).
    func load(_ request: Request, _ context: SwitchboardContext) async throws -> CampaignRecord {
        let id = try context.parameter("campaign_id")
        return try await context.owned("Campaign") { try await api.store.campaign(id: id, organizationID: $0).flatMap { $0.kind == .voice ? $0 : nil } }
    }

    /// When nothing is dialing: why, and when the next dial is due.
    static func dialingState(_ campaign: CampaignRecord, _ progress: CampaignProgress, now: Date) -> DialingState {
        var reason: String?
        var next = progress.nextDueAt
        switch campaign.status {
        case .paused: reason = "paused"
        case .completed, .ended, .canceled: next = nil
        case .active:
            if now < campaign.beginAt {
                reason = "window_not_open"
                next = max(campaign.beginAt, next ?? campaign.beginAt)
            } else if progress.inProgress == 0, let due = next, due > now {
                switch progress.nextDueReason {
                case .retry: reason = "waiting_retries"
                case .callingHours: reason = "calling_hours"
                case .attemptCap: reason = "attempt_cap"
                case .new, nil: reason = "scheduled"
                }
            }
        }
        return DialingState(activeCalls: progress.inProgress, waitingReason: reason, nextDialAt: next)
    }

    struct DialingState: Sendable {
        var activeCalls: Int
        var waitingReason: String?
        var nextDialAt: Date?
    }
}
