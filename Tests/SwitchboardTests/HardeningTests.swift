import Dialer
import Foundation
import HTTPTypes
import Logging
import ServiceLifecycle
import Store
import SwitchboardAPI
import SwitchboardCore
import SwitchboardServer
import Testing

/// Loose input refused with the field named, configuration checked at start, deletes that do
/// not stall every tenant's writes, and a shutdown with a deadline.
@Suite struct HardeningTests {
    @Test func configurationNamesWhatIsWrongAndDerivesThePublicURL() throws {
        #expect(throws: ConfigurationError.self) { try AppConfiguration.fromEnvironment(["SWITCHBOARD_ROLE": "dailer"]) }
        do {
            _ = try AppConfiguration.fromEnvironment(["SWITCHBOARD_PORT": "80a"])
            Issue.record("a non-numeric port was accepted")
        } catch let error as ConfigurationError {
            #expect(error.variable == "SWITCHBOARD_PORT")
            #expect(error.description.contains("80a"))
        }
        for bad in [["SWITCHBOARD_SIMULATOR_TIME_SCALE": "fast"], ["SWITCHBOARD_DIALER_LEASE": "-1"], ["SWITCHBOARD_LOG_LEVEL": "loud"],
                    ["SWITCHBOARD_ALLOW_PRIVATE_WEBHOOKS": "maybe"], ["SWITCHBOARD_PUBLIC_URL": "switchboard.example.com"]] {
            #expect(throws: ConfigurationError.self, "\(bad)") { try AppConfiguration.fromEnvironment(bad) }
        }
        // The default public URL is derived from the port in force, flags applied after the environment.
        var config = try AppConfiguration.fromEnvironment(["SWITCHBOARD_PORT": "9090"])
        #expect(config.publicURL == "http://127.0.0.1:9090")
        config.port = 9191  // `serve --port 9191`
        #expect(config.publicURL == "http://127.0.0.1:9191")
        config = try AppConfiguration.fromEnvironment(["SWITCHBOARD_PUBLIC_URL": "https://sb.example.com/", "SWITCHBOARD_PORT": "9090"])
        #expect(config.publicURL == "https://sb.example.com")
        let allowed = try AppConfiguration.fromEnvironment(["SWITCHBOARD_ALLOW_CARRIER_BASE_URL": "1", "SWITCHBOARD_SHUTDOWN_DEADLINE": "5"])
        #expect(allowed.allowCarrierBaseURL && !allowed.allowPrivateWebhooks)
        #expect(allowed.dialer.shutdownDeadline == 5)
    }

    @Test func numbersOutOfRangeAreRefusedWithTheirField() async throws {
        let harness = Harness(.sqlite)
        try await harness.runWithAgentAndNumber { client, key, agent, number in
            func create(_ extra: [String: JSONValue]) async throws -> Client.Reply {
                var body: [String: JSONValue] = ["leads": [], "voice_agent_id": .string(agent), "agent_outbound_number": .string(number)]
                body.merge(extra) { _, new in new }
                return try await client.post("/v1/voice/campaigns", key: key, .object(body))
            }
            let interval = try await create(["redial_enabled": true, "redial_config": ["call_interval_days": 1e308]])
            #expect(interval.status == .badRequest)
            #expect(interval.error == "redial_config.call_interval_days must be from 0 to 365")
            let sum = try await create(["redial_config": ["call_interval_days": 365, "call_interval_minutes": 525_600]])
            #expect(sum.status == .badRequest)
            for end: JSONValue in [1e300, "10000-01-01T00:00:00Z", -5] {
                let reply = try await create(["campaign_end_time": end])
                #expect(reply.status == .badRequest, "\(end)")
                #expect(reply.error?.hasPrefix("campaign_end_time must be") == true)
            }
            let badAgent = try await client.post("/v1/agents", key: key, ["agent_type": "sms", "agent_name": "T", "starting_message": "Hi",
                                                                          "drip_schedule": [["day": 1e308]]])
            #expect(badAgent.status == .badRequest)
            let sms = try await client.post("/v1/agents", key: key, ["agent_type": "sms", "agent_name": "T", "starting_message": "Hi"])
            let campaign = try await client.post("/v1/campaigns", key: key, [
                "sms_agent_id": sms["agent_id"] ?? nil, "teli_sms_number": .string(number), "contacts": [],
                "drip_schedule": [["delay_hours": 1e308]],
            ])
            #expect(campaign.status == .badRequest)
            #expect(campaign.error == "drip_schedule[0] needs delay_hours (0 to 8760) or day (0 to 365)")
        }
    }

    @Test func theContractsMethodsAndEnumsHold() async throws {
        let harness = Harness(.sqlite)
        let key = try await harness.key()
        try await harness.run { client in
            let trace = try await client.request(.init("TRACE")!, "/health", key: nil)
            #expect(trace.status == .methodNotAllowed)
            #expect(trace.headers[.allow] == "GET")
            let put = try await client.request(.put, "/v1/agents", key: key)
            #expect(put.status == .methodNotAllowed)
            #expect(put.headers[.allow] == "GET, POST")
            let batch = try await client.request(.patch, "/v1/convai/batch-calling/btcal_x", key: key)
            #expect(batch.headers[.allow] == "DELETE, GET")
            #expect(batch["detail"] != nil)  // the batch API's own error style
            #expect(try await client.get("/v1/nowhere", key: key).status == .notFound)
            #expect(try await client.get("/v1/agents?agent_type=robot", key: key).status == .badRequest)
            #expect(try await client.get("/v1/voice/phone-numbers?phone_type=fax", key: key).status == .badRequest)
        }
    }

    @Test(arguments: Backend.allCases) func anUnterminatedQuoteFailsTheUpload(_ backend: Backend) async throws {
        let harness = Harness(backend)
        try await harness.runWithAgentAndNumber { client, key, agent, number in
            let campaign = try await client.campaign(key: key, agent: agent, number: number, leads: [])
            let csv = "phone_number,note\n+15550000001,fine\n+15550000002,\"never closed\n+15550000003,swallowed\n"
            let reply = try await client.request(.post, "/v1/voice/campaigns/\(campaign)/leads", key: key, raw: csv,
                                                 headers: [.contentType: "text/csv"])
            #expect(reply.status == .badRequest)
            #expect(reply.error?.contains("quoted field is never closed") == true)
            #expect(try await client.campaignStatus(campaign, key: key).count(\.total) == 0)
        }
    }

    @Test(arguments: Backend.allCases) func aHugeCampaignIsDeletedInChunks(_ backend: Backend) async throws {
        let leads = (0..<2_500).map { String(format: "+1555%07d", $0) }
        let fixture = try await ReliabilityTests.Fixture.make(backend, leads: leads)
        defer { Task { await fixture.close() } }
        #expect(try await fixture.store.progress(campaignID: fixture.campaign.key).total == 2_500)
        let removed = try await fixture.store.deleteCampaign(id: fixture.campaign.key, now: fixture.clock.now(), chunk: 1_000)
        #expect(removed == 2_500)
        #expect(try await fixture.store.progress(campaignID: fixture.campaign.key).total == 0)
        #expect(try await fixture.store.campaign(id: fixture.campaign.id, organizationID: "o") == nil)
    }

    /// A carrier whose calls last an hour unless the dialer lets go of them (cancels the dial).
    struct EndlessCarrier: TelephonyProvider {
        let name = ProviderName.simulator
        let endedByItself = Locked(false)
        func dial(_ request: DialRequest) async -> DialResult {
            try? await Task.sleep(for: .seconds(3_600))
            endedByItself.withLock { $0 = !Task.isCancelled }
            return DialResult(outcome: .completed, endedAt: Date())
        }
        func status(of attempt: DialRequest) async -> ProviderCallStatus { .inProgress }
    }
}

/// What the seeds' clients rely on: Teli's SMS campaign list, ElevenLabs' own paths and
/// header, failed numbers waiting for a redial, and why a batch waits.
@Suite struct SeedFidelityTests {
    @Test func theSMSCampaignListCountsEveryMatch() async throws {
        let harness = Harness(.sqlite)
        let key = try await harness.key()
        try await harness.run { client in
            let number = try await client.number(key: key)
            for _ in 0..<3 { _ = try await client.smsCampaign(key: key, number: number, contacts: []) }
            let page = try await client.get("/v1/organizations/org_a/campaigns?user_id=user_a&limit=2", key: key)
                .decode(Components.Schemas.SMSCampaignList.self)
            #expect(page.count == 3)
            #expect(page.hasMore == true)
            #expect(page.campaigns.count == 2)
            let created = page.campaigns.first?.campaignCreateTime ?? ""
            #expect(created.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00/) != nil, "\(created)")
            let last = try await client.get("/v1/organizations/org_a/campaigns?user_id=user_a&limit=2&offset=2", key: key)
                .decode(Components.Schemas.SMSCampaignList.self)
            #expect(last.count == 3)
            #expect(last.hasMore == false)
            #expect(last.campaigns.count == 1)
        }
    }

    @Test func elevenLabsPathsAndHeaderWork() async throws {
        let harness = Harness(.sqlite)
        try await harness.runWithAgentAndNumber { client, key, agent, number in
            let numberID = JSONValue.string(try await client.get("/v1/voice/phone-numbers", key: key)
                .decode(Components.Schemas.PhoneNumberList.self).phoneNumbers.first?.id ?? "")
            let submitted = try await client.request(.post, "/v1/convai/batch-calling/submit", key: key, json: [
                "call_name": "EL", "agent_id": .string(agent), "agent_phone_number_id": numberID,
                "recipients": [["phone_number": "+15550000001"]],
            ], keyHeader: "xi-api-key")
            #expect(submitted.status == .ok, "\(submitted.text)")
            let id = try submitted.decode(Components.Schemas.BatchCallSubmitResponse.self).value1.id
            let fetched = try await client.request(.get, "/v1/convai/batch-calling/\(id)", key: key, keyHeader: "xi-api-key")
            #expect(fetched.batch?.value1.id == id)
            let listed = try await client.request(.get, "/v1/convai/batch-calling/workspace", key: key, keyHeader: "xi-api-key")
            #expect(try listed.decode(Components.Schemas.BatchCallList.self).batchCalls.first?.id == id)
            let missing = try await client.request(.get, "/v1/convai/batch-calling/btcal_nope", key: key, keyHeader: "xi-api-key")
            #expect(missing.status == .notFound)
            #expect(missing["detail"] == "Batch not found")
            #expect(try await client.request(.get, "/v1/agents", key: "sb_wrong", keyHeader: "xi-api-key").status == .unauthorized)
        }
    }

    @Test(arguments: Backend.allCases) func failedNumbersCanIncludeThoseWaitingForARedial(_ backend: Backend) async throws {
        let harness = Harness(backend)
        try await harness.runWithAgentAndNumber { client, key, agent, number in
            let campaign = try await client.campaign(key: key, agent: agent, number: number, leads: [
                ["phone_number": "+15550000001", "simulate": "busy,completed"],
            ], ["redial_enabled": true, "redial_config": ["retry_limit": 1, "call_interval_days": 1]])
            try await client.eventually("/v1/voice/campaigns/\(campaign)", key: key) { $0.count(\.retryScheduled) == 1 }
            let plain = try await client.get("/v1/voice/campaigns/\(campaign)/failed-numbers", key: key).decode(Components.Schemas.FailedNumbers.self)
            #expect(plain.count == 0)
            let waiting = try await client.get("/v1/voice/campaigns/\(campaign)/failed-numbers?include_retry_scheduled=true&format=detailed", key: key)
                .decode(Components.Schemas.FailedNumbers.self)
            #expect(waiting.count == 1)
            guard case .FailedNumberDetail(let item)? = waiting.failedNumbers.first else { Issue.record("no detail"); return }
            #expect(item.phoneNumber == "+15550000001")
            #expect(item.failureReason == .busy)
            #expect(item.retryScheduled == true)
            #expect(item.nextAttemptAt == "2026-01-16T15:00:00.000000")
        }
    }

    @Test func aWaitingBatchSaysWhy() async throws {
        let harness = Harness(.sqlite)
        try await harness.runWithAgentAndNumber { client, key, agent, number in
            let numberID = JSONValue.string(try await client.get("/v1/voice/phone-numbers", key: key)
                .decode(Components.Schemas.PhoneNumberList.self).phoneNumbers.first?.id ?? "")
            let submitted = try await client.post("/v1/voiceai/batch-calling/submit", key: key, [
                "call_name": "Later", "agent_id": .string(agent), "agent_phone_number_id": numberID,
                "calling_hours": ["start": "16:00", "end": "17:00", "timezone": "UTC"],
                "recipients": [["phone_number": "+15550000001"]],
            ])
            let id = try submitted.decode(Components.Schemas.BatchCallSubmitResponse.self).value1.id
            let waiting = try await client.eventually("/v1/voiceai/batch-calling/\(id)", key: key) { $0.batch?.value1.statusReason == "calling_hours" }.batch
            #expect(waiting?.value1.nextDialAtUnix == Int(testStart.timeIntervalSince1970) + 3_600)
            #expect(waiting?.value1.status == .pending)
        }
    }
}

/// Texts obey quiet hours: a starting message or a drip goes out only inside the campaign's
/// calling hours in the contact's zones; a reply to a contact who wrote in goes at once.
@Suite struct QuietHoursTests {
    static let ann = "+15175550101"  // Michigan: America/Detroit, UTC-5 in January
    static let bob = "+15175550102"

    @Test func aStartingMessageWaitsForTheContactsMorning() async throws {
        let twoAMDetroit = Date(timeIntervalSince1970: 1_768_460_400)  // 2026-01-15 07:00 UTC
        let eightAMDetroit = twoAMDetroit.addingTimeInterval(6 * 3_600)
        let harness = Harness(.sqlite, start: twoAMDetroit)
        let key = try await harness.key()
        try await harness.run { client in
            let number = try await client.number(key: key)
            let campaign = try await client.smsCampaign(key: key, number: number, contacts: [Self.ann])
            try await harness.withStore { store in
                try await until { (try? await store.conversations(organizationID: "org_a", userID: nil, phoneNumber: Self.ann).first?.dueAt) == eightAMDetroit }
            }
            let thread = "/v1/sms/messages?campaign_id=\(campaign)&phone_number=\(Self.ann)"
            #expect(try await client.get(thread, key: key).thread.isEmpty)
            // She writes at 2 a.m.: the keyword's answer is not held back.
            _ = try await client.post("/v1/simulator/inbound-sms", key: key, ["from": .string(Self.ann), "to": .string(number), "body": "HELP"])
            let answered = try await client.eventually(thread, key: key) { $0.message(1)?.status == .delivered }
            #expect(answered.message(1)?.kind == .system)
            // At 08:00 her time the starting message goes.
            harness.clock.set(eightAMDetroit)
            let started = try await client.eventually(thread, key: key) { $0.thread.contains { $0.kind == .start } }
            #expect(started.thread.first { $0.kind == .start }?.body == "Hi Ann!")
        }
    }

    @Test func aBackloggedOutboxHoldsStartsPastTheEvening() async throws {
        let eightFiftyNinePM = Date(timeIntervalSince1970: 1_768_528_740)  // 2026-01-16 01:59 UTC: 20:59 in Detroit
        let harness = Harness(.sqlite, start: eightFiftyNinePM)
        let key = try await harness.key()
        try await harness.run { client in
            // One text per 1,000 s: the second starting message reaches the head of the outbox at 21:15.
            let number = try await client.number(key: key, ["calls_per_second": 0.001])
            let campaign = try await client.smsCampaign(key: key, number: number, contacts: [Self.ann, Self.bob])
            let texts = "/v1/sms/messages?campaign_id=\(campaign)"
            let first = try await client.eventually(texts, key: key) { $0.thread.contains { $0.status == .delivered } }
            let held = first.thread.first { $0.status == .queued }
            #expect(held?.kind == .start)
            harness.clock.advance(by: 1_020)  // 21:16: its slot, but past calling hours
            let nextMorning = Date(timeIntervalSince1970: 1_768_568_400)  // 2026-01-16 13:00 UTC: 08:00 in Detroit
            try await harness.withStore { store in
                try await until {
                    (try? await store.messages(organizationID: "org_a", userID: nil, contact: nil, campaignID: campaign, afterID: 0, limit: 10))?
                        .contains { $0.status == .queued && $0.dueAt == nextMorning } == true
                }
            }
            harness.clock.set(nextMorning)
            try await client.eventually(texts, key: key) { !$0.thread.isEmpty && $0.thread.allSatisfy { $0.status == .delivered } }
        }
    }
}
