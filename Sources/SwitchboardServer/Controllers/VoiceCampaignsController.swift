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

    @Sendable func create(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let principal = try context.caller()
        let body = try await JSONObjectReader.read(request, limit: api.maxBodyBytes)
        let parsed = try await VoiceCampaignRequest.parse(body, principal: principal, store: api.store, now: api.clock.now())
        let campaign = try await api.store.createCampaign(parsed.campaign, leads: parsed.leads)
        api.wakeDialer()
        context.logger.info("campaign created", metadata: [
            "campaign_id": "\(campaign.id)", "contacts": "\(campaign.contactsCount)", "invalid": "\(parsed.invalid.count)",
        ])
        return api.teli([
            "campaign_id": .string(campaign.id),
            "contacts_count": JSONValue(campaign.contactsCount),
            "invalid_leads_count": JSONValue(parsed.invalid.count),
            "duplicate_leads_count": JSONValue(campaign.duplicateLeadsCount),
            "invalid_leads": .array(parsed.invalid.map(Self.json)),
            "campaign_begin_time": .string(Timestamps.teli(campaign.beginAt)),
            "campaign_end_time": .string(Timestamps.teli(campaign.endAt)),
            "status": .string(campaign.status.rawValue),
            "message": "Campaign started successfully",
        ])
    }

    @Sendable func list(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let principal = try context.caller()
        let scope = try principal.listScope(request.query)
        let limit = try request.query.int("limit", in: 1...500) ?? 100
        let offset = try request.query.int("offset", in: 0...Int(Int32.max)) ?? 0
        let campaigns = try await api.store.campaigns(organizationID: principal.organizationID, userID: scope, kind: "voice", limit: limit, offset: offset)
        return api.teli(["count": JSONValue(campaigns.count), "campaigns": .array(campaigns.map { .object(Self.summary($0)) })])
    }

    @Sendable func get(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let campaign = try await load(request, context)
        let progress = try await api.store.progress(campaignID: campaign.key)
        var fields = Self.summary(campaign)
        fields["status_reason"] = JSONValue(campaign.statusReason)
        fields["progress"] = [
            "total": JSONValue(progress.total), "completed": JSONValue(progress.completed), "pending": JSONValue(progress.pending),
            "in_progress": JSONValue(progress.inProgress), "retry_scheduled": JSONValue(progress.retryScheduled),
            "failed": JSONValue(progress.failed), "not_called": JSONValue(progress.notCalled), "suppressed": JSONValue(progress.suppressed),
            "not_called_reasons": .object(progress.notCalledReasons.mapValues { JSONValue($0) }),
            "outcomes": .object(progress.outcomes.mapValues { JSONValue($0) }),
        ]
        fields["dialing"] = Self.dialingState(campaign, progress, now: api.clock.now()).json
        fields["agent_outbound_number"] = .string(campaign.settings.outboundNumber)
        fields["number_pool"] = .array(campaign.settings.numbers.map { ["phone_number": .string($0)] })
        fields["redial_enabled"] = .bool(campaign.settings.redialEnabled)
        fields["redial_config"] = campaign.settings.redialConfigJSON
        fields["calling_hours"] = campaign.settings.callingHoursJSON
        fields["circuit_breaker"] = campaign.settings.circuitBreakerJSON
        fields["timezone"] = .string(campaign.settings.timeZone)
        fields["max_concurrent_calls"] = JSONValue(campaign.settings.maxConcurrentCalls)
        fields["ring_timeout_seconds"] = JSONValue(campaign.settings.ringTimeout)
        fields["max_call_duration_seconds"] = JSONValue(campaign.settings.maxCallDuration)
        return api.teli(fields)
    }

    @Sendable func pause(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let campaign = try await load(request, context)
        guard try await api.store.setCampaignStatus(id: campaign.key, from: [.active, .paused], to: .paused, reason: "paused by user", now: api.clock.now()) else {
            throw APIError.conflict("Campaign is \(campaign.status.rawValue); only an active campaign can be paused")
        }
        return api.teli(["campaign_id": .string(campaign.id), "status": "paused", "message": "Campaign paused"])
    }

    @Sendable func resume(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let campaign = try await load(request, context)
        guard try await api.store.setCampaignStatus(id: campaign.key, from: [.paused, .active], to: .active, reason: nil, now: api.clock.now()) else {
            throw APIError.conflict("Campaign is \(campaign.status.rawValue); only a paused campaign can be resumed")
        }
        api.wakeDialer()
        return api.teli(["campaign_id": .string(campaign.id), "status": "active", "message": "Campaign resumed"])
    }

    @Sendable func delete(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let campaign = try await load(request, context)
        try await api.store.deleteCampaign(id: campaign.key, now: api.clock.now())
        context.logger.info("campaign deleted", metadata: ["campaign_id": "\(campaign.id)"])
        return api.teli(["campaign_id": .string(campaign.id), "message": .string("Campaign \(campaign.id) deleted")])
    }

    /// Streams the export page by page, so a million failures never sit in memory at once.
    @Sendable func failedNumbers(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let campaign = try await load(request, context)
        let format = request.query.string("format") ?? "simple"
        guard format == "simple" || format == "detailed" else { throw APIError.badRequest("format must be simple or detailed", field: "format") }
        let includeVoicemail = try request.query.bool("include_voicemail") ?? true
        let includeNotCalled = try request.query.bool("include_not_called") ?? false
        let includeRetryScheduled = try request.query.bool("include_retry_scheduled") ?? false
        let store = api.store
        let head = "{\"success\":true,\"campaign_id\":\(JSONValue.string(campaign.id).jsonText),\"failed_numbers\":["
        let tail = "],\"count\":%d,\"powered_by\":\(JSONValue.string(api.poweredBy).jsonText)}"
        return StreamedJSON.response(head: head, tail: { String(format: tail, $0) }) { after in
            let page = try await store.failedNumbers(campaignID: campaign.key, includeVoicemail: includeVoicemail,
                                                     includeNotCalled: includeNotCalled, includeRetryScheduled: includeRetryScheduled,
                                                     afterLeadID: after, limit: 1000)
            let items: [JSONValue] = page.map { item in
                format == "simple" ? .string(item.phoneNumber) : [
                    "phone_number": .string(item.phoneNumber), "failure_reason": .string(item.reason),
                    "call_timestamp": JSONValue(item.callTimestamp.map(Timestamps.teli)), "call_id": JSONValue(item.callID),
                    "not_called_reason": JSONValue(item.notCalledBecause),
                    "retry_scheduled": .bool(item.nextAttemptAt != nil),
                    "next_attempt_at": JSONValue(item.nextAttemptAt.map(Timestamps.teli)),
                ]
            }
            return (items, page.last?.leadID)
        }
    }

    /// The campaign named in the path, if this key may see it (another organization's: 404).
    func load(_ request: Request, _ context: SwitchboardContext) async throws -> CampaignRecord {
        let id = try context.parameter("campaign_id")
        return try await context.owned("Campaign") { try await api.store.campaign(id: id, organizationID: $0).flatMap { $0.kind == "voice" ? $0 : nil } }
    }

    static func summary(_ campaign: CampaignRecord) -> [String: JSONValue] {
        [
            "campaign_id": .string(campaign.id),
            "campaign_name": JSONValue(campaign.settings.name),
            "status": .string(campaign.status.rawValue),
            "voice_agent_id": .string(campaign.settings.agentID),
            "agent_id": .string(campaign.settings.agentID),
            "contacts_count": JSONValue(campaign.contactsCount),
            "invalid_leads_count": JSONValue(campaign.invalidLeadsCount),
            "duplicate_leads_count": JSONValue(campaign.duplicateLeadsCount),
            "organization_id": .string(campaign.organizationID),
            "tenant_id": .string(campaign.tenantID),
            "user_id": .string(campaign.userID),
            "campaign_begin_time": .string(Timestamps.teli(campaign.beginAt)),
            "campaign_end_time": .string(Timestamps.teli(campaign.endAt)),
            "created_at": .string(Timestamps.teli(campaign.createdAt)),
        ]
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

    struct DialingState {
        var activeCalls: Int
        var waitingReason: String?
        var nextDialAt: Date?

        var json: JSONValue {
            ["active_calls": JSONValue(activeCalls), "waiting_reason": JSONValue(waitingReason), "next_dial_at": JSONValue(nextDialAt.map(Timestamps.teli))]
        }
    }

    static func json(_ invalid: InvalidLead) -> JSONValue {
        ["index": JSONValue(invalid.index), "phone_number": JSONValue(invalid.phoneNumber), "reason": .string(invalid.reason)]
    }
}
