import Foundation
import HTTPTypes
import Logging
import Store
import SwitchboardAPI
import SwitchboardCore
import SwitchboardServer
import Testing
import Webhooks

/// Issue 7 end to end through HTTP: suppression checked at every claim, attempt caps across
/// campaigns, the circuit breaker, signed webhooks with retries, and idempotent POSTs.
@Suite struct ComplianceTests {
    @Test(arguments: Backend.allCases) func suppressionAddedMidCampaignStopsTheNextDial(_ backend: Backend) async throws {
        let harness = Harness(backend, timeScale: 1)
        let admin = try await harness.key(user: "admin_a", admin: true)
        try await harness.runWithAgentAndNumber { client, key, agent, number in
            let campaign = try await client.campaign(key: key, agent: agent, number: number, leads: [
                ["phone_number": "+15550000001", "simulate": "completed"],
                ["phone_number": "+15550000002", "simulate": "completed"],
                ["phone_number": "+15559990003", "simulate": "completed"],
            ], ["max_concurrent_calls": 1])
            let path = "/v1/voice/campaigns/\(campaign)"
            try await client.eventually(path, key: key) { $0.count(\.inProgress) == 1 }

            // While the first call is on the line: one number, and a prefix covering the third.
            let byNumber = try await client.post("/v1/suppressions", key: key, ["phone_number": "(555) 000-0002", "reason": "asked not to be called"])
            #expect(byNumber.status == .ok, "\(byNumber.text)")
            let added = try byNumber.decode(Components.Schemas.SuppressionCreated.self)
            #expect(added.suppression.phoneNumber == "+15550000002")
            #expect(added.created)
            #expect(try await client.post("/v1/suppressions", key: key, ["prefix": "+1555999"]).status == .ok)
            #expect(try await client.post("/v1/suppressions", key: key, ["phone_number": "+15550000002"]).decode(Components.Schemas.SuppressionCreated.self).created == false)
            #expect(try await client.post("/v1/suppressions", key: key, ["prefix": "1-555"]).status == .badRequest)

            let done = try await client.eventually(path, key: key, advancing: harness.clock, by: 600) { $0.status_ == "completed" }
            #expect(done.count(\.completed) == 1)
            #expect(done.count(\.suppressed) == 2)
            let calls = try await client.get("/v1/voice/calls?campaign_id=\(campaign)", key: key).decode(Components.Schemas.CallList.self)
            #expect(calls.count == 1)
            let failed = try await client.get("\(path)/failed-numbers?format=detailed", key: key).decode(Components.Schemas.FailedNumbers.self)
            let reasons = failed.failedNumbers.map { item -> Components.Schemas.FailedNumberDetail.FailureReasonPayload? in
                if case .FailedNumberDetail(let detail) = item { detail.failureReason } else { nil }
            }
            #expect(reasons == [.suppressed, .suppressed])

            let list = try await client.get("/v1/suppressions", key: key).decode(Components.Schemas.SuppressionList.self)
            #expect(list.count == 2)
            // Removing re-allows calls: an admin's decision.
            #expect(try await client.request(.delete, "/v1/suppressions/+15550000002", key: key).status == .forbidden)
            #expect(try await client.request(.delete, "/v1/suppressions/%2B15550000002", key: admin).status == .ok)
            #expect(try await client.request(.delete, "/v1/suppressions/+15550000002", key: admin).status == .notFound)

            // A CSV import adds in bulk and reports what it could not read.
            let csv = "phone_number,reason\n+15550000010,dnc scrub\n+15550000011,\nnope,\n"
            let imported = try await client.request(.post, "/v1/suppressions/import", key: key, raw: csv, headers: [.contentType: "text/csv"])
            let report = try imported.decode(Components.Schemas.SuppressionImport.self)
            #expect(report.addedCount == 2)
            #expect(report.invalidCount == 1)
            #expect(try await client.get("/v1/suppressions?limit=10", key: key).decode(Components.Schemas.SuppressionList.self).count == 3)
        }
    }

    @Test(arguments: Backend.allCases) func attemptCapsHoldAcrossCampaigns(_ backend: Backend) async throws {
        let harness = Harness(backend)
        let admin = try await harness.key(user: "admin_a", admin: true)
        try await harness.runWithAgentAndNumber { client, key, agent, number in
            let retry: [String: JSONValue] = ["redial_enabled": true, "redial_config": ["retry_limit": 5, "call_interval_seconds": 60]]
            let first = try await client.campaign(key: key, agent: agent, number: number,
                                                  leads: [["phone_number": "+15550000001", "simulate": "busy"]], retry)
            // Two dials a minute apart in the first campaign…
            try await waitForAttempts(client, key: key, campaign: first, 1)
            harness.clock.advance(by: 60)
            try await waitForAttempts(client, key: key, campaign: first, 2)
            // …and a third from another campaign: the number has had its three for the day.
            let second = try await client.campaign(key: key, agent: agent, number: number,
                                                   leads: [["phone_number": "+15550000001", "simulate": "busy"]])
            try await waitForAttempts(client, key: key, campaign: second, 1)
            harness.clock.advance(by: 60)
            let waiting = try await client.eventually("/v1/voice/campaigns/\(first)", key: key) {
                $0.campaign?.value2.dialing.waitingReason == .attemptCap
            }
            // Due again when the first dial is 24 hours old.
            #expect(waiting.campaign?.value2.dialing.nextDialAt == "2026-01-16T15:00:00.000000")

            // The organization may allow more; only an admin key may say so.
            let settings = "/v1/organizations/org_a/settings"
            let caps = try await client.get(settings, key: key).decode(Components.Schemas.OrganizationSettings.self).attemptCaps
            #expect(caps?.per24Hours == 3 && caps?.per7Days == 7)
            #expect(try await client.request(.put, settings, key: key, json: ["attempt_caps": ["per_24_hours": 10]]).status == .forbidden)
            #expect(try await client.request(.put, "/v1/organizations/org_b/settings", key: admin, json: [:]).status == .notFound)
            let changed = try await client.request(.put, settings, key: admin, json: ["attempt_caps": ["per_24_hours": 10]])
            let raised = try changed.decode(Components.Schemas.OrganizationSettings.self).attemptCaps
            #expect(raised?.per24Hours == 10 && raised?.per7Days == 7)
        }
    }

    func waitForAttempts(_ client: Client, key: String, campaign: String, _ n: Int) async throws {
        try await client.eventually("/v1/voice/calls?campaign_id=\(campaign)", key: key) { reply in
            let call = (try? reply.decode(Components.Schemas.CallList.self))?.calls.first
            return call?.attemptsCount == n && call?.callStatus != .ongoing
        }
    }

    @Test(arguments: Backend.allCases) func circuitBreakerPausesAFailingCampaign(_ backend: Backend) async throws {
        let harness = Harness(backend)
        let admin = try await harness.key(user: "admin_a", admin: true)
        try await harness.runWithAgentAndNumber { client, key, agent, number in
            // Nobody listens there: the delivery stays in the outbox, which is what we read.
            let hook = try await client.post("/v1/webhooks", key: admin, ["url": "http://127.0.0.1:9/", "events": ["campaign.paused"]])
            let leads: [JSONValue] = (10..<30).map { ["phone_number": .string("+155500000\($0)"), "simulate": "failed"] }
            let campaign = try await client.campaign(key: key, agent: agent, number: number, leads: leads, ["max_concurrent_calls": 2])
            let paused = try await client.eventually("/v1/voice/campaigns/\(campaign)", key: key) { $0.status_ == "paused" }
            #expect(paused.campaign?.value2.statusReason?.hasPrefix("circuit breaker: ") == true)
            #expect(paused.count(\.pending) > 0)
            #expect(paused["circuit_breaker"] == ["enabled": true, "failure_threshold": 0.5, "window_seconds": 120, "min_calls_in_window": 5])
            let hookID = try hook.decode(Components.Schemas.WebhookCreated.self).webhook.id
            let deliveries = try await client.get("/v1/webhooks/\(hookID)/deliveries", key: admin)
            _ = try deliveries.decode(Components.Schemas.WebhookDeliveryList.self)
            // The payload is the event as sent: free-form JSON.
            let event = deliveries["deliveries"]?.arrayValue.first?["payload"]
            #expect(event?["type"] == "campaign.paused")
            #expect(event?["data"]?["by"] == "circuit_breaker")
            #expect(event?["data"]?["campaign_id"] == .string(campaign))

            // Off for a campaign that asks so.
            let tolerant = try await client.campaign(key: key, agent: agent, number: number, leads: leads,
                                                     ["max_concurrent_calls": 2, "circuit_breaker": ["enabled": false]])
            try await client.eventually("/v1/voice/campaigns/\(tolerant)", key: key) { $0.status_ == "completed" }
        }
    }

    @Test(arguments: Backend.allCases) func webhooksAreSignedRetriedAndReplayed(_ backend: Backend) async throws {
        let harness = Harness(backend) { $0.webhooks.pollInterval = 0.02 }
        let admin = try await harness.key(user: "admin_a", admin: true)
        let member = try await harness.key()
        let inbox = WebhookInbox(failFirst: ["call.completed": 2])
        try await inbox.serve { port in
            try await harness.run { client in
                let events: JSONValue = ["call.initiated", "call.ringing", "call.answered", "call.completed", "call.failed", "campaign.completed"]
                #expect(try await client.post("/v1/webhooks", key: member, ["url": .string("http://127.0.0.1:\(port)/hook"), "events": events]).status == .forbidden)
                #expect(try await client.post("/v1/webhooks", key: admin, ["url": "ftp://x", "events": events]).status == .badRequest)
                #expect(try await client.post("/v1/webhooks", key: admin, ["url": "http://127.0.0.1:1/", "events": ["call.done"]]).status == .badRequest)
                let created = try await client.post("/v1/webhooks", key: admin, ["url": .string("http://127.0.0.1:\(port)/hook"), "events": events])
                #expect(created.status == .ok, "\(created.text)")
                let endpoint = try created.decode(Components.Schemas.WebhookCreated.self).webhook
                let secret = endpoint.secret ?? ""
                let hook = endpoint.id
                #expect(secret.hasPrefix("whsec_"))
                let gone = try await client.post("/v1/webhooks", key: admin, ["url": .string("http://127.0.0.1:\(port)/gone"), "events": ["call.initiated"]])
                #expect(try await client.get("/v1/webhooks", key: admin).decode(Components.Schemas.WebhookList.self).webhooks.allSatisfy { $0.secret == nil })

                let agent = try await client.agent(key: member)
                let number = try await client.number(key: member)
                let campaign = try await client.campaign(key: member, agent: agent, number: number, leads: [
                    ["phone_number": "+15550000001", "simulate": "completed"], ["phone_number": "+15550000002", "simulate": "busy"],
                ])
                // Deliveries are concurrent and unordered (as Standard Webhooks warns): wait for all.
                let expected = ["call.initiated": 2, "call.ringing": 1, "call.answered": 1, "call.completed": 1, "call.failed": 1,
                                "campaign.completed": 1]  // a busy line does not ring
                try await until { await inbox.counts() == expected }
                #expect(await inbox.counts() == expected)

                // call.completed failed once (500): tried again after ~5 s, then ~5 min. (Each
                // failure is recorded before the clock moves, so its next try is timed from then.)
                let deliveriesPath = "/v1/webhooks/\(hook)/deliveries"
                func triedCompleted(_ n: Int) async throws {
                    try await client.eventually(deliveriesPath, key: admin) { reply in
                        (try? reply.decode(Components.Schemas.WebhookDeliveryList.self))?.deliveries.first { $0.eventType == "call.completed" }?.attempts == n
                    }
                }
                try await triedCompleted(1)
                harness.clock.advance(by: 6)
                try await until { await inbox.of("call.completed").count == 2 }
                try await triedCompleted(2)
                harness.clock.advance(by: 400)
                try await until { await inbox.of("call.completed").count == 3 }
                try await triedCompleted(3)
                let tries = await inbox.of("call.completed")
                #expect(Set(tries.map(\.id)).count == 1)  // one webhook-id across retries
                #expect(await inbox.deliveries.allSatisfy { WebhookInbox.verify($0, secret: secret) })
                let forged = WebhookInbox.Delivery(id: tries[0].id, timestamp: tries[0].timestamp, signature: tries[0].signature,
                                                   body: tries[0].body.replacingOccurrences(of: "completed", with: "failed"))
                #expect(!WebhookInbox.verify(forged, secret: secret))
                let payload = try JSONDecoder().decode(JSONValue.self, from: Data(tries[0].body.utf8))
                #expect(payload["data"]?["campaign_id"] == .string(campaign))
                #expect(payload["data"]?["outcome"] == "completed")

                let deliveries = try await client.get("/v1/webhooks/\(hook)/deliveries", key: admin).decode(Components.Schemas.WebhookDeliveryList.self)
                let completed = deliveries.deliveries.first { $0.eventType == "call.completed" }
                #expect(completed?.status == .delivered)
                #expect(completed?.attempts == 3)
                #expect(completed?.lastStatusCode == 204)

                // Replay sends the same event again, under the same webhook-id.
                let finished = deliveries.deliveries.first { $0.eventType == "campaign.completed" }
                let replay = try await client.post("/v1/webhooks/\(hook)/deliveries/\(finished?.id ?? 0)/replay", key: admin, [:])
                #expect(replay.status == .ok, "\(replay.text)")
                try await until { await inbox.of("campaign.completed").count == 2 }
                #expect(Set(await inbox.of("campaign.completed").map(\.id)).count == 1)

                // The endpoint that answered 410 is disabled.
                let goneID = try gone.decode(Components.Schemas.WebhookCreated.self).webhook.id
                let listed = try await client.get("/v1/webhooks", key: admin).decode(Components.Schemas.WebhookList.self).webhooks.first { $0.id == goneID }
                #expect(listed?.status == .disabled)
                #expect(try await client.request(.delete, "/v1/webhooks/\(goneID)", key: admin).status == .ok)
                #expect(try await client.get("/v1/webhooks", key: admin).decode(Components.Schemas.WebhookList.self).count == 1)
            }
        }
    }

    @Test(arguments: Backend.allCases) func idempotencyKeysReplayTheFirstResponse(_ backend: Backend) async throws {
        let harness = Harness(backend)
        try await harness.runWithAgentAndNumber { client, key, agent, number in
            let body: JSONValue = [
                "leads": [["phone_number": "+15550000001", "simulate": "completed"]], "voice_agent_id": .string(agent),
                "agent_outbound_number": .string(number), "calling_hours": ["start": "00:00", "end": "24:00"],
            ]
            let headers: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "create-1"]
            let first = try await client.request(.post, "/v1/voice/campaigns", key: key, json: body, headers: headers)
            #expect(first.status == .ok)
            let again = try await client.request(.post, "/v1/voice/campaigns", key: key, json: body, headers: headers)
            #expect(again.status == .ok)
            #expect(again.json == first.json)
            #expect(again.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(try await client.get("/v1/voice/campaigns", key: key).decode(Components.Schemas.VoiceCampaignList.self).count == 1)

            // The same key for another request: refused, nothing created.
            var other = body
            if case .object(var object) = other { object["campaign_name"] = "other"; other = .object(object) }
            let mismatch = try await client.request(.post, "/v1/voice/campaigns", key: key, json: other, headers: headers)
            #expect(mismatch.status == .unprocessableContent)
            #expect(try await client.get("/v1/voice/campaigns", key: key).decode(Components.Schemas.VoiceCampaignList.self).count == 1)

            // A request refused for bad input did not act: the key may be used again, corrected.
            let fixed: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "create-2"]
            #expect(try await client.request(.post, "/v1/voice/campaigns", key: key, json: ["leads": []], headers: fixed).status == .badRequest)
            #expect(try await client.request(.post, "/v1/voice/campaigns", key: key, json: other, headers: fixed).status == .ok)
            #expect(try await client.get("/v1/voice/campaigns", key: key).decode(Components.Schemas.VoiceCampaignList.self).count == 2)

            // The batch-calling API too, in its own error style.
            let submit: JSONValue = ["call_name": "x", "agent_id": .string(agent), "agent_phone_number_id": .string(number),
                                     "recipients": [["phone_number": "+15550000009"]]]
            let batchKey: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "batch-1"]
            let batch = try await client.request(.post, "/v1/voiceai/batch-calling/submit", key: key, json: submit, headers: batchKey)
            let batchAgain = try await client.request(.post, "/v1/voiceai/batch-calling/submit", key: key, json: submit, headers: batchKey)
            #expect(batch["id"] != nil && batch["id"] == batchAgain["id"])
            let tooLong: HTTPFields = [HTTPField.Name("Idempotency-Key")!: String(repeating: "k", count: 256)]
            #expect(try await client.request(.post, "/v1/voiceai/batch-calling/submit", key: key, json: submit, headers: tooLong).status
                    == .unprocessableContent)
        }

        // The same key while the first request is still running: 409 (seen at the store, where it is decided).
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-idem-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let database = try await TestDatabase.open(backend, directory: directory)
        let store = Store(database: database, logger: Logger(label: "test"))
        try await store.migrate()
        #expect(try await store.beginIdempotentRequest(organizationID: "o", key: "k", now: testStart) == .started)
        #expect(try await store.beginIdempotentRequest(organizationID: "o", key: "k", now: testStart) == .inFlight)
        // A process that died holding it: after ten minutes the key is free again.
        #expect(try await store.beginIdempotentRequest(organizationID: "o", key: "k", now: testStart + 601) == .started)
        await database.close()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Waits, in real time, for something the server does on its own.
func until(seconds: Double = 15, sourceLocation: SourceLocation = #_sourceLocation, _ condition: @Sendable () async -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !(await condition()) {
        guard Date() < deadline else { Issue.record("condition not met in \(seconds)s", sourceLocation: sourceLocation); return }
        try await Task.sleep(for: .milliseconds(10))
    }
}
