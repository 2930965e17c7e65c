import Foundation
import HTTPTypes
import SwitchboardAPI
import SwitchboardCore
import Testing

/// The "done when": the seed's campaign dials, retries by policy, and failed-numbers,
/// call history and the retry history report exactly what happened.
@Suite struct CampaignFlowTests {
    @Test(arguments: Backend.allCases) func dialsRetriesAndReports(_ backend: Backend) async throws {
        let harness = Harness(backend)
        try await harness.runWithAgentAndNumber { client, key, agent, number in
            let campaign = try await client.campaign(key: key, agent: agent, number: number, leads: [
                ["phone_number": "+15550000001", "first_name": "Ana", "simulate": "completed"],
                ["phone_number": "+15550000002", "simulate": "busy,completed"],
                ["phone_number": "+15550000003", "simulate": "voicemail"],
                ["phone_number": "+15550000004", "simulate": "no_answer"],
            ], ["redial_enabled": true, "redial_config": ["retry_limit": 1, "call_interval_days": 1]])

            // First pass: one completed, three waiting a day for their retry.
            let waiting = try await client.eventually("/v1/voice/campaigns/\(campaign)", key: key) {
                $0.count(\.completed) == 1 && $0.count(\.retryScheduled) == 3
            }
            let contract = try waiting.decode(Components.Schemas.VoiceCampaignDetail.self)
            #expect(contract.value2.dialing.waitingReason == .waitingRetries)
            #expect(contract.value2.dialing.nextDialAt == "2026-01-16T15:00:00.000000")
            #expect(contract.value1.status == .active)

            harness.clock.advance(by: 86_400)
            let done = try await client.eventually("/v1/voice/campaigns/\(campaign)", key: key) { $0.status_ == "completed" }
            #expect(done.count(\.completed) == 2)
            #expect(done.count(\.failed) == 2)
            #expect(done.outcomes == ["completed": 2, "voicemail": 1, "no_answer": 1])

            // Completed leads are absent; voicemail is present unless excluded.
            func failed(_ query: String) async throws -> Components.Schemas.FailedNumbers {
                try await client.get("/v1/voice/campaigns/\(campaign)/failed-numbers\(query)", key: key).decode(Components.Schemas.FailedNumbers.self)
            }
            func numbers(_ list: Components.Schemas.FailedNumbers) -> [String] {
                list.failedNumbers.compactMap { if case .case1(let number) = $0 { number } else { nil } }
            }
            func details(_ list: Components.Schemas.FailedNumbers) -> [Components.Schemas.FailedNumberDetail] {
                list.failedNumbers.compactMap { if case .FailedNumberDetail(let detail) = $0 { detail } else { nil } }
            }
            let simple = try await failed("")
            #expect(numbers(simple) == ["+15550000003", "+15550000004"])
            #expect(simple.count == 2)
            #expect(numbers(try await failed("?include_voicemail=false")) == ["+15550000004"])
            let detailed = details(try await failed("?format=detailed"))
            #expect(detailed.map(\.failureReason) == [.voicemail, .noAnswer])
            #expect(detailed.first?.callId?.hasPrefix("call_") == true)

            // The busy-then-answered lead: two attempts, a day apart, in DialNexa's shape.
            let calls = try await client.get("/v1/voice/calls?campaign_id=\(campaign)", key: key).decode(Components.Schemas.CallList.self)
            #expect(calls.count == 4)
            let callID = try #require(calls.calls.first { $0.toNumber == "+15550000002" }).callId
            let retries = try await client.request(.get, "/v1/call-logs/\(callID)/retries", key: key, keyHeader: "Bearer")
            #expect(retries.status == .ok)
            let history = try retries.decode(Components.Schemas.RetryHistory.self)
            #expect(history.callId == callID)
            #expect(history.data.map(\.status) == ["busy", "completed"])
            #expect(history.data.map(\.attempt) == [1, 2])
            #expect(history.data.map(\.calledAt) == ["2026-01-15T15:00:00.000Z", "2026-01-16T15:00:00.000Z"])
            #expect(history.data.map(\.timestamp) == history.data.map(\.calledAt))
            #expect(history.data.last?.durationSec ?? 0 > 0)

            let one = try await client.get("/v1/voice/calls/\(callID)", key: key)
            let call = try one.decode(Components.Schemas.CallEnvelope.self).call
            #expect(call.callStatus == .ended)
            #expect(call.outcome == "completed")
            #expect(call.attempts?.count == 2)
            #expect(call.fromNumber == number)
        }
    }

    @Test(arguments: Backend.allCases) func seedBodiesWorkVerbatim(_ backend: Backend) async throws {
        let harness = Harness(backend)
        // The seed's own ids, with a real key for them.
        let key = try await harness.key(organization: "1762896364768x389173798861431550", tenant: "your_tenant", user: "1762896366429x599348279945132448")
        try await harness.run { client in
            _ = try await client.agent(key: key, id: "agent_86f826bf8f59bacd5c10ae948a")
            _ = try await client.number(key: key, ["phone_number": "+15174686941"])
            // teli-create-voice-campaign.txt, Example Request, byte for byte.
            let seed = """
                {
                    "leads": [
                      {
                        "phone_number": "+15551234567",
                        "first_name": "John",
                        "last_name": "Doe",
                        "email": "[email protected]"
                      }
                    ],
                    "voice_agent_id": "agent_86f826bf8f59bacd5c10ae948a",
                    "agent_outbound_number": "+15174686941",
                    "organization_id": "1762896364768x389173798861431550",
                    "tenant_id": "your_tenant"
                  }
                """
            let created = try await client.request(.post, "/v1/voice/campaigns", key: key, raw: seed, headers: [.contentType: "application/json"])
            #expect(created.status == .ok, "\(created.text)")
            let response = try created.decode(Components.Schemas.VoiceCampaignCreateResponse.self)
            #expect(response.success)
            #expect(response.contactsCount == 1)
            #expect(response.invalidLeadsCount == 0)
            #expect(response.campaignId.hasPrefix("voice_campaign_"))
            #expect(response.message == "Campaign started successfully")
            #expect(response.poweredBy == "Teli")
            #expect(response.campaignBeginTime == "2026-01-15T15:00:00.000000")
            #expect(response.campaignEndTime == "2026-01-22T15:00:00.000000")

            // teli-voice-campaign-failed-numbers.txt: the default (simple) request. The seed lead
            // ends no_answer (the simulator's mix: last digits 67) with the default policy.
            let campaign = response.campaignId
            try await client.eventually("/v1/voice/campaigns/\(campaign)", key: key) { $0.status_ == "completed" }
            let failed = try await client.get("/v1/voice/campaigns/\(campaign)/failed-numbers", key: key)
            #expect(failed.json == [
                "success": true, "campaign_id": .string(campaign), "failed_numbers": ["+15551234567"], "count": 1, "powered_by": "Teli",
            ])
            #expect(try await client.get("/v1/voice/campaigns", key: key).decode(Components.Schemas.VoiceCampaignList.self).count == 1)
        }
    }

    @Test(arguments: Backend.allCases) func duplicatesAreDialedOnceAndInvalidLeadsReported(_ backend: Backend) async throws {
        let harness = Harness(backend)
        try await harness.runWithAgentAndNumber { client, key, agent, number in
            let reply = try await client.post("/v1/voice/campaigns", key: key, [
                "voice_agent_id": .string(agent), "agent_outbound_number": .string(number),
                "calling_hours": ["start": "00:00", "end": "24:00"],
                "leads": [
                    ["phone_number": "+15550000001", "simulate": "completed"],
                    ["phone_number": "(555) 000-0001"],
                    ["phone_number": "not a number"],
                    ["first_name": "No Phone"],
                    ["phone_number": "+15550000002", "simulate": "completed"],
                    ["phone_number": "+1055"],
                ],
            ])
            #expect(reply.status == .ok)
            let created = try reply.decode(Components.Schemas.VoiceCampaignCreateResponse.self)
            #expect(created.contactsCount == 2)
            #expect(created.duplicateLeadsCount == 1)
            #expect(created.invalidLeadsCount == 3)
            #expect(created.invalidLeads?.map(\.index) == [2, 3, 5])
            #expect(created.invalidLeads?[1].reason == "missing phone number")
            try await client.eventually("/v1/voice/campaigns/\(created.campaignId)", key: key) { $0.status_ == "completed" }
            #expect(try await client.get("/v1/voice/calls?campaign_id=\(created.campaignId)", key: key).calls.count == 2)
        }
    }
}
