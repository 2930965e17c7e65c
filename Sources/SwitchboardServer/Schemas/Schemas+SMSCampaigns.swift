import Foundation
import Store
import SwitchboardCore

extension Schemas {
    /// `SMSCampaign`: Teli echoes every field a campaign was created with, so the request's
    /// own fields (free-form) are written first and the campaign's fixed fields over them.
    typealias SMSCampaign = Merged<[String: JSONValue], SMSCampaignFields>
    /// `SMSCampaignDetail`: the campaign and what one campaign adds.
    typealias SMSCampaignDetail = Merged<SMSCampaign, SMSCampaignFields.Detail>

    static func smsCampaign(_ campaign: SMSCampaignRecord) -> SMSCampaign {
        Merged(campaign.body, SMSCampaignFields(campaign))
    }

    struct SMSCampaignFields: Encodable, Sendable {
        var campaign_id: String
        var campaign_id_pk: String
        var campaign_name: String
        var campaign_type = "OUTBOUND"
        var status: SMSCampaignRecord.Status
        var campaign_create_time: String
        var sms_agent_id: String
        var teli_sms_number: String
        var organization_id: String
        var user_id: String
        var created_by_user_id: String
        var tenant_id: String
        var calling_hours: JSONValue
        var timezone: String

        init(_ campaign: SMSCampaignRecord) {
            campaign_id = campaign.id
            campaign_id_pk = campaign.id
            campaign_name = campaign.name
            status = campaign.status
            campaign_create_time = Timestamps.teliOffset(campaign.createdAt)
            sms_agent_id = campaign.agentID
            teli_sms_number = campaign.fromNumber
            organization_id = campaign.organizationID
            user_id = campaign.userID
            created_by_user_id = campaign.createdByUserID
            tenant_id = campaign.tenantID
            calling_hours = campaign.schedule.callingHours.json
            timezone = campaign.schedule.timeZone
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
