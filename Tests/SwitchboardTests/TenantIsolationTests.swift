import Foundation
import HTTPTypes
import Logging
import Store
import SwitchboardAPI
import SwitchboardCore
import SwitchboardServer
import Testing

/// Trust between tenants: another organization's ids, escalations and conversations stay out
/// of reach, members act only for themselves, and a stored idempotent response goes only to
/// the key that made it. Each test plays the hostile or careless tenant step by step.
@Suite struct TenantIsolationTests {
    static let ann = "+15175550101"

    @Test(arguments: Backend.allCases) func clientChosenIdsAreEachOrganizationsOwn(_ backend: Backend) async throws {
        let harness = Harness(backend)
        let a = try await harness.key()
        let b = try await harness.key(organization: "org_b", user: "user_b")
        try await harness.run { client in
            // Both organizations use the same ids for agents, voice and SMS campaigns.
            for key in [a, b] { #expect(try await client.agent(key: key, id: "agent_same") == "agent_same") }
            let numberA = try await client.number(key: a)
            let numberB = try await client.number(key: b)
            let first = try await client.campaign(key: a, agent: "agent_same", number: numberA, leads: [["phone_number": "+15550000001"]],
                                                  ["campaign_id": "same"])
            let second = try await client.campaign(key: b, agent: "agent_same", number: numberB,
                                                   leads: [["phone_number": "+15550000002"], ["phone_number": "+15550000003"]], ["campaign_id": "same"])
            #expect(first == "same" && second == "same")
            // Each sees its own; a second use within one organization is still a conflict.
            #expect(try await client.campaignStatus("same", key: a).campaign?.value1.contactsCount == 1)
            #expect(try await client.campaignStatus("same", key: b).campaign?.value1.contactsCount == 2)
            let again = try await client.post("/v1/voice/campaigns", key: a, [
                "campaign_id": "same", "leads": [], "voice_agent_id": "agent_same", "agent_outbound_number": .string(numberA),
            ])
            #expect(again.status == .conflict)
            #expect(again.error == "campaign_id same already exists")
            try await client.eventually("/v1/voice/calls?campaign_id=same", key: b) { $0.calls.count == 2 }
            let callsA = try await client.eventually("/v1/voice/calls?campaign_id=same", key: a) { $0.calls.count == 1 }.calls
            #expect(callsA.first?.toNumber == "+15550000001")
            #expect(callsA.first?.campaignId == "same")

            for key in [a, b] {
                let texts = try await client.post("/v1/agents", key: key, ["agent_id": "texter", "agent_type": "sms", "agent_name": "T",
                                                                           "starting_message": "Hi"])
                #expect(texts.status == .ok, "\(texts.text)")
                let sms = try await client.post("/v1/campaigns", key: key, [
                    "campaign_id": "sms_same", "sms_agent_id": "texter", "teli_sms_number": .string(key == a ? numberA : numberB),
                    "contacts": [["phone_number": .string(Self.ann)]], "calling_hours": ["start": "00:00", "end": "24:00"],
                ])
                #expect(sms.status == .ok, "\(sms.text)")
                #expect(sms["campaign_id"] == "sms_same")
            }
            #expect(try await client.get("/v1/campaigns/sms_same", key: b)["teli_sms_number"] == .string(numberB))
        }
    }

    /// The model asks for a call as soon as the lead says "call me".
    static func model(_ call: FakeLLM.Call) -> JSONValue {
        if call.wantsJSON { return FakeLLM.text(#"{"lead_outcome": "pending"}"#) }
        if call.lastRole == "tool" { return FakeLLM.text("Calling you now!") }
        return call.lastLead.contains("call me") ? FakeLLM.tool("start_voice_call", ["reason": "asked for a call"]) : FakeLLM.text("Sure.")
    }

    @Test func escalatedCallsStayInTheirOrganizationAndReadOnlyTheirThread() async throws {
        let llm = FakeLLM(Self.model)
        try await FakeCarrier.serve(FakeLLM.router(llm)) { baseURL in
            let harness = Harness(.sqlite) { $0.llm = LLMConfiguration(baseURL: baseURL + "/v1", apiKey: FakeLLM.apiKey, model: "test") }
            let a = try await harness.key()
            let b = try await harness.key(organization: "org_b", user: "user_b")
            try await harness.run { client in
                // B squats the name A's companion campaign would have had; so does A itself.
                let agentB = try await client.agent(key: b)
                let numberB = try await client.number(key: b)
                _ = try await client.campaign(key: b, agent: agentB, number: numberB, leads: [], ["campaign_id": "solar_voice"])
                let voiceAgent = try await client.agent(key: a)
                let number = try await client.number(key: a)
                _ = try await client.campaign(key: a, agent: voiceAgent, number: number, leads: [], ["campaign_id": "solar_voice"])

                let texter = try await client.post("/v1/agents", key: a, ["agent_type": "sms", "agent_name": "Q", "starting_message": "Hi!"])
                let created = try await client.post("/v1/campaigns", key: a, [
                    "campaign_id": "solar", "sms_agent_id": texter["agent_id"] ?? nil, "teli_sms_number": .string(number),
                    "enable_sms_to_voice": true, "voice_agent_id": .string(voiceAgent), "outbound_number": .string(number),
                    "calling_hours": ["start": "07:00", "end": "22:00", "timezone": "UTC"],
                    "contacts": [["phone_number": .string(Self.ann), "first_name": "Ann"]],
                ])
                #expect(created.status == .ok, "\(created.text)")
                let thread = "/v1/sms/messages?campaign_id=solar&phone_number=\(Self.ann)"
                try await client.eventually(thread, key: a) { $0.thread.count == 1 }
                _ = try await client.post("/v1/simulator/inbound-sms", key: a, ["from": .string(Self.ann), "to": .string(number), "body": "please call me"])
                let escalated = try await client.eventually("/v1/sms/extractions/phone/\(Self.ann)", key: a) {
                    $0.extractions?.extractions.first?.voiceCallId != nil
                }
                let extraction = escalated.extractions?.extractions.first
                let companion = extraction?.voiceCampaignId ?? ""
                #expect(companion.hasPrefix("solar_voice_"))  // not A's own campaign of that name, nor B's
                let callID = extraction?.voiceCallId ?? ""
                let conversationID = Int64(extraction?.conversationId ?? "") ?? -1

                #expect(try await client.campaignStatus("solar_voice", key: b).campaign?.value1.contactsCount == 0)
                #expect(try await client.get("/v1/voice/calls?campaign_id=solar_voice", key: b).calls.isEmpty)
                #expect(try await client.campaignStatus("solar_voice", key: a).campaign?.value1.contactsCount == 0)
                let voice = try await client.campaignStatus(companion, key: a)
                #expect(voice.campaign?.value1.contactsCount == 1)
                #expect(voice.campaign?.value2.callingHours.start == "07:00")  // the SMS campaign's hours

                // B's lead names A's conversation in a field: its call's agent is told nothing of it.
                let leaked = try await client.campaign(key: b, agent: agentB, number: numberB, leads: [
                    ["phone_number": "+15550000009", "sms_conversation_id": .string("\(conversationID)")],
                ])
                let leakedCalls = try await client.eventually("/v1/voice/calls?campaign_id=\(leaked)", key: b) { $0.calls.count == 1 }
                let leakedCall = leakedCalls.calls.first?.callId ?? ""

                try await harness.withStore { store in
                    let escalatedAttempt = try #require(try await store.attempts(callID: callID).first)
                    let linked = try #require(try await store.callConversation(attemptID: escalatedAttempt.id))
                    #expect(linked.escalatedFrom == conversationID)
                    #expect(try await store.conversationMessages(conversationID, organizationID: "org_a").count >= 2)
                    #expect(try await store.conversationMessages(conversationID, organizationID: "org_b").isEmpty)
                    let named = try #require(try await store.attempts(callID: leakedCall).first)
                    #expect(try await store.callConversation(attemptID: named.id)?.escalatedFrom == nil)
                }
            }
        }
    }

    @Test func membersActOnlyForTheirOwnUser() async throws {
        let harness = Harness(.sqlite)
        let owner = try await harness.key()
        let other = try await harness.key(user: "user_b")
        let admin = try await harness.key(user: "boss", admin: true)
        try await harness.run { client in
            let number = try await client.number(key: owner)
            let campaign = try await client.smsCampaign(key: owner, number: number, contacts: [Self.ann])
            let thread = "/v1/sms/messages?phone_number=\(Self.ann)"
            try await client.eventually(thread, key: owner) { $0.thread.count == 1 }

            // Another member of the organization reads nothing of it and cannot take it over.
            #expect(try await client.get(thread, key: other).thread.isEmpty)
            #expect(try await client.get("/v1/sms/messages?campaign_id=\(campaign)", key: other).status == .forbidden)
            #expect(try await client.get("/v1/sms/extractions/phone/\(Self.ann)", key: other).status == .notFound)
            let borrowed = try await client.post("/v1/sms/send", key: other, ["to": .string(Self.ann), "from": .string(number), "message": "mine now"])
            #expect(borrowed.status == .badRequest)
            let ownNumber = try await client.number(key: other)
            let sent = try await client.post("/v1/sms/send", key: other, ["to": .string(Self.ann), "from": .string(ownNumber), "message": "hello"])
            #expect(sent.status == .ok, "\(sent.text)")
            #expect(try sent.decode(Components.Schemas.SMSSendResponse.self).sms?.conversationId == nil)
            let state = try await client.get("/v1/sms/extractions/phone/\(Self.ann)", key: owner).extractions?.extractions.first?.conversationState
            #expect(state != .human)

            // Nor build campaigns on the owner's agent or number.
            let voiceAgent = try await client.agent(key: owner)
            let smsAgent = try await client.get("/v1/campaigns/\(campaign)", key: owner)["sms_agent_id"] ?? .null
            let voice = try await client.post("/v1/voice/campaigns", key: other, [
                "leads": [], "voice_agent_id": .string(voiceAgent), "agent_outbound_number": .string(ownNumber),
            ])
            #expect(voice.status == .badRequest)
            #expect(voice.error?.hasPrefix("voice_agent_id") == true)
            let pool = try await client.post("/v1/voice/campaigns", key: other, [
                "leads": [], "voice_agent_id": .string(try await client.agent(key: other)), "agent_outbound_number": .string(number),
            ])
            #expect(pool.status == .badRequest)
            let texts = try await client.post("/v1/campaigns", key: other, [
                "sms_agent_id": smsAgent, "teli_sms_number": .string(ownNumber), "contacts": [],
            ])
            #expect(texts.status == .badRequest)
            let numberID = try await client.get("/v1/voice/phone-numbers", key: owner)["phone_numbers"]?[0]?["id"] ?? .null
            let batch = try await client.post("/v1/voiceai/batch-calling/submit", key: other, [
                "call_name": "x", "agent_id": .string(voiceAgent), "agent_phone_number_id": numberID,
                "recipients": [["phone_number": "+15550000001"]],
            ])
            #expect(batch.status == .unprocessableContent)

            // An admin sees the whole organization's threads.
            #expect(try await client.get(thread, key: admin).thread.count == 2)
        }
    }

    @Test func anIdempotentResponseIsReplayedOnlyToTheKeyThatMadeIt() async throws {
        let harness = Harness(.sqlite)
        let admin = try await harness.key(user: "boss", admin: true)
        let member = try await harness.key()
        try await harness.run { client in
            let body: JSONValue = ["url": "http://127.0.0.1:9/hook", "events": ["call.completed"]]
            let headers: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "create-hook-1"]
            let created = try await client.request(.post, "/v1/webhooks", key: admin, json: body, headers: headers)
            #expect(created.status == .ok)
            #expect(created["webhook"]?["secret"]?.stringValue?.isEmpty == false)
            // The member sends the very same request with the same key: it is authorized anew.
            let replayed = try await client.request(.post, "/v1/webhooks", key: member, json: body, headers: headers)
            #expect(replayed.status == .forbidden)
            #expect(replayed["webhook"] == nil)
            #expect(!replayed.text.contains("whsec_"))
            // The admin's own retry gets its response back.
            let again = try await client.request(.post, "/v1/webhooks", key: admin, json: body, headers: headers)
            #expect(again.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(again["webhook"]?["secret"] == created["webhook"]?["secret"])
        }
    }

    @Test func idsAndNamesWithControlCharactersAreRefused() async throws {
        let harness = Harness(.sqlite)
        let key = try await harness.key()
        try await harness.run { client in
            let agent = try await client.agent(key: key)
            let number = try await client.number(key: key)
            for id in ["a\nb", "a\u{0}b", "a/b", "a b", "x?y"] {
                let reply = try await client.post("/v1/voice/campaigns", key: key, [
                    "campaign_id": .string(id), "leads": [], "voice_agent_id": .string(agent), "agent_outbound_number": .string(number),
                ])
                #expect(reply.status == .badRequest, "\(id.debugDescription)")
                #expect(reply.error?.hasPrefix("campaign_id must not contain") == true)
            }
            let named = try await client.post("/v1/agents", key: key, ["agent_name": "Sales\nINFO forged line", "prompt": "x"])
            #expect(named.status == .badRequest)
            #expect(named.error == "agent_name must not contain control characters")
            #expect(try await client.post("/v1/agents", key: key, ["agent_id": "a/b", "agent_name": "A"]).status == .badRequest)
            // Free text keeps its newlines.
            #expect(try await client.post("/v1/agents", key: key, ["agent_name": "A", "prompt": "Line one.\nLine two."]).status == .ok)
        }
    }
}
