import Foundation
import Store
import SwitchboardCore

extension Schemas {
    /// `SMSCampaign`: Teli echoes every field a campaign was created with, so the request's
    /// own fields (free-form) are written first and the campaign's fixed fields over them;
    /// with `detail` set, `SMSCampaignDetail`.
    struct SMSCampaign: Encodable, Sendable {
        var echoed: [String: JSONValue]
        var campaign_id: String
        var campaign_id_pk: String
        var campaign_name: String
        var campaign_type = "OUTBOUND"
        var status: String
        var campaign_create_time: String
        var sms_agent_id: String
        var teli_sms_number: String
        var organization_id: String
        var user_id: String
        var created_by_user_id: String
        var tenant_id: String
        var calling_hours: JSONValue
        var timezone: String
        var detail: Detail?

        init(_ campaign: SMSCampaignRecord) {
            campaign_id = campaign.id
            campaign_id_pk = campaign.id
            campaign_name = campaign.name
            status = campaign.status.rawValue
            campaign_create_time = Timestamps.teliOffset(campaign.createdAt)
            sms_agent_id = campaign.agentID
            teli_sms_number = campaign.fromNumber
            organization_id = campaign.organizationID
            user_id = campaign.userID
            created_by_user_id = campaign.createdByUserID
            tenant_id = campaign.tenantID
            calling_hours = campaign.schedule.callingHours.json
            timezone = campaign.schedule.timeZone
            echoed = campaign.body.filter { Fixed(rawValue: $0.key) == nil }
        }

        /// What one campaign (an extension) adds: what its conversations and texts are doing,
        /// and whether its agent answers with a language model.
        struct Detail: Encodable, Sendable {
            @Nullable var status_reason: String?
            var contacts_count: Int
            var invalid_leads_count: Int
            var progress: [String: Int]
            var agent_mode: AgentModeBody
        }

        private enum Fixed: String, CodingKey {
            case campaign_id, campaign_id_pk, campaign_name, campaign_type, status, campaign_create_time, sms_agent_id,
                 teli_sms_number, organization_id, user_id, created_by_user_id, tenant_id, calling_hours, timezone,
                 status_reason, contacts_count, invalid_leads_count, progress, agent_mode
        }

        func encode(to encoder: any Encoder) throws {
            try echoed.encode(to: encoder)
            var container = encoder.container(keyedBy: Fixed.self)
            try container.encode(campaign_id, forKey: .campaign_id)
            try container.encode(campaign_id_pk, forKey: .campaign_id_pk)
            try container.encode(campaign_name, forKey: .campaign_name)
            try container.encode(campaign_type, forKey: .campaign_type)
            try container.encode(status, forKey: .status)
            try container.encode(campaign_create_time, forKey: .campaign_create_time)
            try container.encode(sms_agent_id, forKey: .sms_agent_id)
            try container.encode(teli_sms_number, forKey: .teli_sms_number)
            try container.encode(organization_id, forKey: .organization_id)
            try container.encode(user_id, forKey: .user_id)
            try container.encode(created_by_user_id, forKey: .created_by_user_id)
            try container.encode(tenant_id, forKey: .tenant_id)
            try container.encode(calling_hours, forKey: .calling_hours)
            try container.encode(timezone, forKey: .timezone)
            try detail?.encode(to: encoder)
        }
    }

    /// `SMSCampaignCreateResponse`'s payload.
    struct SMSCampaignCreated: Encodable, Sendable {
        var campaign_id: String
        var status = "processing"
        var campaign_status: String
        var message = "Campaign upload started successfully"
        var agent: [String: String]
        var contacts_count: Int
        var invalid_leads_count: Int
        var duplicate_leads_count: Int
        var invalid_leads: [InvalidLead]
        var details: Details
        var agent_mode: AgentModeBody

        struct Details: Encodable, Sendable {
            var total_contacts: Int
            var invalid_leads_count: Int
            var estimated_processing_seconds: Double
            var has_drips: JSONValue
            var voice_transfer_enabled: JSONValue
        }
    }

    /// `SMSCampaignList`'s payload.
    struct SMSCampaignList: Encodable, Sendable {
        var count: Int
        var has_more: Bool
        var campaigns: [SMSCampaign]
    }

    /// What pause, resume and end answer.
    struct SMSCampaignAction: Encodable, Sendable {
        var campaign_id: String
        var status: String
        var message: String
    }

    /// `AgentMode`: `{"ai": false, "notice": …}` when no language model is configured: agents
    /// send their scripted texts only, and replies wait for a person.
    struct AgentModeBody: Encodable, Sendable {
        var ai: Bool
        @Nullable var model: String?
        @Nullable var notice: String?

        init(_ mode: AgentMode) {
            switch mode {
            case .scripted:
                ai = false
                notice = "No language model is configured (SWITCHBOARD_LLM_BASE_URL): only scripted messages (starting message, custom drips) are sent; replies are stored, not answered."
            case .ai(let model):
                ai = true
                self.model = model
            }
        }
    }
}
