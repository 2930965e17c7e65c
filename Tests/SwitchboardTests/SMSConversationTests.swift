import Agents
import Foundation
import HTTPTypes
import SwitchboardAPI
import SwitchboardCore
import SwitchboardServer
import Testing

/// The issue's end-to-end SMS conversation on the simulator, with a fake OpenAI-compatible
/// model: starting message with variables, a reply answered with the thread's history,
/// extraction, drips cancelled by the reply, STOP honoured with one confirmation, HELP, a
/// person taking over, and SMS → voice escalation.
@Suite struct SMSConversationTests {
    static let ann = "+15175550101"
    static let bob = "+15175550102"

    /// The model: answers by what the lead last said; extraction requests get JSON.
    static func model(_ call: FakeLLM.Call) -> JSONValue {
        if call.wantsJSON {
            let said = call.messages.last?["content"]?.stringValue ?? ""
            return FakeLLM.text(said.contains("5000")
                ? #"{"budget": "5000", "best_time": null, "lead_outcome": "qualified"}"#
                : #"{"budget": null, "best_time": null, "lead_outcome": "pending"}"#)
        }
        if call.lastRole == "tool" { return FakeLLM.text("Calling you now!") }
        if call.lastRole == "system" { return FakeLLM.text("Just checking in about solar.") }
        switch call.lastLead {
        case let said where said.contains("call me"): return FakeLLM.tool("start_voice_call", ["reason": "asked for a call"])
        case let said where said.contains("leave me alone"):
            return FakeLLM.tool("end_conversation", ["outcome": "dnc"], content: "Understood, no more messages.")
        default: return FakeLLM.text("Great, $5000 works for a starter system.")
        }
    }

    @Test(arguments: Backend.allCases) func aConversationFromStartToVoice(_ backend: Backend) async throws {
        let llm = FakeLLM(Self.model)
        try await FakeCarrier.serve(FakeLLM.router(llm)) { baseURL in
            let harness = Harness(backend) { $0.llm = LLMConfiguration(baseURL: baseURL + "/v1", apiKey: FakeLLM.apiKey, model: "test-model") }
            let key = try await harness.key()
            try await harness.run { client in
                let voiceAgent = try await client.agent(key: key)
                let number = try await client.number(key: key)
                let agent = try await client.post("/v1/agents", key: key, [
                    "agent_type": "sms", "agent_name": "Qualifier", "prompt": "You qualify solar leads for Acme.",
                    "starting_message": "Hi {'{'}{'{'}}first_name{'}'}{'}'}, interested in {{product}}?",
                    "extraction_fields": ["budget", ["name": "best_time", "description": "when to call"]],
                    "drip_schedule": [["delay_hours": 24, "type": "custom", "message": "Hi {{first_name}}, still interested?"],
                                      ["day": 3, "type": "ai"]],
                ])
                #expect(agent.status == .ok, "\(agent.text)")
                let smsAgent = try agent.decode(Components.Schemas.AgentResponse.self).value1
                #expect(agent["has_drip_schedule"] == true)  // an SMS agent's own field, beside the schema's
                let created = try await client.post("/v1/campaigns", key: key, [
                    "campaign_name": "Solar", "sms_agent_id": .string(smsAgent.agentId), "teli_sms_number": .string(String(number.dropFirst())),
                    "objective_prompt": "Find their budget.", "enable_sms_to_voice": true, "voice_agent_id": .string(voiceAgent),
                    "outbound_number": .string(number),
                    "contacts": [["phone_number": .string(Self.ann), "first_name": "Ann", "product": "solar"],
                                 ["phone_number": .string(Self.bob), "first_name": "Bob"], ["phone_number": "123"]],
                ])
                #expect(created.status == .ok, "\(created.text)")
                let started = try created.decode(Components.Schemas.SMSCampaignCreateResponse.self)
                #expect(started.contactsCount == 2)
                #expect(started.invalidLeadsCount == 1)
                #expect(created["details"]?["has_drips"] == true)  // `details` is free-form
                #expect(started.agentMode?.ai == true)
                let campaign = started.campaignId

                // The starting message, with both spellings of the variables filled in.
                let annThread = "/v1/sms/messages?campaign_id=\(campaign)&phone_number=\(Self.ann)"
                let first = try await client.eventually(annThread, key: key) { $0.message(0)?.status == .delivered }.message(0)
                #expect(first?.body == "Hi Ann, interested in solar?")
                #expect(first?.direction == .outbound)
                #expect(first?.status == .delivered)
                #expect(first?.from == number)

                // Ann replies: the agent answers with the thread's history and extracts her budget.
                let reply = try await client.post("/v1/simulator/inbound-sms", key: key,
                                                  ["from": .string(Self.ann), "to": .string(number), "body": "Yes! My budget is $5000"])
                #expect(reply["effect"] == "message")  // the simulator's answer (not in the seeds)
                try await client.eventually(annThread, key: key) { $0.thread.count == 3 }
                let thread = try await client.get(annThread, key: key).thread
                #expect(thread.map(\.direction) == [.outbound, .inbound, .outbound])
                #expect(thread.last?.body == "Great, $5000 works for a starter system.")
                let asked = await llm.calls.first { !$0.wantsJSON }
                #expect(asked?.system.contains("Find their budget.") == true)
                #expect(asked?.system.contains("first_name: Ann") == true)
                #expect(asked?.tools.sorted() == ["end_conversation", "schedule_callback", "start_voice_call"])
                #expect(asked?.messages.dropFirst().map { $0["role"]?.stringValue ?? "" } == ["assistant", "user"])
                let extraction = try await client.eventually("/v1/sms/extractions/phone/\(Self.ann)", key: key) {
                    $0["extracted_fields"]?["budget"] == "5000"
                }
                #expect(extraction.extractions?.leadOutcome == .qualified)

                // A day later Bob gets his drip; Ann, who replied, does not.
                harness.clock.advance(by: 25 * 3_600)
                let bobThread = "/v1/sms/messages?campaign_id=\(campaign)&phone_number=\(Self.bob)"
                try await client.eventually(bobThread, key: key) { $0.thread.count == 2 }
                #expect(try await client.get(bobThread, key: key).message(1)?.body == "Hi Bob, still interested?")

                // Bob says STOP: suppressed at once, one confirmation, no more drips.
                let stop = try await client.post("/v1/simulator/inbound-sms", key: key, ["from": .string(Self.bob), "to": .string(number), "body": "Stop"])
                #expect(stop["effect"] == "opted_out")
                let suppressions = try await client.get("/v1/suppressions", key: key)
                #expect(suppressions.text.contains(Self.bob))
                try await client.eventually(bobThread, key: key) { $0.message(3)?.status == .delivered }
                _ = try await client.post("/v1/simulator/inbound-sms", key: key, ["from": .string(Self.bob), "to": .string(number), "body": "STOP"])
                harness.clock.advance(by: 3 * 86_400)
                try await harness.pass("sms")
                let bobMessages = try await client.get(bobThread, key: key).thread
                #expect(bobMessages.filter { $0.direction == .outbound }.map(\.kind) == [.start, .drip, .system])
                #expect(bobMessages.last { $0.kind == .system }?.body.contains("unsubscribed") == true)
                #expect(try await client.get("/v1/sms/extractions/phone/\(Self.bob)", key: key).extractions?.leadOutcome == .dnc)
                // A person cannot text him either.
                let refused = try await client.post("/v1/sms/send", key: key, ["to": .string(Self.bob), "message": "hello?"])
                #expect(refused.status == .conflict)

                // Ann asks for a call: the voice agent calls her from the outbound number.
                _ = try await client.post("/v1/simulator/inbound-sms", key: key,
                                          ["from": .string(Self.ann), "to": .string(number), "body": "Can you call me now?"])
                let calls = try await client.eventually("/v1/voice/calls?campaign_id=\(campaign)_voice", key: key) {
                    (try? $0.decode(Components.Schemas.CallList.self))?.calls.first?.callStatus == .ended
                }.decode(Components.Schemas.CallList.self)
                #expect(calls.calls.first?.toNumber == Self.ann)
                #expect(calls.calls.first?.voiceAgentId == voiceAgent)
                let transferred = try await client.eventually("/v1/sms/extractions/phone/\(Self.ann)", key: key) {
                    $0.extractions?.extractions.first?.voiceCallId != nil
                }
                #expect(transferred.extractions?.leadOutcome == .transferred)
                try await client.eventually(annThread, key: key) { $0.thread.last?.body == "Calling you now!" }

                // HELP is answered; then a person takes over and the agent stays quiet.
                _ = try await client.post("/v1/simulator/inbound-sms", key: key, ["from": .string(Self.ann), "to": .string(number), "body": "help"])
                try await client.eventually(annThread, key: key) { $0.thread.last?.kind == .system }
                let human = try await client.post("/v1/sms/send", key: key, ["to": .string(Self.ann), "message": "This is Dana from Acme."])
                #expect(human.status == .ok, "\(human.text)")
                let modelCalls = await llm.calls.count
                _ = try await client.post("/v1/simulator/inbound-sms", key: key, ["from": .string(Self.ann), "to": .string(number), "body": "Hi Dana"])
                try await client.eventually(annThread, key: key) { $0.thread.last?.body == "Hi Dana" }
                try await harness.pass("sms")
                #expect(await llm.calls.count == modelCalls)
                #expect(try await client.get(annThread, key: key).thread.last?.body == "Hi Dana")

                // Teli's list: user_id is required; every field of the seed is there.
                let missing = try await client.get("/v1/organizations/org_a/campaigns", key: key)
                #expect(missing.status == .badRequest)
                #expect(missing.error == "user_id required")
                let listed = try await client.get("/v1/organizations/org_a/campaigns?user_id=user_a", key: key)
                #expect(try listed.decode(Components.Schemas.SMSCampaignList.self).count == 1)
                // Every field of the seed's campaign object, by name: the echo is free-form.
                let item = listed["campaigns"]?[0]
                for field in ["campaign_id", "campaign_id_pk", "campaign_name", "campaign_type", "status", "campaign_create_time", "sms_agent_id",
                              "teli_sms_number", "starting_message", "objective_prompt", "organization_id", "user_id", "created_by_user_id",
                              "tenant_id", "enable_sms_to_voice", "voice_agent_id", "outbound_number", "drip_enabled", "drip_schedule",
                              "drip_start_datetime", "mms_media_url", "followup_interval", "use_jit_queue", "dry_run", "enable_number_validation",
                              "extraction_fields", "custom_follow_up"] {
                    #expect(item?[field] != nil, "missing \(field)")
                }
                #expect(try listed.decode(Components.Schemas.SMSCampaignList.self).campaigns.first?.status == .completed)
                #expect(try listed.decode(Components.Schemas.SMSCampaignList.self).poweredBy == "Teli")
            }
        }
    }

    /// A model that says to leave the lead alone: suppressed like a STOP, and the agent's
    /// farewell is the one text that still goes.
    @Test func theAgentHearsAnOptOutInOtherWords() async throws {
        let llm = FakeLLM(Self.model)
        try await FakeCarrier.serve(FakeLLM.router(llm)) { baseURL in
            let harness = Harness(.sqlite) { $0.llm = LLMConfiguration(baseURL: baseURL + "/v1", apiKey: FakeLLM.apiKey, model: "test-model") }
            let key = try await harness.key()
            try await harness.run { client in
                let number = try await client.number(key: key)
                let campaign = try await client.smsCampaign(key: key, number: number, contacts: [Self.ann])
                let thread = "/v1/sms/messages?campaign_id=\(campaign)&phone_number=\(Self.ann)"
                try await client.eventually(thread, key: key) { $0.thread.count == 1 }
                _ = try await client.post("/v1/simulator/inbound-sms", key: key,
                                          ["from": .string(Self.ann), "to": .string(number), "body": "please leave me alone"])
                let done = try await client.eventually(thread, key: key) { $0.message(2)?.status == .delivered }
                #expect(done.message(2)?.body == "Understood, no more messages.")
                #expect(try await client.get("/v1/suppressions", key: key).text.contains(Self.ann))
                #expect(try await client.get("/v1/sms/extractions/phone/\(Self.ann)", key: key).extractions?.leadOutcome == .dnc)
            }
        }
    }

    /// No model configured: scripted texts only, replies kept for a person, and the campaign
    /// says so.
    @Test func withoutAModelOnlyScriptedTextsGo() async throws {
        let harness = Harness(.sqlite)
        let key = try await harness.key()
        try await harness.run { client in
            let number = try await client.number(key: key)
            let campaign = try await client.smsCampaign(key: key, number: number, contacts: [Self.ann, Self.bob],
                                                        drips: [["delay_hours": 1, "type": "ai"], ["delay_hours": 2, "type": "custom", "message": "Last note, {{first_name}}."]])
            let status = try await client.get("/v1/campaigns/\(campaign)", key: key)
            let mode = try status.decode(Components.Schemas.SMSCampaignDetail.self).value2.agentMode
            #expect(mode?.ai == false)
            #expect(mode?.notice?.contains("SWITCHBOARD_LLM_BASE_URL") == true)
            let annThread = "/v1/sms/messages?campaign_id=\(campaign)&phone_number=\(Self.ann)"
            try await client.eventually(annThread, key: key) { $0.thread.count == 1 }
            _ = try await client.post("/v1/simulator/inbound-sms", key: key, ["from": .string(Self.ann), "to": .string(number), "body": "Who is this?"])
            harness.clock.advance(by: 3 * 3_600)
            let bobThread = "/v1/sms/messages?campaign_id=\(campaign)&phone_number=\(Self.bob)"
            // The AI drip is skipped (no model, no custom_follow_up); the custom one goes.
            try await client.eventually(bobThread, key: key) { $0.thread.count == 2 }
            #expect(try await client.get(bobThread, key: key).message(1)?.body == "Last note, Bob.")
            try await harness.pass("sms")
            let ann = try await client.get(annThread, key: key).thread
            #expect(ann.map(\.direction) == [.outbound, .inbound])
            let done = try await client.eventually("/v1/campaigns/\(campaign)", key: key) { $0.smsCampaign?.value1.status == .completed }
            #expect(done.smsCampaign?.value2.progress?.additionalProperties["messages_inbound_received"] == 1)
        }
    }

    @Test func campaignsAreCheckedAndControlled() async throws {
        let harness = Harness(.sqlite)
        let key = try await harness.key()
        let admin = try await harness.key(user: "boss", admin: true)
        try await harness.run { client in
            let number = try await client.number(key: key, ["capabilities": ["voice"]])
            let textable = try await client.number(key: key)
            let agent = try await client.post("/v1/agents", key: key, ["agent_type": "sms", "agent_name": "A", "starting_message": "Hi"])
            let agentID = JSONValue.string(try agent.decode(Components.Schemas.AgentResponse.self).value1.agentId)
            func create(_ body: JSONValue) async throws -> Client.Reply { try await client.post("/v1/campaigns", key: key, body) }
            #expect(try await create(["teli_sms_number": .string(textable), "contacts": []]).error == "sms_agent_id required")
            #expect(try await create(["sms_agent_id": agentID, "teli_sms_number": .string(number), "contacts": []]).error
                == ("teli_sms_number \(number) is not sms capable"))
            #expect(try await create(["sms_agent_id": agentID, "teli_sms_number": .string(textable)]).error == "contacts array required")
            #expect(try await create(["sms_agent_id": agentID, "teli_sms_number": .string(textable), "contacts": [],
                                      "enable_sms_to_voice": true]).error == "voice_agent_id required when enable_sms_to_voice is true")
            #expect(try await create(["sms_agent_id": agentID, "teli_sms_number": .string(textable), "contacts": [],
                                      "drip_schedule": [["type": "ai"]]]).error == "drip_schedule[0] needs delay_hours (0 to 8760) or day (0 to 365)")

            // Updating an agent; its type stays.
            let updated = try await client.request(.patch, "/v1/agents/\(agentID.stringValue ?? "")", key: key,
                                                   json: ["starting_message": "Hello {{first_name}}", "agent_type": "sms"])
            #expect(updated["starting_message"] == "Hello {{first_name}}")  // an agent's own fields are echoed free-form
            let retyped = try await client.request(.patch, "/v1/agents/\(agentID.stringValue ?? "")", key: key, json: ["agent_type": "voice"])
            #expect(retyped.status == .badRequest)

            // SMS-capable numbers; the one a running campaign uses is assigned.
            let campaign = try await client.smsCampaign(key: key, number: textable, contacts: [Self.ann],
                                                        drips: [["delay_hours": 1, "type": "custom", "message": "Again"]])
            #expect(try await client.get("/v1/sms/phone-numbers", key: key).json.arrayItems?.count == 0)
            let all = try await client.get("/v1/sms/phone-numbers?include_assigned=true", key: key).decode([Components.Schemas.SMSPhoneNumber].self)
            #expect(all.map(\.phoneNumber) == [textable])
            #expect(all.first?.isAvailable == false)

            // Paused, the drip waits; resumed, it goes; ended, nothing more.
            let thread = "/v1/sms/messages?campaign_id=\(campaign)"
            try await client.eventually(thread, key: key) { $0.thread.count == 1 }
            #expect(try await client.post("/v1/campaigns/\(campaign)/pause", key: key, [:]).decode(Components.Schemas.CampaignAction.self).status == "PAUSED")
            harness.clock.advance(by: 2 * 3_600)
            try await harness.pass("sms")
            #expect(try await client.get(thread, key: key).thread.count == 1)
            #expect(try await client.post("/v1/campaigns/\(campaign)/resume", key: key, [:]).decode(Components.Schemas.CampaignAction.self).status == "ACTIVE")
            try await client.eventually(thread, key: key) { $0.thread.count == 2 }
            #expect(try await client.post("/v1/campaigns/\(campaign)/end", key: key, [:]).decode(Components.Schemas.CampaignAction.self).status == "ENDED")
            #expect(try await client.post("/v1/campaigns/\(campaign)/resume", key: key, [:]).status == .conflict)

            // Lists: member keys see their own; is_admin needs an admin key.
            #expect(try await client.get("/v1/organizations/org_a/campaigns?user_id=user_a&is_admin=true", key: key).status == .forbidden)
            #expect(try await client.get("/v1/organizations/org_a/campaigns?user_id=boss&is_admin=true", key: admin)
                .decode(Components.Schemas.SMSCampaignList.self).count == 1)
            #expect(try await client.get("/v1/organizations/org_b/campaigns?user_id=user_a", key: key).status == .forbidden)
        }
    }

    /// Texts from one number go out at its `calls_per_second`: one a second here.
    @Test func textsArePacedPerNumber() async throws {
        let harness = Harness(.sqlite)
        let key = try await harness.key()
        try await harness.run { client in
            let number = try await client.number(key: key, ["calls_per_second": 1])
            let contacts = (1...3).map { "+1517555020\($0)" }
            let campaign = try await client.smsCampaign(key: key, number: number, contacts: contacts)
            let thread = "/v1/sms/messages?campaign_id=\(campaign)"
            func delivered() async throws -> Int {
                try await client.get(thread, key: key).thread.filter { $0.status == .delivered }.count
            }
            try await client.eventually(thread, key: key) { $0.message(0)?.status == .delivered }
            try await harness.pass("sms")
            #expect(try await delivered() == 1)
            // Not completed while texts wait in the outbox.
            #expect(try await client.get("/v1/campaigns/\(campaign)", key: key).smsCampaign?.value1.status == .active)
            for expected in 2...3 {
                harness.clock.advance(by: 1)
                try await client.eventually(thread, key: key) { reply in
                    reply.thread.filter { $0.status == .delivered }.count == expected
                }
                try await harness.pass("sms")
                #expect(try await delivered() == expected)
            }
            try await client.eventually("/v1/campaigns/\(campaign)", key: key) { $0.smsCampaign?.value1.status == .completed }
        }
    }

    @Test func templatesTakeBothSpellings() {
        let fields: [String: JSONValue] = ["first_name": "Ann", "last_name": "Lee", "age": 42]
        #expect(Template.render("Hi {{first_name}} {{ last_name }}!", fields: fields) == "Hi Ann Lee!")
        #expect(Template.render("Hi {'{'}{'{'}}first_name{'}'}{'}'}, {'{'}{'{'}}last_name{'}'}{'}'}}.", fields: fields) == "Hi Ann, Lee.")
        #expect(Template.render("{{age}} / {{missing}} / {{ }} / {{", fields: fields) == "42 /  / {{ }} / {{")
    }
}

extension Client {
    /// An SMS agent and a campaign texting `contacts` from `number`.
    func smsCampaign(key: String, number: String, contacts: [String], drips: JSONValue = []) async throws -> String {
        let agent = try await post("/v1/agents", key: key, [
            "agent_type": "sms", "agent_name": "Texter", "prompt": "Be brief.", "starting_message": "Hi {{first_name}}!",
            "drip_schedule": drips,
        ])
        let created = try await post("/v1/campaigns", key: key, [
            "campaign_name": "Texts", "sms_agent_id": .string(try agent.decode(Components.Schemas.AgentResponse.self).value1.agentId),
            "teli_sms_number": .string(number),
            "contacts": .array(contacts.map { ["phone_number": .string($0), "first_name": $0 == SMSConversationTests.ann ? "Ann" : "Bob"] }),
        ])
        #expect(created.status == .ok, "\(created.text)")
        return try created.decode(Components.Schemas.SMSCampaignCreateResponse.self).campaignId
    }
}
