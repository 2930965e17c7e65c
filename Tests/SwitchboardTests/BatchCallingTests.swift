import Foundation
import HTTPTypes
import SwitchboardAPI
import SwitchboardCore
import Testing

/// The batch-calling API (ElevenLabs/ThreeTone) through HTTP, over the same engine and the
/// simulator. Calls take simulated time (time scale 1 on the manual clock), so a test decides
/// when they end by advancing the clock.
@Suite struct BatchCallingTests {
    static let base = "/v1/voiceai/batch-calling"

    @Test(arguments: Backend.allCases) func submitCompleteAndRetry(_ backend: Backend) async throws {
        let harness = Harness(backend, timeScale: 1)
        try await harness.runWithAgentAndNumber { client, key, agent, number in
            let scheduled = Int(testStart.timeIntervalSince1970) + 3_600
            let submitted = try await client.request(.post, "\(Self.base)/submit", key: key, json: [
                "call_name": "Survey April", "agent_id": .string(agent), "agent_phone_number_id": .string(number),
                "scheduled_time_unix": JSONValue(scheduled), "timezone": "America/New_York", "target_concurrency_limit": 5,
                "telephony_call_config": ["ringing_timeout_secs": 40],
                "calling_hours": ["start": "00:00", "end": "24:00"],
                "recipients": [
                    Self.recipient("r-completed", "+15550000001", "completed", variables: ["first_name": "Ana"]),
                    Self.recipient("r-busy", "+15550000002", "busy,completed"),
                    Self.recipient("r-no-answer", "+15550000003", "no_answer"),
                    Self.recipient("r-voicemail", "+15550000004", "voicemail,voicemail"),
                    Self.recipient("r-invalid", "12", "completed"),
                ],
            ], keyHeader: "x-api-key")
            #expect(submitted.status == .ok, "\(submitted.text)")
            let response = try submitted.decode(Components.Schemas.BatchCallSubmitResponse.self)
            let batch = response.value1
            #expect(batch.id.hasPrefix("btcal_"))
            #expect(batch.name == "Survey April")
            #expect(batch.agentName == "Sales")
            #expect(batch.status == .pending)
            #expect(batch.scheduledTimeUnix == scheduled)
            #expect(batch.phoneProvider == "simulator")
            #expect(batch.phoneNumberId?.hasPrefix("phnum_") == true)
            #expect(batch.totalCallsScheduled == 4)
            #expect(batch.totalCallsDispatched == 0)
            #expect(batch.telephonyCallConfig?.ringingTimeoutSecs == 40)
            #expect(response.value2.invalidRecipientsCount == 1)
            #expect(response.value2.invalidRecipients.first?.index == 4)
            let path = "\(Self.base)/\(batch.id)"

            // Before its schedule: pending, every recipient with its id and variables.
            let pending = try await client.get(path, key: key)
            let before = try pending.decode(Components.Schemas.BatchCallDetail.self)
            #expect(before.value2.recipients.map(\.id) == ["r-completed", "r-busy", "r-no-answer", "r-voicemail"])
            #expect(before.value2.recipients.allSatisfy { $0.status == .pending })
            #expect(pending["recipients"]?.arrayValue.first?["conversation_initiation_client_data"] == ["dynamic_variables": ["first_name": "Ana"]])

            // At the schedule the four are dialed at once, and stay on the line until time passes.
            harness.clock.advance(by: 3_600)
            try await client.eventually(path, key: key) { reply in
                reply.batch?.value1.status == .inProgress && reply.batch?.value2.recipients.allSatisfy { $0.status == .initiated } == true
            }
            let done = try await client.eventually(path, key: key, advancing: harness.clock, by: 600) {
                $0.batch?.value1.status == .completed
            }
            let finished = try done.decode(Components.Schemas.BatchCallDetail.self)
            #expect(finished.value1.totalCallsScheduled == 4)
            #expect(finished.value1.totalCallsDispatched == 4)
            #expect(finished.value1.totalCallsFinished == 4)
            #expect(finished.value1.retryCount == 0)
            #expect(finished.value2.recipients.map(\.status) == [.completed, .failed, .failed, .voicemail])
            #expect(finished.value2.recipients.map(\.outcome) == ["completed", "busy", "no_answer", "voicemail"])

            // Retry: only the three not completed are dialed again, each on its own call.
            let retried = try await client.request(.post, "\(path)/retry", key: key, keyHeader: "Bearer")
            #expect(retried.status == .ok, "\(retried.text)")
            let afterRetry = try retried.decode(Components.Schemas.BatchCallResponse.self)
            #expect(afterRetry.retryCount == 1)
            #expect(afterRetry.status == .inProgress)
            harness.clock.advance(by: 1)
            try await client.eventually(path, key: key) { reply in
                reply.batch?.value2.recipients.filter { $0.status == .initiated }.count == 3
            }
            let settled = try await client.eventually(path, key: key, advancing: harness.clock, by: 600) {
                $0.batch?.value1.status == .completed
            }
            let again = try settled.decode(Components.Schemas.BatchCallDetail.self)
            #expect(again.value1.status == .completed, "\(settled.text)")
            #expect(again.value1.retryCount == 1)
            #expect(again.value1.totalCallsFinished == 4)
            #expect(again.value2.recipients.map(\.outcome) == ["completed", "completed", "no_answer", "voicemail"])
            #expect(again.value2.recipients.map(\.attempts) == [1, 2, 2, 2])

            // Each call's retry history shows the new attempt; the completed one was left alone.
            let histories = try await again.value2.recipients.asyncMap { recipient in
                try await client.get("/v1/call-logs/\(recipient.conversationId ?? "")/retries", key: key)
                    .decode(Components.Schemas.RetryHistory.self).data.map(\.status)
            }
            #expect(histories == [["completed"], ["busy", "completed"], ["no_answer", "no_answer"], ["voicemail", "voicemail"]])
        }
    }

    @Test(arguments: Backend.allCases) func cancelLetsCallsInFlightFinishAndRefusesRetry(_ backend: Backend) async throws {
        let harness = Harness(backend, timeScale: 1)
        try await harness.runWithAgentAndNumber { client, key, agent, number in
            let submitted = try await client.post("\(Self.base)/submit", key: key, [
                "call_name": "One at a time", "agent_id": .string(agent), "agent_phone_number": .string(number),
                "target_concurrency_limit": 1, "calling_hours": ["start": "00:00", "end": "24:00"],
                "recipients": [
                    Self.recipient("a", "+15550000001", "completed"),
                    Self.recipient("b", "+15550000002", "completed"),
                    Self.recipient("c", "+15550000003", "completed"),
                ],
            ])
            #expect(submitted.status == .ok, "\(submitted.text)")
            let path = "\(Self.base)/\(try submitted.decode(Components.Schemas.BatchCallSubmitResponse.self).value1.id)"
            try await client.eventually(path, key: key) { $0.batch?.value2.recipients.first?.status == .initiated }

            let cancelled = try await client.post("\(path)/cancel", key: key, [:])
            #expect(cancelled.status == .ok)
            #expect(try cancelled.decode(Components.Schemas.BatchCallResponse.self).status == .cancelled)
            #expect(try await client.post("\(path)/cancel", key: key, [:]).decode(Components.Schemas.BatchCallResponse.self).status == .cancelled)

            // The call in flight ends as it would have; the two queued are never dialed.
            let after = try await client.eventually(path, key: key, advancing: harness.clock, by: 600) {
                $0.batch?.value2.recipients.first?.status == .completed
            }.batch
            #expect(after?.value2.recipients.map(\.status) == [.completed, .cancelled, .cancelled])
            #expect(after?.value1.status == .cancelled)
            #expect(after?.value1.totalCallsDispatched == 1)

            let retry = try await client.post("\(path)/retry", key: key, [:])
            #expect(retry.status == .conflict)
            #expect(retry["detail"] == "a cancelled batch cannot be retried")
        }
    }

    @Test(arguments: Backend.allCases) func errorsListsCSVAndDelete(_ backend: Backend) async throws {
        let harness = Harness(backend)
        let other = try await harness.key(organization: "org_b", tenant: "tenant_b", user: "user_b")
        try await harness.runWithAgentAndNumber { client, key, agent, number in
            // Schema errors: 422 in this API's style, naming the field.
            let missing = try await client.post("\(Self.base)/submit", key: key, [
                "call_name": "Empty", "agent_id": .string(agent), "agent_phone_number_id": .string(number), "recipients": [],
            ])
            #expect(missing.status == .unprocessableContent)
            let detail = try missing.decode(Components.Schemas.BatchErrorBody.self)
            guard case .case2(let items) = detail.detail else { Issue.record("detail is not a list: \(missing.text)"); return }
            #expect(items.first?.loc == ["body", "recipients"])
            let noName = try await client.post("\(Self.base)/submit", key: key, [
                "agent_id": .string(agent), "agent_phone_number_id": .string(number), "recipients": [["phone_number": "+15550000001"]],
            ])
            #expect(noName["detail"]?.arrayValue.first?["loc"] == ["body", "call_name"])
            let badLimit = try await client.get("\(Self.base)/workspace?limit=0", key: key)
            #expect(badLimit.status == .unprocessableContent)
            #expect(badLimit["detail"]?.arrayValue.first?["loc"] == ["query", "limit"])
            #expect(try await client.get("\(Self.base)/workspace?last_doc=nonsense", key: key).status == .unprocessableContent)
            let unknown = try await client.get("\(Self.base)/btcal_missing", key: key)
            #expect(unknown.status == .notFound)
            #expect(unknown["detail"] == "Batch not found")
            #expect(try await client.get("\(Self.base)/workspace", key: nil).status == .unauthorized)

            // Every recipient invalid: nothing to dial, so the batch failed.
            let invalid = try await client.post("\(Self.base)/submit", key: key, [
                "call_name": "Typos", "agent_id": .string(agent), "agent_phone_number_id": .string(number),
                "recipients": [["phone_number": "12"], ["phone_number": "not a number"]],
            ])
            let typos = try invalid.decode(Components.Schemas.BatchCallSubmitResponse.self)
            #expect(typos.value2.invalidRecipientsCount == 2)
            let failedPath = "\(Self.base)/\(typos.value1.id)"
            try await client.eventually(failedPath, key: key) { $0.batch?.value1.status == .failed }
            #expect(try await client.get(failedPath, key: other).status == .notFound)

            // A CSV upload, streamed: other columns become each recipient's variables.
            let csv = "phone_number,first_name,simulate\n+15550000011,Ana,completed\n+15550000012,Bo,busy\nnope,Cy,completed\n"
            let upload = try await client.request(.post, "\(Self.base)/submit", key: key, raw: Self.multipart([
                ("call_name", nil, "From CSV"), ("agent_id", nil, agent), ("agent_phone_number_id", nil, number),
                ("ringing_timeout_secs", nil, "25"), ("calling_hours", nil, #"{"start":"00:00","end":"24:00"}"#),
                ("file", "leads.csv", csv),
            ]), headers: [.contentType: "multipart/form-data; boundary=\(Self.boundary)"])
            #expect(upload.status == .ok, "\(upload.text)")
            let uploaded = try upload.decode(Components.Schemas.BatchCallSubmitResponse.self)
            #expect(uploaded.value1.totalCallsScheduled == 2)
            #expect(uploaded.value2.invalidRecipientsCount == 1)
            #expect(uploaded.value1.telephonyCallConfig?.ringingTimeoutSecs == 25)
            let csvPath = "\(Self.base)/\(uploaded.value1.id)"
            let csvDone = try await client.eventually(csvPath, key: key) { $0.batch?.value1.status == .completed }
            let recipients = csvDone.batch?.value2.recipients ?? []
            #expect(recipients.map(\.status) == [.completed, .failed])
            // The variables are the client's own: free-form JSON.
            #expect(csvDone["recipients"]?[0]?["conversation_initiation_client_data"]?["dynamic_variables"]?["first_name"] == "Ana")
            let noFile = try await client.request(.post, "\(Self.base)/submit", key: key, raw: Self.multipart([("call_name", nil, "x")]),
                                                  headers: [.contentType: "multipart/form-data; boundary=\(Self.boundary)"])
            #expect(noFile.status == .unprocessableContent)
            #expect(noFile["detail"]?.arrayValue.first?["loc"] == ["body", "file"])

            // The workspace, newest first, two to a page.
            let first = try await client.get("\(Self.base)/workspace?limit=1", key: key).decode(Components.Schemas.BatchCallList.self)
            #expect(first.hasMore)
            #expect(first.batchCalls.map(\.name) == ["From CSV"] || first.batchCalls.map(\.name) == ["Typos"])
            let rest = try await client.get("\(Self.base)/workspace?limit=5&last_doc=\(first.nextDoc ?? "")", key: key)
                .decode(Components.Schemas.BatchCallList.self)
            #expect(!rest.hasMore)
            #expect(rest.nextDoc == nil)
            #expect(Set((first.batchCalls + rest.batchCalls).map(\.name)) == ["From CSV", "Typos"])
            #expect(try await client.get("\(Self.base)/workspace", key: other).decode(Components.Schemas.BatchCallList.self).batchCalls.isEmpty)

            // Delete: gone from the API; its calls stay in the history.
            let deleted = try await client.request(.delete, csvPath, key: key)
            #expect(deleted.status == .ok)
            #expect(try await client.get(csvPath, key: key).status == .notFound)
            let callID = recipients.first?.conversationId ?? ""
            #expect(try await client.get("/v1/call-logs/\(callID)/retries", key: key).status == .ok)
        }
    }

    static func recipient(_ id: String, _ phone: String, _ simulate: String, variables: [String: JSONValue] = [:]) -> JSONValue {
        [
            "id": .string(id), "phone_number": .string(phone), "simulate": .string(simulate),
            "conversation_initiation_client_data": ["dynamic_variables": .object(variables)],
        ]
    }

    static let boundary = "switchboard-test-boundary"

    /// A multipart/form-data body: (name, filename, value) per part.
    static func multipart(_ parts: [(String, String?, String)]) -> String {
        var body = ""
        for (name, filename, value) in parts {
            body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\""
            if let filename { body += "; filename=\"\(filename)\"\r\nContent-Type: text/csv" }
            body += "\r\n\r\n\(value)\r\n"
        }
        return body + "--\(boundary)--\r\n"
    }
}

extension Array where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for element in self { out.append(try await transform(element)) }
        return out
    }
}
