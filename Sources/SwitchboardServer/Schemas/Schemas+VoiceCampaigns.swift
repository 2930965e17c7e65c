import Foundation
import Store
import SwitchboardCore

extension Schemas {
    /// `InvalidLead`: a lead left out, by its 0-based position, and why.
    struct InvalidLead: Encodable, Sendable {
        var index: Int
        @Nullable var phone_number: String?
        var reason: String

        init(_ invalid: SwitchboardCore.InvalidLead) {
            index = invalid.index
            phone_number = invalid.phoneNumber
            reason = invalid.reason
        }
    }

    /// `VoiceCampaignCreateResponse`'s payload.
    struct VoiceCampaignCreated: Encodable, Sendable {
        var campaign_id: String
        var contacts_count: Int
        var invalid_leads_count: Int
        var duplicate_leads_count: Int
        var invalid_leads: [InvalidLead]
        var campaign_begin_time: String
        var campaign_end_time: String
        var status: String
        var message = "Campaign started successfully"
    }

    /// `VoiceCampaignDetail`: the summary and what one campaign adds.
    typealias VoiceCampaignDetail = Merged<VoiceCampaign, VoiceCampaign.Detail>

    /// `VoiceCampaignSummary`. Fields written by hand (`JSONFields`): a status read, the most
    /// frequent request, writes one.
    struct VoiceCampaign: JSONFields, Sendable {
        var campaign_id: String
        var campaign_name: String?
        var status: CampaignStatus
        var voice_agent_id: String
        var agent_id: String
        var contacts_count: Int
        var invalid_leads_count: Int
        var duplicate_leads_count: Int
        var organization_id: String
        var tenant_id: String
        var user_id: String
        /// Written as Teli's timestamps (`Timestamps.Style.teli`), straight into the response.
        var campaign_begin_time: Date
        var campaign_end_time: Date
        var created_at: Date

        init(_ campaign: CampaignRecord) {
            campaign_id = campaign.id
            campaign_name = campaign.settings.name
            status = campaign.status
            voice_agent_id = campaign.settings.agentID
            agent_id = campaign.settings.agentID
            contacts_count = campaign.contactsCount
            invalid_leads_count = campaign.invalidLeadsCount
            duplicate_leads_count = campaign.duplicateLeadsCount
            organization_id = campaign.organizationID
            tenant_id = campaign.tenantID
            user_id = campaign.userID
            campaign_begin_time = campaign.beginAt
            campaign_end_time = campaign.endAt
            created_at = campaign.createdAt
        }

        func encode(to encoder: any Encoder) throws { try encodeFields(to: encoder) }

        func writeFields(to out: inout some JSONFieldWriter) throws {
            try out.string("campaign_id", campaign_id)
            try out.string("campaign_name", nullable: campaign_name)
            try out.raw("status", status)
            try out.string("voice_agent_id", voice_agent_id)
            try out.string("agent_id", agent_id)
            try out.int("contacts_count", contacts_count)
            try out.int("invalid_leads_count", invalid_leads_count)
            try out.int("duplicate_leads_count", duplicate_leads_count)
            try out.string("organization_id", organization_id)
            try out.string("tenant_id", tenant_id)
            try out.string("user_id", user_id)
            try out.timestamp("campaign_begin_time", campaign_begin_time, .teli)
            try out.timestamp("campaign_end_time", campaign_end_time, .teli)
            try out.timestamp("created_at", created_at, .teli)
        }

        static func detail(_ campaign: CampaignRecord, progress: CampaignProgress, now: Date) -> VoiceCampaignDetail {
            let settings = campaign.settings
            return Merged(VoiceCampaign(campaign), Detail(status_reason: campaign.statusReason, progress: Progress(progress),
                            dialing: DialingState(VoiceCampaignsController.dialingState(campaign, progress, now: now)),
                            agent_outbound_number: settings.outboundNumber,
                            number_pool: settings.numbers.map(PoolNumber.init),
                            redial_enabled: settings.redialEnabled, redial_config: settings.redialConfigJSON,
                            calling_hours: settings.callingHoursJSON, circuit_breaker: settings.circuitBreakerJSON,
                            timezone: settings.timeZone, max_concurrent_calls: settings.maxConcurrentCalls,
                            ring_timeout_seconds: settings.ringTimeout, max_call_duration_seconds: settings.maxCallDuration))
        }

        /// What `VoiceCampaignDetail` adds to the summary, written beside its fields.
        struct Detail: JSONFields, Sendable {
            var status_reason: String?
            var progress: Progress
            var dialing: DialingState
            var agent_outbound_number: String
            var number_pool: [PoolNumber]
            var redial_enabled: Bool
            var redial_config: JSONValue
            var calling_hours: JSONValue
            var circuit_breaker: JSONValue
            var timezone: String
            var max_concurrent_calls: Int
            var ring_timeout_seconds: Double
            var max_call_duration_seconds: Double

            func encode(to encoder: any Encoder) throws { try encodeFields(to: encoder) }

            func writeFields(to out: inout some JSONFieldWriter) throws {
                try out.string("status_reason", nullable: status_reason)
                try out.value("progress", progress)
                try out.value("dialing", dialing)
                try out.string("agent_outbound_number", agent_outbound_number)
                try out.value("number_pool", number_pool)
                try out.bool("redial_enabled", redial_enabled)
                try out.value("redial_config", redial_config)
                try out.value("calling_hours", calling_hours)
                try out.value("circuit_breaker", circuit_breaker)
                try out.string("timezone", timezone)
                try out.int("max_concurrent_calls", max_concurrent_calls)
                try out.double("ring_timeout_seconds", ring_timeout_seconds)
                try out.double("max_call_duration_seconds", max_call_duration_seconds)
            }
        }
    }

    /// `VoiceCampaignList`'s payload.
    struct VoiceCampaignList: Encodable, Sendable {
        var count: Int
        var campaigns: [VoiceCampaign]
    }

    /// `Progress`: the campaign's leads by state. Written by hand, as the status read's other
    /// parts are: through Codable its two maps were most of the response's encoding.
    struct Progress: JSONFields, Sendable {
        var progress: CampaignProgress

        init(_ progress: CampaignProgress) { self.progress = progress }

        func encode(to encoder: any Encoder) throws { try encodeFields(to: encoder) }

        func writeFields(to out: inout some JSONFieldWriter) throws {
            try out.int("total", progress.total)
            try out.int("completed", progress.completed)
            try out.int("pending", progress.pending)
            try out.int("in_progress", progress.inProgress)
            try out.int("retry_scheduled", progress.retryScheduled)
            try out.int("failed", progress.failed)
            try out.int("not_called", progress.notCalled)
            try out.int("suppressed", progress.suppressed)
            try out.counts("not_called_reasons", progress.notCalledReasons)
            try out.counts("outcomes", progress.outcomes)
        }
    }

    /// `DialingState`: when nothing is dialing, why, and when the next dial is due.
    struct DialingState: JSONFields, Sendable {
        var state: VoiceCampaignsController.DialingState

        init(_ state: VoiceCampaignsController.DialingState) { self.state = state }

        func encode(to encoder: any Encoder) throws { try encodeFields(to: encoder) }

        func writeFields(to out: inout some JSONFieldWriter) throws {
            try out.int("active_calls", state.activeCalls)
            try out.string("waiting_reason", nullable: state.waitingReason)
            try out.timestamp("next_dial_at", nullable: state.nextDialAt, .teli)
        }
    }

    /// One number of a campaign's `number_pool`.
    struct PoolNumber: JSONFields, Sendable {
        var phoneNumber: String

        func encode(to encoder: any Encoder) throws { try encodeFields(to: encoder) }

        func writeFields(to out: inout some JSONFieldWriter) throws { try out.string("phone_number", phoneNumber) }
    }

    /// `CampaignAction`'s payload: what pause, resume and delete answer.
    struct CampaignAction: Encodable, Sendable {
        var campaign_id: String
        var status: String?
        var message: String
    }

    /// One item of `FailedNumbers`: the number alone, or with `format=detailed` its detail.
    enum FailedNumber: Encodable, Sendable {
        case number(String)
        case detail(FailedNumberDetail)

        func encode(to encoder: any Encoder) throws {
            switch self {
            case .number(let number): try number.encode(to: encoder)
            case .detail(let detail): try detail.encode(to: encoder)
            }
        }
    }

    /// `FailedNumberDetail`: one number of the export, with `format=detailed`.
    struct FailedNumberDetail: Encodable, Sendable {
        var phone_number: String
        var failure_reason: String
        @Nullable var call_timestamp: String?
        @Nullable var call_id: String?
        @Nullable var not_called_reason: String?
        var retry_scheduled: Bool
        @Nullable var next_attempt_at: String?
    }

    /// `LeadUploadResponse`'s payload.
    struct LeadUpload: Encodable, Sendable {
        var campaign_id: String
        var received: Int
        var added_count: Int
        var duplicate_leads_count: Int
        var invalid_leads_count: Int
        var invalid_leads: [InvalidLead]
        var invalid_leads_truncated: Bool
        var message = "Leads added"
    }
}
