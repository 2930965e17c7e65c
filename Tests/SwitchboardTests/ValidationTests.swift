import Foundation
import HTTPTypes
import SwitchboardAPI
import SwitchboardCore
import SwitchboardServer
import Testing

/// Bad input gets a clear 4xx naming the field, and a rejected request writes nothing.
@Suite struct ValidationTests {
    /// A valid body for the fixture's agent and number, with `change` applied.
    static func body(agent: String, number: String, _ change: @Sendable (inout [String: JSONValue]) -> Void) -> JSONValue {
        var body: [String: JSONValue] = [
            "leads": [["phone_number": "+15550000001"]], "voice_agent_id": .string(agent), "agent_outbound_number": .string(number),
        ]
        change(&body)
        return .object(body)
    }

    static let cases: [(String, @Sendable (inout [String: JSONValue]) -> Void, String)] = [
        ("missing agent", { $0["voice_agent_id"] = nil }, "voice_agent_id required"),
        ("missing number", { $0["agent_outbound_number"] = nil }, "agent_outbound_number required"),
        ("missing leads", { $0["leads"] = nil }, "leads array required"),
        ("leads not an array", { $0["leads"] = "+15550000001" }, "leads array required"),
        ("agent wrong type", { $0["voice_agent_id"] = 42 }, "voice_agent_id must be a string"),
        ("bad begin", { $0["campaign_begin_time"] = "tomorrow" }, "campaign_begin_time must be an ISO 8601 timestamp (e.g. 2025-11-21T21:40:13Z)"),
        ("end before begin", {
            $0["campaign_begin_time"] = "2026-02-01T10:00:00"
            $0["campaign_end_time"] = "2026-01-31T10:00:00Z"
        }, "campaign_end_time must be after campaign_begin_time"),
        ("redial flag type", { $0["redial_enabled"] = "yes" }, "redial_enabled must be a boolean"),
        ("retry limit type", { $0["redial_config"] = ["retry_limit": 1.5] }, "redial_config.retry_limit must be an integer"),
        ("retry on invalid", { $0["redial_config"] = ["retry_on": ["invalid_number"]] },
         "redial_config.retry_on may list no_answer, busy, voicemail, failed, call_declined"),
        ("hours", { $0["calling_hours"] = ["start": "9am"] }, "calling_hours.start must be HH:MM"),
        ("hours order", { $0["calling_hours"] = ["start": "20:00", "end": "09:00"] }, "calling_hours.end must be after calling_hours.start"),
        ("zone", { $0["timezone"] = "Mars/Olympus" }, "timezone must be an IANA time zone such as America/New_York"),
        ("pool", { $0["number_pool"] = [["phone_number": "nope"]] }, "number_pool[0].phone_number must be a valid phone number"),
        ("unknown agent", { $0["voice_agent_id"] = "agent_nope" }, "voice_agent_id agent_nope is not a voice agent of this organization"),
        ("unknown number", { $0["agent_outbound_number"] = "+15175550000" },
         "agent_outbound_number +15175550000 is not a phone number of this organization"),
        ("concurrency", { $0["max_concurrent_calls"] = 0 }, "max_concurrent_calls must be between 1 and 10000"),
    ]

    @Test(arguments: Backend.allCases) func rejectsBadCampaignsAndWritesNothing(_ backend: Backend) async throws {
        let harness = Harness(backend)
        try await harness.runWithAgentAndNumber { client, key, agent, number in
            for (name, change, message) in Self.cases {
                let reply = try await client.post("/v1/voice/campaigns", key: key, Self.body(agent: agent, number: number, change))
                #expect(reply.status == .badRequest, "\(name)")
                #expect(reply.json == ["success": false, "error": .string(message), "powered_by": "Teli"], "\(name)")
            }
            for raw in ["{", "[1,2]", "", "{\"leads\": [}"] {
                let reply = try await client.request(.post, "/v1/voice/campaigns", key: key, raw: raw, headers: [.contentType: "application/json"])
                #expect(reply.status == .badRequest, "\(raw)")
                #expect(try reply.decode(Components.Schemas._Error.self).success == false)
            }
            #expect(try await client.get("/v1/voice/campaigns", key: key).decode(Components.Schemas.VoiceCampaignList.self).count == 0)
            #expect(try await client.get("/v1/voice/calls", key: key).decode(Components.Schemas.CallList.self).count == 0)
        }
    }

    @Test(arguments: Backend.allCases) func timestampsWithAndWithoutOffsets(_ backend: Backend) async throws {
        let harness = Harness(backend)
        try await harness.runWithAgentAndNumber { client, key, agent, number in
            let reply = try await client.post("/v1/voice/campaigns", key: key, Self.body(agent: agent, number: number) {
                $0["campaign_begin_time"] = "2026-01-20T09:00:00-05:00"
                $0["campaign_end_time"] = "2026-01-21T14:00:00.5"
            })
            let created = try reply.decode(Components.Schemas.VoiceCampaignCreateResponse.self)
            #expect(created.campaignBeginTime == "2026-01-20T14:00:00.000000")
            #expect(created.campaignEndTime == "2026-01-21T14:00:00.500000")
        }
    }

    @Test(arguments: Backend.allCases) func bodiesOverTheLimitAre413(_ backend: Backend) async throws {
        let harness = Harness(backend) { $0.maxBodyBytes = 2048 }
        let key = try await harness.key()
        try await harness.run { client in
            let leads = JSONValue.array((0..<200).map { _ in ["phone_number": "+15550000001"] })
            let reply = try await client.post("/v1/voice/campaigns", key: key, ["leads": leads])
            #expect(reply.status == .contentTooLarge)
            #expect(reply.error == "request body is too large")
        }
    }

    @Test(arguments: Backend.allCases) func streamedUploadsOverTheLimitAre413AndAddNothing(_ backend: Backend) async throws {
        let harness = Harness(backend) { $0.maxUploadBytes = 200 }
        try await harness.runWithAgentAndNumber { client, key, agent, number in
            let campaign = try await client.campaign(key: key, agent: agent, number: number, leads: [])
            let csv = "phone_number\n" + (10..<40).map { "+155500000\($0)" }.joined(separator: "\n")
            let reply = try await client.request(.post, "/v1/voice/campaigns/\(campaign)/leads", key: key, raw: csv,
                                                 headers: [.contentType: "text/csv"])
            #expect(reply.status == .contentTooLarge)
            #expect(reply.error == "upload is larger than 200 bytes")
            #expect(try await client.campaignStatus(campaign, key: key).count(\.total) == 0)
        }
    }

    @Test(arguments: Backend.allCases) func agentsAndNumbersValidateToo(_ backend: Backend) async throws {
        let harness = Harness(backend)
        let key = try await harness.key()
        try await harness.run { client in
            #expect(try await client.post("/v1/agents", key: key, ["prompt": "x"]).error == "agent_name required")
            #expect(try await client.post("/v1/agents", key: key, ["agent_name": "a", "agent_type": "fax"]).error == "agent_type must be voice or sms")
            let badProvider = try await client.post("/v1/voice/phone-numbers/create", key: key, ["provider": "carrier-pigeon"])
            #expect(badProvider.error == "provider must be one of simulator, sip_trunk, twilio, vobiz")
            let noNumber = try await client.post("/v1/voice/phone-numbers/create", key: key, ["provider": "twilio"])
            #expect(noNumber.error == "phone_number required to register a twilio number")
            let number = try await client.number(key: key)
            let again = try await client.post("/v1/voice/phone-numbers/create", key: key, ["phone_number": .string(number)])
            #expect(again.status == .conflict)
            // Carrier secrets are kept but never returned.
            let twilio = try await client.post("/v1/voice/phone-numbers/create", key: key, [
                "phone_number": "+14155550123", "provider": "twilio", "account_sid": "AC123", "auth_token": "s3cret",
            ])
            #expect(twilio.status == .ok)
            #expect(!twilio.text.contains("s3cret"))
            #expect(try twilio.decode(Components.Schemas.PhoneNumberResponse.self).value1.configuredSettings == ["account_sid", "auth_token"])
            let listed = try await client.get("/v1/voice/phone-numbers", key: key)
            #expect(!listed.text.contains("s3cret"))
            #expect(try listed.decode(Components.Schemas.PhoneNumberList.self).count == 2)
        }
    }
}
