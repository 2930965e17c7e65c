import Foundation
import HTTPTypes
import Store
import SwitchboardAPI
import SwitchboardCore
import Testing
@testable import SwitchboardServer

/// CSV exports: failed numbers and calls, streamed, chosen by `format=csv` or `Accept: text/csv`,
/// with what a tenant's data could make a spreadsheet run neutralised.
@Suite struct ExportTests {
    @Test func cellsASpreadsheetWouldRunAreNeutralised() {
        #expect(CSVCell.escape("=HYPERLINK(\"http://x\",\"y\")") == "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"")
        #expect(CSVCell.escape("@SUM(A1)") == "\"'@SUM(A1)\"")
        #expect(CSVCell.escape("-2+3+cmd|' /C calc'!A0") == "\"'-2+3+cmd|' /C calc'!A0\"")
        #expect(CSVCell.escape("+1+cmd") == "\"'+1+cmd\"")
        #expect(CSVCell.escape("\tx") == "\"'\tx\"")
        // Plain numbers call nothing and stay as they are: phone numbers keep their `+`.
        #expect(CSVCell.escape("+15551234567") == "+15551234567")
        #expect(CSVCell.escape("-3.5") == "-3.5")
        #expect(CSVCell.escape("a,b") == "\"a,b\"")
        #expect(CSVCell.escape("she said \"hi\"\nthen left") == "\"she said \"\"hi\"\"\nthen left\"")
        #expect(CSVCell.escape("plain") == "plain")
        #expect(CSVCell.line(["a", "=1"]) == "a,\"'=1\"\r\n")
    }

    @Test(arguments: Backend.allCases) func failedNumbersAndCallsAsCSV(_ backend: Backend) async throws {
        let harness = Harness(backend)
        try await harness.runWithAgentAndNumber { client, key, agent, number in
            let patch = try await client.request(.patch, "/v1/agents/\(agent)", key: key, json: ["extraction_fields": ["budget", "note"]])
            #expect(patch.status == .ok, "\(patch.text)")
            let campaign = try await client.campaign(key: key, agent: agent, number: number, leads: [
                ["phone_number": "+15550000001", "simulate": "completed"],
                ["phone_number": "+15550000002", "simulate": "busy"],
                ["phone_number": "+15550000003", "simulate": "no_answer"],
            ])
            try await client.eventually("/v1/voice/campaigns/\(campaign)", key: key) { $0.status_ == "completed" }

            let failed = try await client.get("/v1/voice/campaigns/\(campaign)/failed-numbers?format=csv", key: key)
            #expect(failed.status == .ok)
            #expect(failed.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(failed.headers[.contentDisposition] == "attachment; filename=\"\(campaign)-failed-numbers.csv\"")
            let lines = failed.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(lines.first == "phone_number,failure_reason,call_timestamp,call_id,not_called_reason,retry_scheduled,next_attempt_at")
            #expect(lines.dropFirst().map { $0.split(separator: ",").prefix(2).joined(separator: ",") } == ["+15550000002,busy", "+15550000003,no_answer"])
            // Asked for by Accept as well; an unknown format is refused.
            var accept = HTTPFields()
            accept[.accept] = "text/csv"
            #expect(try await client.request(.get, "/v1/voice/campaigns/\(campaign)/failed-numbers", key: key, headers: accept).text == failed.text)
            #expect(try await client.get("/v1/voice/campaigns/\(campaign)/failed-numbers?format=xls", key: key).status == .badRequest)

            // What an agent extracted is a tenant's words: a formula in it is neutralised.
            let answered = try #require(try await client.get("/v1/voice/calls?campaign_id=\(campaign)", key: key).calls.first { $0.toNumber == "+15550000001" })
            try await harness.withStore { store in
                try await store.saveCallConversation(callID: answered.callId, transcript: [],
                                                     extracted: ["budget": "5000", "note": "=HYPERLINK(\"http://evil\",\"x\")"])
            }
            let calls = try await client.get("/v1/voice/calls?campaign_id=\(campaign)&format=csv", key: key)
            #expect(calls.headers[.contentType] == "text/csv; charset=utf-8")
            let rows = calls.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(rows.first == "call_id,campaign_id,direction,from_number,to_number,call_status,outcome,attempts,duration_sec,started_at,ended_at,detail,summary,sentiment,successful,recording_url,budget,note")
            #expect(rows.count == 4)
            let row = try #require(rows.first { $0.hasPrefix(answered.callId) })
            #expect(row.hasSuffix(",5000,\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\""), "\(row)")
            #expect(row.contains(",outbound,\(number),+15550000001,ended,completed,1,"), "\(row)")
            // Without a campaign, what was extracted is one JSON column; another organization exports nothing of ours.
            let all = try await client.get("/v1/voice/calls?format=csv", key: key).text
            #expect(all.hasPrefix("call_id,") && all.contains(",extracted_fields\r\n"))
            let other = try await harness.key(organization: "org_b", tenant: "tenant_b", user: "user_b", admin: true)
            #expect(try await client.get("/v1/voice/calls?format=csv", key: other).text.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 1)
        }
    }

    /// A batch's recipients and an SMS campaign's texts, as CSV.
    @Test func batchRecipientsAndTextsAsCSV() async throws {
        let harness = Harness(.sqlite)
        try await harness.runWithAgentAndNumber { client, key, agent, number in
            func lines(_ reply: Client.Reply) -> [String] { reply.text.components(separatedBy: "\r\n").filter { !$0.isEmpty } }
            let submitted = try await client.post("\(BatchCallingTests.base)/submit", key: key, [
                "call_name": "Export", "agent_id": .string(agent), "agent_phone_number_id": .string(number),
                "calling_hours": ["start": "00:00", "end": "24:00"],
                "recipients": [
                    BatchCallingTests.recipient("r-1", "+15550000001", "completed", variables: ["first_name": "Ana"]),
                    BatchCallingTests.recipient("=r-2", "+15550000002", "busy"),
                ],
            ])
            #expect(submitted.status == .ok, "\(submitted.text)")
            let batch = submitted["id"]?.stringValue ?? ""
            try await client.eventually("\(BatchCallingTests.base)/\(batch)", key: key) { $0["status"]?.stringValue == "completed" }
            let recipients = try await client.get("\(BatchCallingTests.base)/\(batch)?format=csv", key: key)
            #expect(recipients.headers[.contentType] == "text/csv; charset=utf-8")
            let rows = lines(recipients)
            #expect(rows.first == "id,phone_number,status,outcome,attempts,conversation_id,updated_at_unix,conversation_initiation_client_data")
            #expect(rows.count == 3)
            #expect(rows.contains { $0.hasPrefix("r-1,+15550000001,completed,completed,1,call_") && $0.hasSuffix(#","{""dynamic_variables"":{""first_name"":""Ana""}}""#) },
                    "\(rows)")
            // A recipient id is the client's words: a formula in it is neutralised.
            #expect(rows.contains { $0.hasPrefix("\"'=r-2\",+15550000002,failed,busy,1,") }, "\(rows)")
            #expect(try await client.get("\(BatchCallingTests.base)/\(batch)?format=xls", key: key).status == .unprocessableContent)

            let texts = try await client.smsCampaign(key: key, number: number, contacts: [SMSConversationTests.ann])
            try await client.eventually("/v1/sms/messages?campaign_id=\(texts)", key: key) { $0["count"] == 1 }
            let csv = try await client.get("/v1/sms/messages?campaign_id=\(texts)&format=csv", key: key)
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            let messages = lines(csv)
            #expect(messages.first == "message_id,campaign_id,conversation_id,direction,from,to,body,media_url,kind,status,error,created_at,sent_at")
            #expect(messages.count == 2 && messages[1].contains(",outbound,\(number),\(SMSConversationTests.ann),Hi Ann!,"), "\(messages)")
            #expect(try await client.get("/v1/sms/messages?campaign_id=\(texts)&format=xls", key: key).status == .badRequest)
        }
    }
}
