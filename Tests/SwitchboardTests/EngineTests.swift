import Foundation
import HTTPTypes
import SwitchboardAPI
import SwitchboardCore
import Testing

/// The dialer's rules, observed through the API with a manual clock.
@Suite struct EngineTests {
    @Test(arguments: Backend.allCases) func recipientLocalCallingHours(_ backend: Backend) async throws {
        // 03:00 UTC: 22:00 in New York, 12:00 in Tokyo (the campaign's zone for unknown numbers).
        let harness = Harness(backend, start: Date(timeIntervalSince1970: 1_768_532_400))
        try await harness.runWithAgentAndNumber { client, key, agent, number in
            let reply = try await client.post("/v1/voice/campaigns", key: key, [
                "voice_agent_id": .string(agent), "agent_outbound_number": .string(number), "timezone": "Asia/Tokyo",
                "leads": [["phone_number": "+12125550100", "simulate": "completed"], ["phone_number": "+15550000001", "simulate": "completed"]],
            ])
            let campaign = try reply.decode(Components.Schemas.VoiceCampaignCreateResponse.self).campaignId
            let waiting = try await client.eventually("/v1/voice/campaigns/\(campaign)", key: key) { $0.count(\.completed) == 1 }
            #expect(waiting.count(\.pending) == 1)
            #expect(waiting.campaign?.value2.dialing.waitingReason == .callingHours)
            #expect(waiting.campaign?.value2.dialing.nextDialAt == "2026-01-16T13:00:00.000000") // 08:00 in New York
            let calls = try await client.get("/v1/voice/calls?campaign_id=\(campaign)", key: key).decode(Components.Schemas.CallList.self)
            #expect(calls.calls.map(\.toNumber) == ["+15550000001"])

            harness.clock.set(Date(timeIntervalSince1970: 1_768_568_400)) // 13:00 UTC
            try await client.eventually("/v1/voice/campaigns/\(campaign)", key: key) { $0.status_ == "completed" }
        }
    }

    @Test(arguments: Backend.allCases) func waitsForTheWindowAndEndsAtItsEnd(_ backend: Backend) async throws {
        let harness = Harness(backend)
        try await harness.runWithAgentAndNumber { client, key, agent, number in
            let later = try await client.campaign(key: key, agent: agent, number: number, leads: [["phone_number": "+15550000001", "simulate": "completed"]],
                                                  ["campaign_begin_time": "2026-01-15T16:00:00Z"])
            let status = try await client.campaignStatus(later, key: key).campaign?.value2.dialing
            #expect(status?.waitingReason == .windowNotOpen)
            #expect(status?.nextDialAt == "2026-01-15T16:00:00.000000")

            // A paused campaign that runs past its end: its leads are not called.
            let ending = try await client.campaign(key: key, agent: agent, number: number,
                                                   leads: [["phone_number": "+15550000002"], ["phone_number": "+15550000003"]],
                                                   ["campaign_begin_time": "2026-01-15T16:00:00Z", "campaign_end_time": "2026-01-15T16:30:00Z"])
            // Read before the pause too: the read kept since the last write is not served after it.
            #expect(try await client.campaignStatus(ending, key: key).campaign?.value2.dialing.waitingReason == .windowNotOpen)
            #expect(try await client.post("/v1/voice/campaigns/\(ending)/pause", key: key, [:]).decode(Components.Schemas.CampaignAction.self).status == "paused")
            #expect(try await client.campaignStatus(ending, key: key).campaign?.value2.dialing.waitingReason == .paused)

            harness.clock.set(Date(timeIntervalSince1970: 1_768_492_800)) // 16:00
            try await client.eventually("/v1/voice/campaigns/\(later)", key: key) { $0.status_ == "completed" }
            #expect(try await client.campaignStatus(ending, key: key).count(\.inProgress) == 0)

            harness.clock.set(Date(timeIntervalSince1970: 1_768_494_600)) // 16:30, the end
            let ended = try await client.eventually("/v1/voice/campaigns/\(ending)", key: key) { $0.status_ == "ended" }
            #expect(ended.count(\.notCalled) == 2)
            #expect(try await client.post("/v1/voice/campaigns/\(ending)/resume", key: key, [:]).status == .conflict)
            let failed = try await client.get("/v1/voice/campaigns/\(ending)/failed-numbers?include_not_called=true&format=detailed", key: key)
                .decode(Components.Schemas.FailedNumbers.self)
            let reasons = failed.failedNumbers.map { item -> Components.Schemas.FailedNumberDetail.FailureReasonPayload? in
                if case .FailedNumberDetail(let detail) = item { detail.failureReason } else { nil }
            }
            #expect(reasons == [.notCalled, .notCalled])
            #expect(try await client.get("/v1/voice/campaigns/\(ending)/failed-numbers", key: key).decode(Components.Schemas.FailedNumbers.self).count == 0)
        }
    }

    @Test(arguments: Backend.allCases) func pausedCampaignsDoNotDialUntilResumed(_ backend: Backend) async throws {
        let harness = Harness(backend)
        try await harness.runWithAgentAndNumber { client, key, agent, number in
            let campaign = try await client.campaign(key: key, agent: agent, number: number, leads: [["phone_number": "+15550000001"]],
                                                     ["campaign_begin_time": "2026-01-15T15:10:00Z"])
            _ = try await client.post("/v1/voice/campaigns/\(campaign)/pause", key: key, [:])
            harness.clock.advance(by: 3600)
            // The dialer passes over a paused campaign: a whole pass after the clock moved on
            // calls no one.
            try await harness.pass("dialer")
            #expect(try await client.campaignStatus(campaign, key: key).count(\.pending) == 1)
            #expect(try await client.post("/v1/voice/campaigns/\(campaign)/resume", key: key, [:]).decode(Components.Schemas.CampaignAction.self).status == "active")
            try await client.eventually("/v1/voice/campaigns/\(campaign)", key: key) { $0.status_ == "completed" }
        }
    }

    /// Calls take their realistic time on the manual clock, so they stay in flight and the caps
    /// can be seen holding.
    @Test(arguments: Backend.allCases) func concurrencyCapsAndPoolRotation(_ backend: Backend) async throws {
        let harness = Harness(backend, timeScale: 1)
        let key = try await harness.key()
        try await harness.run { client in
            let agent = try await client.agent(key: key)
            let first = try await client.number(key: key, ["max_concurrent_calls": 2])
            let second = try await client.number(key: key, ["max_concurrent_calls": 2])
            let leads: [JSONValue] = (10..<20).map { ["phone_number": .string("+155500000\($0)"), "simulate": "completed"] }
            let campaign = try await client.campaign(key: key, agent: agent, number: first, leads: leads, [
                "number_pool": [["phone_number": .string(second)]], "max_concurrent_calls": 3,
            ])
            let busy = try await client.eventually("/v1/voice/campaigns/\(campaign)", key: key) { $0.count(\.inProgress) == 3 }
            #expect(busy.count(\.pending) == 7)
            // On PostgreSQL a claim counts its leads dialing a moment before it writes their calls.
            let ongoing = try await client.eventually("/v1/voice/calls?campaign_id=\(campaign)&call_status=ongoing", key: key) { reply in
                (try? reply.decode(Components.Schemas.CallList.self).calls.count) == 3
            }
            let from = try ongoing.decode(Components.Schemas.CallList.self).calls.map(\.fromNumber)
            #expect(from.count == 3)
            #expect(Set(from) == [first, second])
            #expect(from.filter { $0 == first }.count <= 2 && from.filter { $0 == second }.count <= 2)

            // Let every call run its course: ten calls through three lines. A simulated call
            // lasts under 200 s, so each step ends every call in flight and the next ones start.
            var done = try await client.campaignStatus(campaign, key: key)
            for _ in 0..<100 where done.status_ != "completed" {
                harness.clock.advance(by: 200)
                try await Task.sleep(for: .milliseconds(50))
                done = try await client.campaignStatus(campaign, key: key)
            }
            #expect(done.status_ == "completed")
            #expect(done.count(\.completed) == 10)
        }
    }

    @Test(arguments: Backend.allCases) func callsPerSecondSpacesDials(_ backend: Backend) async throws {
        let harness = Harness(backend)
        let key = try await harness.key()
        try await harness.run { client in
            let agent = try await client.agent(key: key)
            let number = try await client.number(key: key, ["calls_per_second": 2])
            let leads: [JSONValue] = (10..<16).map { ["phone_number": .string("+155500000\($0)"), "simulate": "completed"] }
            let campaign = try await client.campaign(key: key, agent: agent, number: number, leads: leads)
            // Two calls per second: each simulated second lets two more through.
            for second in 1...3 {
                try await client.eventually("/v1/voice/campaigns/\(campaign)", key: key) { $0.count(\.completed) == 2 * second - 1 }
                harness.clock.advance(by: 0.5)
                try await client.eventually("/v1/voice/campaigns/\(campaign)", key: key) { $0.count(\.completed) == 2 * second }
                harness.clock.advance(by: 0.5)
            }
            let calls = try await client.get("/v1/voice/calls?campaign_id=\(campaign)", key: key).decode(Components.Schemas.CallList.self)
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            var dials: [Date] = []
            for call in calls.calls {
                let history = try await client.get("/v1/call-logs/\(call.callId)/retries", key: key).decode(Components.Schemas.RetryHistory.self)
                dials += history.data.compactMap { formatter.date(from: $0.calledAt) }
            }
            dials.sort()
            #expect(dials.count == 6)
            #expect(zip(dials, dials.dropFirst()).allSatisfy { $1.timeIntervalSince($0) >= 0.5 })
        }
    }

    @Test(arguments: Backend.allCases) func uploadsLeadsAsJSONOrCSVAllOrNothing(_ backend: Backend) async throws {
        let harness = Harness(backend)
        try await harness.runWithAgentAndNumber { client, key, agent, number in
            let campaign = try await client.campaign(key: key, agent: agent, number: number, leads: [],
                                                     ["campaign_begin_time": "2026-01-16T15:00:00Z"])
            let path = "/v1/voice/campaigns/\(campaign)/leads"
            let json = try await client.request(.post, path, key: key,
                                                raw: #"[{"phone_number":"+15550000001","first_name":"Ana"}, "+15550000002", {"phone_number":"x"}, {"phone":"+15550000001"}]"#,
                                                headers: [.contentType: "application/json"])
            #expect(json.status == .ok, "\(json.text)")
            let added = try json.decode(Components.Schemas.LeadUploadResponse.self)
            #expect(added.received == 4)
            #expect(added.addedCount == 2)
            #expect(added.duplicateLeadsCount == 1)
            #expect(added.invalidLeads.map { "\($0.index) \($0.phoneNumber ?? "-") \($0.reason)" }
                    == ["2 x phone number contains characters other than digits and separators"])

            let csv = try await client.request(.post, path, key: key, raw: "phone_number,first_name\n+15550000003,Bo\n+15550000002,dup\n,none\n",
                                               headers: [.contentType: "text/csv"])
            let fromCSV = try csv.decode(Components.Schemas.LeadUploadResponse.self)
            #expect(fromCSV.addedCount == 1)
            #expect(fromCSV.duplicateLeadsCount == 1)
            #expect(fromCSV.invalidLeadsCount == 1)

            // A body that breaks halfway adds nothing at all.
            let broken = try await client.request(.post, path, key: key, raw: #"[{"phone_number":"+15550000004"}, {"phone_number": "+15550000005""#,
                                                  headers: [.contentType: "application/json"])
            #expect(broken.status == .badRequest)
            let status = try await client.campaignStatus(campaign, key: key)
            #expect(status.count(\.total) == 3)
            #expect(status.campaign?.value1.contactsCount == 3)
            #expect(status.campaign?.value1.invalidLeadsCount == 2)
        }
    }

    @Test(arguments: Backend.allCases) func deletingACampaignKeepsItsCallHistory(_ backend: Backend) async throws {
        let harness = Harness(backend)
        try await harness.runWithAgentAndNumber { client, key, agent, number in
            let campaign = try await client.campaign(key: key, agent: agent, number: number, leads: [["phone_number": "+15550000001", "simulate": "completed"]])
            try await client.eventually("/v1/voice/campaigns/\(campaign)", key: key) { $0.status_ == "completed" }
            let deleted = try await client.request(.delete, "/v1/voice/campaigns/\(campaign)", key: key)
            #expect(try deleted.decode(Components.Schemas.CampaignAction.self).message == "Campaign \(campaign) deleted")
            #expect(try await client.campaignStatus(campaign, key: key).status == .notFound)
            let calls = try await client.get("/v1/voice/calls?campaign_id=\(campaign)", key: key).decode(Components.Schemas.CallList.self)
            #expect(calls.count == 1)
            let call = try #require(calls.calls.first).callId
            #expect(try await client.get("/v1/call-logs/\(call)/retries", key: key).decode(Components.Schemas.RetryHistory.self).data.count == 1)
        }
    }
}
