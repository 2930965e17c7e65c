import Agents
import Foundation
import Store
import SwitchboardCore

/// A `POST /v1/campaigns` body (Teli's SMS campaign), validated: the campaign with its fields
/// resolved against its agent (the agent's starting message, drips and extraction fields when
/// the campaign gives none), its contacts, and those refused.
struct SMSCampaignRequest {
    var campaign: SMSCampaignRecord
    var agent: AgentRecord
    var contacts: [ValidLead]
    var invalid: [InvalidLead]

    static func parse(_ body: JSONObjectReader, principal: Principal, store: Store, now: Date) async throws -> SMSCampaignRequest {
        let owner = try principal.owner(body)
        guard let rawContacts = try? body.array("contacts") ?? body.array("leads") else {
            throw APIError.badRequest("contacts array required", field: "contacts")
        }
        let agentID = try body.requiredString("sms_agent_id")
        guard let agent = try await store.agent(id: agentID, organizationID: owner.organizationID), agent.type == .sms,
              principal.mayAccess(userID: agent.userID) else {
            throw APIError.badRequest("sms_agent_id does not name an SMS agent of this organization", field: "sms_agent_id")
        }
        let from = try await number(body, "teli_sms_number", capability: .sms, principal: principal, store: store, required: true)!
        var fields: [String: JSONValue] = [:]
        let voiceEnabled = try body.bool("enable_sms_to_voice") ?? false
        if voiceEnabled {
            let voiceAgentID = try body.requiredString("voice_agent_id", message: "voice_agent_id required when enable_sms_to_voice is true")
            guard let voiceAgent = try await store.agent(id: voiceAgentID, organizationID: owner.organizationID), voiceAgent.type == .voice,
                  principal.mayAccess(userID: voiceAgent.userID) else {
                throw APIError.badRequest("voice_agent_id does not name a voice agent of this organization", field: "voice_agent_id")
            }
            guard body.has("outbound_number") else {
                throw APIError.badRequest("outbound_number required when enable_sms_to_voice is true", field: "outbound_number")
            }
            fields["voice_agent_id"] = .string(voiceAgentID)
            fields["outbound_number"] = .string(try await number(body, "outbound_number", capability: .voice, principal: principal,
                                                                   store: store, required: true)!)
        } else {
            fields["voice_agent_id"] = .null
            fields["outbound_number"] = .null
        }
        fields["enable_sms_to_voice"] = .bool(voiceEnabled)

        func text(_ key: String, agentKey: String? = nil) throws -> JSONValue {
            if let value = try body.string(key), !value.isEmpty { return .string(value) }
            return agent.body[agentKey ?? key] ?? .null
        }
        fields["starting_message"] = try text("starting_message")
        guard fields["starting_message"]?.stringValue?.isEmpty == false else {
            throw APIError.badRequest("starting_message required (on the campaign or its SMS agent)", field: "starting_message")
        }
        fields["objective_prompt"] = try text("objective_prompt")
        fields["custom_follow_up"] = .string(try body.string("custom_follow_up") ?? "")
        let followupInterval = try body.number("followup_interval") ?? 0
        guard followupInterval >= 0, followupInterval <= 8_760 else {
            throw APIError.badRequest("followup_interval must be from 0 to 8760 (hours)", field: "followup_interval")
        }
        fields["followup_interval"] = JSONValue(followupInterval)
        if let media = try body.string("mms_media_url") {
            guard let url = URL(string: media), ["http", "https"].contains(url.scheme ?? "") else {
                throw APIError.badRequest("mms_media_url must be an http(s) URL", field: "mms_media_url")
            }
            fields["mms_media_url"] = .string(media)
        } else {
            fields["mms_media_url"] = .null
        }
        var drips = try body.array("drip_schedule").map(JSONValue.array) ?? agent.body["drip_schedule"] ?? []
        if drips == [], followupInterval > 0 {
            // Teli's single follow-up: the custom text after `followup_interval` hours, or the agent's words.
            let custom = fields["custom_follow_up"]?.stringValue ?? ""
            drips = [["delay_hours": JSONValue(followupInterval), "type": custom.isEmpty ? "ai" : "custom", "message": custom.isEmpty ? .null : .string(custom)]]
        }
        do { _ = try DripStep.schedule(drips) } catch let error as DripStep.Invalid {
            throw APIError.badRequest(error.description, field: "drip_schedule")
        }
        fields["drip_schedule"] = drips
        fields["drip_enabled"] = .bool(drips != [])
        fields["drip_start_datetime"] = drips != [] ? .string(Timestamps.teli(now)) : .null
        let extraction = try body.array("extraction_fields").flatMap { $0.isEmpty ? nil : JSONValue.array($0) } ?? agent.body["extraction_fields"] ?? []
        guard AgentProfile.fields(extraction).count == (extraction.arrayItems ?? []).count else {
            throw APIError.badRequest("extraction_fields must be names or objects with a name", field: "extraction_fields")
        }
        fields["extraction_fields"] = extraction
        fields["dry_run"] = .bool(try body.bool("dry_run") ?? false)
        fields["enable_number_validation"] = .bool(try body.bool("enable_number_validation") ?? false)
        fields["use_jit_queue"] = .bool(try body.bool("use_jit_queue") ?? true)
        fields["tenant_id"] = .string(owner.tenantID)

        let (contacts, invalid) = rawContacts.map(LeadInput.init(json:)).validated()
        // Quiet hours, as for calls: starting messages and drips go out only inside them.
        let timeZone = try body.string("timezone") ?? "UTC"
        guard TimeZoneCache.isKnown(timeZone) else { throw APIError.badRequest("timezone must be an IANA time zone such as America/New_York", field: "timezone") }
        let schedule = TextSchedule(callingHours: try VoiceCampaignRequest.callingHours(body.object("calling_hours")), timeZone: timeZone)
        let id = try body.string("campaign_id") ?? Self.teliID(now)
        let campaign = SMSCampaignRecord(
            id: id, organizationID: owner.organizationID, tenantID: owner.tenantID, userID: owner.userID, createdByUserID: principal.userID,
            name: try body.string("campaign_name") ?? "SMS campaign \(Timestamps.teli(now))", agentID: agent.id, fromNumber: from,
            body: fields, schedule: schedule, invalidLeadsCount: invalid.count, createdAt: now, updatedAt: now)
        return SMSCampaignRequest(campaign: campaign, agent: agent, contacts: contacts, invalid: invalid)
    }

    /// One of the organization's numbers, in any spelling, that can do `capability` and that
    /// the caller may use (a member: its own user's).
    static func number(_ body: JSONObjectReader, _ key: String, capability: Capability, principal: Principal, store: Store,
                       required: Bool) async throws -> String? {
        guard let raw = try body.string(key) else {
            if required { throw APIError.badRequest("\(key) required", field: key) }
            return nil
        }
        let number = try PhoneNumber(raw, field: key)
        guard let record = try await store.phoneNumbers([number.e164], organizationID: principal.organizationID).first,
              principal.mayAccess(userID: record.userID) else {
            throw APIError.badRequest("\(key) \(number.e164) is not a number of this organization", field: key)
        }
        guard record.capabilities.contains(capability) else {
            throw APIError.badRequest("\(key) \(number.e164) is not \(capability.rawValue) capable", field: key)
        }
        return record.phoneNumber
    }

    /// Teli's id shape: `{unix seconds}x{18 digits}`.
    static func teliID(_ now: Date) -> String {
        "\(Int(now.timeIntervalSince1970))x" + (0..<18).map { _ in String(Int.random(in: 0...9)) }.joined()
    }
}
