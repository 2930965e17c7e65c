import Foundation
import Store
import SwitchboardCore

extension Schemas {
    /// `Agent`: the agent's own fields over everything it was created with.
    typealias Agent = Merged<[String: JSONValue], AgentFields>

    struct AgentFields: Encodable, Sendable {
        var agent_id: String
        var unique_id: String
        var agent_type: AgentType
        var agent_name: String
        var organization_id: String
        var tenant_id: String
        var user_id: String
        var created_by: String
        var created_at: String
        var voice_agent_id: String?
        /// An SMS agent's: its extraction fields (`[]` when none) and what it has.
        var extraction_fields: JSONValue?
        var has_extraction_fields: Bool?
        var has_drip_schedule: Bool?
        /// What creating or changing it answers.
        var message: String?
    }

    static func agent(_ agent: AgentRecord, message: String? = nil) -> Agent {
        var fields = AgentFields(agent_id: agent.id, unique_id: agent.id, agent_type: agent.type, agent_name: agent.name,
                                 organization_id: agent.organizationID, tenant_id: agent.tenantID, user_id: agent.userID,
                                 created_by: agent.userID, created_at: Timestamps.teli(agent.createdAt), message: message)
        if agent.type == .voice {
            fields.voice_agent_id = agent.id
        } else {
            let extraction = agent.body["extraction_fields"] ?? []
            fields.extraction_fields = extraction
            fields.has_extraction_fields = extraction != []
            fields.has_drip_schedule = (agent.body["drip_schedule"] ?? []) != []
        }
        return Merged(agent.body, fields)
    }

    /// `AgentList`'s payload.
    struct AgentList: Encodable, Sendable {
        var count: Int
        var agents: [Agent]
    }

    /// `AgentEnvelope`'s payload.
    struct AgentEnvelope: Encodable, Sendable {
        var agent: Agent
    }

    /// `PhoneNumber`: a number to call or text from; its carrier settings are named, never shown.
    struct PhoneNumber: Encodable, Sendable {
        var id: String
        var phone_number: String
        var phone_number_pretty: String
        var pretty_phone_number: String
        @Nullable var area_code: String?
        var provider: ProviderName
        var phone_number_type: String
        var phone_type: String
        var capabilities: [Capability]
        @Nullable var nickname: String?
        var organization_id: String
        var tenant_id: String
        var user_id: String
        var max_concurrent_calls: Int
        var calls_per_second: Double
        var configured_settings: [String]
        @Nullable var inbound_agent_id: String?
        var created_at: String
        /// What adding it answers.
        var message: String?

        init(_ number: PhoneNumberRecord, message: String? = nil) {
            id = number.id
            phone_number = number.phoneNumber
            phone_number_pretty = Self.pretty(number.phoneNumber)
            pretty_phone_number = phone_number_pretty
            area_code = number.areaCode
            provider = number.provider
            phone_number_type = "switchboard-\(number.provider.rawValue)"
            phone_type = number.capabilities.contains(.voice) ? "voice" : "sms"
            capabilities = number.capabilities
            nickname = number.nickname
            organization_id = number.organizationID
            tenant_id = number.tenantID
            user_id = number.userID
            max_concurrent_calls = number.maxConcurrentCalls
            calls_per_second = number.callsPerSecond
            configured_settings = number.settings.keys.sorted()
            inbound_agent_id = number.inboundAgentID
            created_at = Timestamps.teli(number.createdAt)
            self.message = message
        }

        /// `+13137316433` → `+1 313-731-6433`.
        static func pretty(_ e164: String) -> String {
            let digits = Array(e164.dropFirst())
            guard digits.first == "1", digits.count == 11 else { return e164 }
            return "+1 \(String(digits[1...3]))-\(String(digits[4...6]))-\(String(digits[7...10]))"
        }
    }

    /// `PhoneNumberList`'s payload.
    struct PhoneNumberList: Encodable, Sendable {
        var count: Int
        var phone_numbers: [PhoneNumber]
    }

    /// `OrganizationSettings`'s payload.
    struct OrganizationSettings: Encodable, Sendable {
        var organization_id: String
        var attempt_caps: AttemptCapsBody

        struct AttemptCapsBody: Encodable, Sendable {
            var per_24_hours: Int
            var per_7_days: Int
        }

        init(_ settings: SwitchboardCore.OrganizationSettings, organizationID: String) {
            organization_id = organizationID
            attempt_caps = AttemptCapsBody(per_24_hours: settings.attemptCaps.per24Hours, per_7_days: settings.attemptCaps.per7Days)
        }
    }
}
