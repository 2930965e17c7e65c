import Foundation
import Store
import SwitchboardCore

/// A batch submission (`POST /v1/voiceai/batch-calling/submit`), validated into the voice
/// campaign that dials it. The same fields arrive as JSON or as the form fields of a CSV
/// upload; recipients come inline (JSON) or staged from the CSV file.
struct BatchSubmitRequest {
    var campaign: CampaignRecord
    var leads: [ValidLead]
    var invalid: [InvalidLead]

    static func parse(_ body: JSONObjectReader, id: String, principal: Principal, store: Store, now: Date) async throws -> BatchSubmitRequest {
        let name = try body.requiredString("call_name")
        let agentID = try body.requiredString("agent_id")
        let numberRef = try body.string("agent_phone_number_id") ?? body.string("agent_phone_number") ?? body.string("phone_number_id")
        guard let numberRef, !numberRef.isEmpty else {
            throw APIError.badRequest("agent_phone_number_id required (a phone number id or an E.164 number)", field: "agent_phone_number_id")
        }
        let owner = try principal.owner(body)

        var leads: [ValidLead] = []
        var invalid: [InvalidLead] = []
        if let recipients = try body.array("recipients") {
            guard !recipients.isEmpty else { throw APIError.badRequest("recipients must not be empty", field: "recipients") }
            (leads, invalid) = try recipients.enumerated().map { try Self.lead($1, index: $0) }.validated()
        }

        guard let agent = try await store.agent(id: agentID, organizationID: owner.organizationID), agent.type == .voice,
              principal.mayAccess(userID: agent.userID) else {
            throw APIError.badRequest("agent_id \(agentID) is not a voice agent of this organization", field: "agent_id")
        }
        let number = try await store.phoneNumber(idOrNumber: (try? PhoneNumber(parsing: numberRef).e164) ?? numberRef,
                                                 organizationID: owner.organizationID)
        guard let number, number.capabilities.contains(.voice), principal.mayAccess(userID: number.userID) else {
            throw APIError.badRequest("agent_phone_number_id \(numberRef) is not a voice number of this organization", field: "agent_phone_number_id")
        }

        let begin = try body.int("scheduled_time_unix", in: 0...253_402_300_799).map { Date(timeIntervalSince1970: Double($0)) } ?? now
        let timeZone = try body.string("timezone") ?? "UTC"
        guard TimeZoneCache.isKnown(timeZone) else { throw APIError.badRequest("timezone must be an IANA time zone such as America/New_York", field: "timezone") }
        let telephony = try body.object("telephony_call_config")
        let ringTimeout = try telephony?.int("ringing_timeout_secs", in: 5...300) ?? Int(CampaignSettings.defaultRingTimeout)

        var extra: [String: JSONValue] = [:]
        for key in ["whatsapp_params", "branch_id", "environment"] { extra[key] = body.object[key] ?? .null }
        if let telephony { extra["telephony_call_config"] = .object(telephony.object) }
        let settings = CampaignSettings(
            name: name, agentID: agent.id, outboundNumber: number.phoneNumber, numbers: [number.phoneNumber],
            redialEnabled: false, retry: .noRetries,
            callingHours: try VoiceCampaignRequest.callingHours(body.object("calling_hours")), timeZone: timeZone,
            maxConcurrentCalls: try body.int("target_concurrency_limit", in: 1...10_000) ?? CampaignSettings.defaultMaxConcurrentCalls,
            ringTimeout: Double(ringTimeout),
            maxCallDuration: Double(try body.int("max_call_duration_seconds", in: 1...14_400) ?? Int(CampaignSettings.defaultMaxCallDuration)),
            extra: extra)
        let campaign = CampaignRecord(
            id: id, organizationID: owner.organizationID, tenantID: owner.tenantID, userID: owner.userID, settings: settings,
            beginAt: begin, endAt: begin.addingTimeInterval(CampaignSettings.defaultCampaignLength), invalidLeadsCount: invalid.count,
            createdAt: now, updatedAt: now)
        return BatchSubmitRequest(campaign: campaign, leads: leads, invalid: invalid)
    }

    /// A recipient as a lead: `phone_number`, and as fields its `id`, its
    /// `conversation_initiation_client_data` (echoed back), and its dynamic variables at the
    /// top level, where the agent's templates read lead fields (`{{first_name}}`).
    static func lead(_ recipient: JSONValue, index: Int) throws -> LeadInput {
        guard case .object(let object) = recipient else {
            throw APIError.badRequest("recipients[\(index)] must be an object", field: "recipients[\(index)]")
        }
        var input = LeadInput(object: object)
        if let data = object["conversation_initiation_client_data"], data != .null {
            guard case .object(let client) = data else {
                throw APIError.badRequest("recipients[\(index)].conversation_initiation_client_data must be an object",
                                          field: "recipients[\(index)].conversation_initiation_client_data")
            }
            switch client["dynamic_variables"] {
            case nil, .null?: break
            case .object(let variables)?:
                for (key, value) in variables where input.fields[key] == nil { input.fields[key] = value }
            default:
                throw APIError.badRequest("recipients[\(index)].conversation_initiation_client_data.dynamic_variables must be an object",
                                          field: "recipients[\(index)].conversation_initiation_client_data.dynamic_variables")
            }
        }
        return input
    }

    /// Form fields of a CSV upload as the JSON body they stand for: numbers as numbers, nested
    /// objects from their JSON text, `ringing_timeout_secs` into `telephony_call_config`.
    static func body(form: [String: String]) throws -> JSONObjectReader {
        let numbers: Set<String> = ["scheduled_time_unix", "target_concurrency_limit", "max_call_duration_seconds", "ringing_timeout_secs"]
        let objects: Set<String> = ["telephony_call_config", "calling_hours", "whatsapp_params"]
        var object: [String: JSONValue] = [:]
        for (key, text) in form {
            if numbers.contains(key) {
                guard let value = Double(text.trimmingCharacters(in: .whitespaces)) else {
                    throw APIError.badRequest("\(key) must be an integer", field: key)
                }
                object[key] = .number(value)
            } else if objects.contains(key) {
                guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else {
                    throw APIError.badRequest("\(key) must be a JSON object", field: key)
                }
                object[key] = value
            } else {
                object[key] = .string(text)
            }
        }
        if let timeout = object.removeValue(forKey: "ringing_timeout_secs") {
            var config: [String: JSONValue] = [:]
            if case .object(let given)? = object["telephony_call_config"] { config = given }
            config["ringing_timeout_secs"] = timeout
            object["telephony_call_config"] = .object(config)
        }
        return JSONObjectReader(object: object)
    }
}
